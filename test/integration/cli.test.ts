/**
 * The `scheduled-job` CLI as a user runs it: the real binary against the real stack, its output and exit codes for
 * trigger --wait, status, runs, rerun, cancel, and durable backfills (progress on a terminal, Ctrl-C detaching, attaching).
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { cli, cliOnTerminal } from '../support/cliProcess';
import { freshDay } from '../support/days';
import { createScratchDatabase } from '../support/scratchDatabase';
import { eventually, REPO, uniqueTag, useStackEnv } from '../support/stack';
import { startWorker, type WorkerProcess } from '../support/workerProcess';

useStackEnv({ JOBS_MODULE: path.join(REPO, 'test', 'support', 'jobs.ts') });

import { Client as PgClient } from 'pg';
import { daysBetween } from '../../domain/day';
import { migrations } from '../../db/migrations';
import { openRuntime, type Runtime } from '../../workers/runtime';

/** The first line of stdout is the run the command started, as one JSON object. */
const startedRun = (stdout: string) => JSON.parse(stdout.split('\n')[0]!) as { runId: string; workflowId: string; status: string; args?: unknown };
/** After it, `--wait` and `status` print the run's view as indented JSON. */
const finalView = (stdout: string) => JSON.parse(stdout.slice(stdout.indexOf('\n{') + 1)) as { status: string; attempt: number; error: string | null };
const statusView = (stdout: string) => JSON.parse(stdout) as { status: string; attempt: number };

function nextDays(n: number): string[] {
  const first = freshDay();
  const d = new Date(`${first}T00:00:00Z`);
  d.setUTCDate(d.getUTCDate() + n - 1);
  return daysBetween(first, d.toISOString().slice(0, 10));
}

describe('the scheduled-job CLI on the real stack', { timeout: 600_000 }, () => {
  let rt: Runtime;
  let worker: WorkerProcess;

  before(async () => {
    rt = await openRuntime();
    worker = await startWorker();
  });
  after(async () => {
    await worker?.stop();
    await rt?.close();
  });

  const rowsOf = async (workflowId: string) =>
    (await rt.ds.query(`SELECT run_id, status, args FROM job_runs WHERE workflow_id = $1 ORDER BY started_at, attempt`, [workflowId])) as {
      run_id: string;
      status: string;
      args: Record<string, unknown>;
    }[];

  test('trigger --wait and status: exit 0 for a success, 1 for a failure, 3 on the lock, 2 for an unknown job', async () => {
    const tag = uniqueTag('cli-ok');
    const ok = await cli(['trigger', 'test_steps', '--args', JSON.stringify({ steps: 2, stepMs: 100, tag }), '--wait']);
    assert.equal(ok.code, 0, ok.stderr);
    const run = startedRun(ok.stdout);
    assert.equal(run.workflowId, `test_steps/${tag}`);
    assert.equal(run.status, 'running');
    assert.equal(finalView(ok.stdout).status, 'succeeded');
    assert.match(ok.stderr, /succeeded attempt 1 .*"steps":2/, 'progress lines on stderr end with the success');
    const st = await cli(['status', 'test_steps', run.runId]);
    assert.equal(st.code, 0, st.stderr);
    assert.equal(statusView(st.stdout).status, 'succeeded');

    const bad = await cli(['trigger', 'test_flaky_retries_1', '--args', JSON.stringify({ failAttempts: 5, tag: uniqueTag('cli-fail') }), '--wait']);
    assert.equal(bad.code, 1, bad.stderr);
    const failedView = finalView(bad.stdout);
    assert.equal(failedView.status, 'failed');
    assert.equal(failedView.attempt, 2, 'one whole-job retry, then failed');
    const failedStatus = await cli(['status', 'test_flaky_retries_1', startedRun(bad.stdout).runId]);
    assert.equal(failedStatus.code, 1);
    assert.equal(statusView(failedStatus.stdout).status, 'failed');

    const holdTag = uniqueTag('cli-lock');
    const hold = await cli(['trigger', 'test_steps', '--args', JSON.stringify({ steps: 30, stepMs: 500, tag: holdTag })]);
    assert.equal(hold.code, 0, hold.stderr);
    const held = startedRun(hold.stdout);
    const again = await cli(['trigger', 'test_steps', '--args', JSON.stringify({ steps: 30, stepMs: 500, tag: holdTag })]);
    assert.equal(again.code, 3, again.stderr);
    assert.deepEqual(JSON.parse(again.stderr.trim()), { error: 'already_running', workflowId: held.workflowId, runId: held.runId });
    await rt.temporal.workflow.getHandle(held.workflowId).terminate('cli test: lock held long enough');

    const unknown = await cli(['trigger', 'no_such_job']);
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /^error: .*no_such_job/m);
    const noRun = await cli(['status', 'test_steps', randomUUID()]);
    assert.equal(noRun.code, 2, 'an unknown run is a usage error, like an unknown job');
    assert.match(noRun.stderr, /^error: no run [0-9a-f-]+ of job test_steps/m);
    assert.doesNotMatch(noRun.stderr, /\n\s+at /, 'no stack trace');
  });

  test('runs lists the newest runs first with their status; rerun starts the same arguments again', async () => {
    const tag = uniqueTag('cli-rerun');
    const first = await cli(['trigger', 'test_steps', '--args', JSON.stringify({ steps: 1, stepMs: 10, tag }), '--wait']);
    assert.equal(first.code, 0, first.stderr);
    const original = startedRun(first.stdout);

    const rerun = await cli(['rerun', 'test_steps', original.runId, '--wait']);
    assert.equal(rerun.code, 0, rerun.stderr);
    const again = startedRun(rerun.stdout);
    assert.notEqual(again.runId, original.runId);
    assert.equal(again.workflowId, original.workflowId, 'same arguments, same lock');
    assert.deepEqual(again.args, { steps: 1, stepMs: 10, tag });
    assert.equal(finalView(rerun.stdout).status, 'succeeded');
    const rows = await rowsOf(original.workflowId);
    assert.deepEqual(rows.map((r) => [r.run_id, r.status]), [[original.runId, 'succeeded'], [again.runId, 'succeeded']]);

    const failing = await cli(['trigger', 'test_flaky_retries_1', '--args', JSON.stringify({ failAttempts: 5, tag: uniqueTag('cli-rerun-fail') }), '--wait']);
    assert.equal(failing.code, 1);
    const failedRerun = await cli(['rerun', 'test_flaky_retries_1', startedRun(failing.stdout).runId, '--wait']);
    assert.equal(failedRerun.code, 1, 'a rerun that fails exits 1');
    assert.equal(finalView(failedRerun.stdout).status, 'failed');

    const list = await cli(['runs', 'test_steps', '--limit', '2']);
    assert.equal(list.code, 0, list.stderr);
    const tableRows = list.stdout.split('\n').filter((l) => /│ \d+ +│/.test(l));
    assert.equal(tableRows.length, 2, list.stdout);
    assert.ok(tableRows[0]!.includes(again.runId) && tableRows[1]!.includes(original.runId), `newest first:\n${list.stdout}`);
    for (const r of tableRows) assert.match(r, /│ 'succeeded' │/);
    const badLimit = await cli(['runs', 'test_steps', '--limit', '0']);
    assert.equal(badLimit.code, 1);
    assert.match(badLimit.stderr, /positive integer/);
  });

  test('reading commands never migrate: on an empty database they exit 1 naming `scheduled-job migrate`, which then migrates', async () => {
    const scratch = await createScratchDatabase(rt.env.DATABASE_URL, uniqueTag('cli-nomigrate'));
    try {
      const env = { DATABASE_URL: scratch.url };
      for (const args of [['status', 'test_steps', randomUUID()], ['runs', 'test_steps'], ['days', 'ingest_notification_views', '--from', '2024-05-01', '--to', '2024-05-02']]) {
        const r = await cli(args, 120_000, env);
        assert.equal(r.code, 1, `${args[0]}: ${r.stderr}`);
        assert.match(r.stderr, /relation "job_runs" does not exist: the database has no schema yet; run `scheduled-job migrate`/, args[0]);
      }
      const schema = new PgClient({ connectionString: scratch.url });
      await schema.connect();
      try {
        const count = async () => Number((await schema.query(`SELECT count(*) AS n FROM pg_tables WHERE schemaname = current_schema()`)).rows[0].n);
        assert.equal(await count(), 0, 'nothing created by the reading commands');
        const migrated = await cli(['migrate'], 120_000, env);
        assert.equal(migrated.code, 0, migrated.stderr);
        assert.equal((JSON.parse(migrated.stdout) as { applied: string[] }).applied.length, migrations.length, migrated.stdout);
        assert.ok((await count()) > 0);
        assert.deepEqual(JSON.parse((await cli(['migrate'], 120_000, env)).stdout), { applied: [] }, 'a second migrate has nothing to do');
        const unknown = await cli(['status', 'test_steps', 'no-such-run'], 120_000, env);
        assert.equal(unknown.code, 2, unknown.stderr);
        assert.match(unknown.stderr, /no run no-such-run of job test_steps/);
      } finally {
        await schema.end();
      }
    } finally {
      await scratch.drop();
    }
  });

  test('cancel stops a running run; status then says cancelled', async () => {
    const tag = uniqueTag('cli-cancel');
    const started = await cli(['trigger', 'test_steps', '--args', JSON.stringify({ steps: 120, stepMs: 500, tag })]);
    assert.equal(started.code, 0, started.stderr);
    const run = startedRun(started.stdout);
    await eventually('the run to report a step', async () => {
      const d = await rt.temporal.workflow.getHandle(run.workflowId).describe();
      const data = d.raw.pendingActivities?.[0]?.heartbeatDetails?.payloads?.[0]?.data;
      return data ? (JSON.parse(Buffer.from(data).toString()) as { step: number }).step >= 1 : undefined;
    });
    const cancel = await cli(['cancel', 'test_steps', run.runId]);
    assert.equal(cancel.code, 0, cancel.stderr);
    assert.deepEqual(JSON.parse(cancel.stdout.trim()), { runId: run.runId, status: 'cancelling' });
    const view = await eventually('status to leave running', async () => {
      const st = await cli(['status', 'test_steps', run.runId]);
      const v = statusView(st.stdout);
      return v.status !== 'running' ? { ...v, code: st.code } : undefined;
    }, 60_000, 1000);
    assert.equal(view.status, 'cancelled');
    assert.equal(view.code, 0, 'a cancelled run is not an error of the status command');
    const rows = await rowsOf(run.workflowId);
    assert.deepEqual(rows.map((r) => r.status), ['cancelled']);
    assert.equal((await rt.temporal.workflow.getHandle(run.workflowId).describe()).status.name, 'CANCELLED');
  });

  test('backfill: progress on a terminal; Ctrl-C detaches (exit 130) and it goes on; status --follow comes back to it (exit 0)', async () => {
    const days = nextDays(4);
    const id = `${days[0]}..${days[3]}`;
    const args = ['backfill', 'test_day_steps', '--from', days[0]!, '--to', days[3]!, '--concurrency', '1', '--args', JSON.stringify({ steps: 3, stepMs: 700 })];
    const term = cliOnTerminal(args);
    await eventually('the progress bar at 1/4 days', async () => /backfill \[[^\]]*\] 1\/4 days \| succeeded: 1/.test(term.screen()), 120_000, 200).catch(
      (err: Error) => {
        term.ctrlC();
        throw new Error(`${err.message}; the terminal showed:\n${term.screen()}`);
      },
    );
    term.ctrlC();
    const detached = await term.done;
    const screen = detached.stdout;
    assert.equal(detached.code, 130, `a detached backfill exits 130:\n${screen}`);
    assert.match(screen, new RegExp(`detached: backfill ${id} of test_day_steps goes on in Temporal`), screen);
    assert.match(screen, new RegExp(`scheduled-job backfill status test_day_steps ${id} --follow`), screen);
    assert.match(screen, new RegExp(`scheduled-job backfill cancel test_day_steps ${id}`), screen);
    // Nobody follows it now, and it goes on; `status --follow` comes back to it, whether it is still going or has ended.
    const followed = await cli(['backfill', 'status', 'test_day_steps', id, '--follow']);
    const both = `first:\n${screen}\nfollowed:\n${followed.stdout}\n${followed.stderr}`;
    assert.equal(followed.code, 0, both);
    assert.match(followed.stdout, new RegExp(`backfill ${id} completed: days: 4, succeeded: 4`), both);
    for (const day of days) {
      assert.match(followed.stdout, new RegExp(`'${day}' +│ 'succeeded'`), `${day} in:\n${both}`);
      const rows = await rowsOf(`test_day_steps/${day}`);
      assert.deepEqual(rows.map((r) => r.status), ['succeeded'], `${day}: one run in all\n${both}`);
    }
    // The same command once it has ended: a new backfill that skips every day.
    const again = await cli(args);
    assert.equal(again.code, 0, again.stdout + again.stderr);
    assert.match(again.stdout, /days: 4, skipped: 4/);
  });

  test('backfill: the same command attaches to a running backfill, which attaches to a day running under its lock', async () => {
    const days = nextDays(2);
    const id = `${days[0]}..${days[1]}`;
    // A run of the first day holds its lock until the test cancels it, so the backfill is sure to be running.
    const held = await rt.client.trigger('test_day_steps', { day: days[0], steps: 1000, stepMs: 500 });
    const args = ['backfill', 'test_day_steps', '--from', days[0]!, '--to', days[1]!, '--concurrency', '2', '--retries', '0', '--args', JSON.stringify({ steps: 2, stepMs: 100 })];
    const first = await cli([...args, '--detach']);
    assert.equal(first.code, 0, first.stderr);
    assert.equal((JSON.parse(first.stdout) as { attached: boolean }).attached, false);
    const follower = cliOnTerminal(args);
    await eventually('the same command to attach', async () => follower.screen().includes('"attached":true'), 60_000, 200);
    const status = await eventually('the backfill to wait for the held day', async () => {
      const st = await cli(['backfill', 'status', 'test_day_steps', id]);
      const view = JSON.parse(st.stdout) as { status: string; progress: { inFlight: { day: string; runId: string; attached: boolean }[]; counts: { succeeded: number } } | null };
      return view.progress?.counts.succeeded === 1 && view.progress.inFlight.length === 1 ? view : undefined;
    }, 60_000, 500);
    assert.equal(status.status, 'running');
    assert.deepEqual(status.progress!.inFlight, [{ day: days[0], runId: held.runId, attached: true }]);
    await rt.client.cancel('test_day_steps', held.runId);
    const followed = await follower.done;
    const out = followed.stdout;
    assert.equal(followed.code, 1, `a day that did not succeed: exit 1\n${out}`);
    assert.match(out, new RegExp(`a backfill of ${id} was running: following it`), out);
    assert.match(out, new RegExp(`backfill ${id} completed: days: 2, (succeeded: 1, cancelled: 1|cancelled: 1, succeeded: 1)`), out);
    assert.deepEqual((await rowsOf(`test_day_steps/${days[0]}`)).map((r) => r.run_id), [held.runId], 'the held day was not started again');
  });

  test('backfill: failing days exit 1, run again once and are named; input to fix exits 2 before anything starts', async () => {
    const days = nextDays(2);
    const tag = uniqueTag('cli-bf-fail');
    const r = await cli(['backfill', 'test_day_flaky', '--from', days[0]!, '--to', days[1]!, '--args', JSON.stringify({ failAttempts: 1, tag })]);
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stdout, /days: 2, failed: 2 \(2 runs again after a failure\)/);
    for (const day of days) assert.deepEqual((await rowsOf(`test_day_flaky/${day}`)).map((x) => x.status), ['failed', 'failed'], 'the first run and its one retry');
    const refused: [string[], RegExp][] = [
      [['backfill', 'test_day_flaky', '--from', '2024-02-30', '--to', days[1]!], /from: invalid day "2024-02-30": not a calendar date/],
      [['backfill', 'test_day_flaky', '--from', days[1]!, '--to', days[0]!], /is after to/],
      [['backfill', 'test_steps', '--from', days[0]!, '--to', days[1]!], /job test_steps declares no partition/],
      [['backfill', 'no_such_job', '--from', days[0]!, '--to', days[1]!], /unknown job no_such_job/],
      [['backfill', 'test_day_flaky', '--from', '2001-01-01', '--to', '2020-01-01'], /at most ten years/],
      [['backfill', 'test_day_flaky', '--from', days[0]!, '--to', days[1]!, '--args', JSON.stringify({ day: days[0] })], /args\.day: set by the backfill/],
      [['backfill', 'status', 'test_day_flaky', '1999-01-01..1999-01-02'], /no backfill 1999-01-01\.\.1999-01-02 of job test_day_flaky/],
      [['days', 'test_day_flaky', '--from', days[1]!, '--to', days[0]!], /is after to/],
      [['schedule', 'pause', 'test_day_flaky'], /job test_day_flaky declares no schedule/],
    ];
    for (const [args, message] of refused) {
      const res = await cli(args);
      assert.equal(res.code, 2, `${args.join(' ')}: ${res.stderr}`);
      assert.match(res.stderr, message, args.join(' '));
    }
    const workflows = await rt.temporal.workflow.count(`WorkflowId STARTS_WITH "backfill/test_day_flaky/2024-02-30" OR WorkflowId STARTS_WITH "backfill/test_steps/"`);
    assert.equal(workflows.count, 0, 'nothing started for input to fix');
  });
});
