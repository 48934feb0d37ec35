import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import { freshDay } from '../support/days';
import { eventually, REPO, stackEnv, uniqueTag, useStackEnv } from '../support/stack';
import { BIN } from '../support/cliProcess';
import { bundleWorkflowsForWorkers, startWorker, TEST_MODULES, type WorkerProcess } from '../support/workerProcess';

/*
 * Schedules and backfills under faults, on the chaos stack (ports + 100, scripts/chaos.sh): a schedule ticking every
 * 3 s while workers are kill -9'd and the Temporal server restarts, where each tick must have run exactly once
 * (started one run, or skipped only while its day's run held the lock); and a 10-day ingest backfill whose CLI and
 * both workers are kill -9'd, which must still end with every day run once and exactly the expected rows. A killed
 * worker is never restarted: a new process takes its place, as a supervisor would start one; the processes the
 * Temporal restart hits must ride it out.
 */
process.env['SCHEDULED_JOB_PORT_OFFSET'] ??= '100';
process.env['SCHEDULED_JOB_STACK_DIR'] ??= path.join(REPO, '.stack', 'chaos');
if (process.env['SCHEDULED_JOB_PORT_OFFSET'] === '0' && process.env['CHAOS_ALLOW_MAIN_STACK'] !== '1') {
  throw new Error('the schedule fault tests restart Temporal: run them on a stack of their own (SCHEDULED_JOB_PORT_OFFSET, scripts/chaos.sh)');
}
const STACK = stackEnv();
Object.assign(process.env, STACK);
const TICK_JOB = `chaos_tick_${uniqueTag('t').replace(/-/g, '_')}`.slice(0, 60);
const TICKS = 20;
useStackEnv({
  ...TEST_MODULES,
  TEMPORAL_TASK_QUEUE: STACK['TEMPORAL_TASK_QUEUE'] ?? 'scheduled-job',
  // A tick every 3 s, each running today's day for about 4 s: about every other tick meets the day's run.
  TEST_TICK_JOB: TICK_JOB,
  TEST_TICK_EVERY: '3s',
  TEST_TICK_STEPS: '4',
  TEST_TICK_STEP_MS: '1000',
});

import type { S3Client } from '@aws-sdk/client-s3';
import { createS3Client } from '../../connections/s3';
import { generateDay, type ExpectedOutcome } from '../../scripts/generate-day';
import { uploadGeneratedFiles } from '../../scripts/upload-day';
import { waitForBackfill } from '../../client/backfills';
import { openRuntime, type Runtime } from '../../workers/runtime';
import { scheduleIdOf } from '../../workflows/tickTypes';

const run = promisify(execFile);

describe('schedules and backfills under kill -9 and a Temporal restart (chaos stack)', { timeout: 1_800_000 }, () => {
  let rt: Runtime;
  let s3: S3Client;
  let dataDir: string;
  const workers: WorkerProcess[] = [];

  before(async () => {
    dataDir = mkdtempSync(path.join(tmpdir(), 'chaos-schedules-'));
    await bundleWorkflowsForWorkers();
    rt = await openRuntime();
    s3 = createS3Client(rt.env);
  });
  after(async () => {
    await rt?.temporal.schedule.getHandle(scheduleIdOf(TICK_JOB)).delete().catch(() => undefined);
    await Promise.all(workers.map((w) => w.stop()));
    s3?.destroy();
    await rt?.close();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  const live = () => workers.filter((w) => w.alive());
  /** kill -9 one live worker and start a new process in its place (the killed one is never restarted). */
  const killOne = async (which = 0): Promise<string> => {
    const victim = live()[which % live().length]!;
    await victim.kill9();
    workers.push(await startWorker());
    return `kill -9 worker ${victim.pid}`;
  };
  const restartTemporal = async (): Promise<string> => {
    const t0 = Date.now();
    await run('bash', [path.join(REPO, 'stack', 'stack.sh'), 'restart', 'temporal'], { env: process.env });
    return `Temporal restarted (${((Date.now() - t0) / 1000).toFixed(1)} s)`;
  };

  interface TickRow {
    scheduled_at: Date;
    outcome: string;
    partition_key: string;
    workflow_id: string;
    run_id: string;
    reason: string | null;
    tick_workflow_id: string;
    tick_run_id: string;
    recorded_at: Date;
  }
  const ticks = async () =>
    (await rt.ds.query(`SELECT * FROM schedule_ticks WHERE job_name = $1 ORDER BY scheduled_at, recorded_at`, [TICK_JOB])) as TickRow[];

  test(`${TICKS} ticks every 3 s while workers are kill -9'd three times and Temporal restarts once: each tick ran exactly once`, async () => {
    workers.push(await startWorker(), await startWorker());
    const faults: string[] = [];
    const counted = async (n: number) => eventually(`${n} ticks recorded`, async () => ((await ticks()).length >= n ? true : undefined), 180_000, 300);
    // The faults at fixed points of the count of ticks: three kills, one restart of the server between them.
    for (const [at, fault] of [
      [3, () => killOne(0)],
      [7, () => killOne(1)],
      [10, restartTemporal],
      [14, () => killOne(0)],
    ] as const) {
      await counted(at);
      faults.push(`after ${at} ticks: ${await fault()}`);
    }
    // The workers the restart hit rode it out: every worker started is still the process it was, but the three killed.
    assert.equal(live().length, 2, faults.join('; '));
    await counted(TICKS);
    const handle = rt.temporal.schedule.getHandle(scheduleIdOf(TICK_JOB));
    await handle.pause('the test has its ticks');
    const paused = await handle.describe();
    // Every tick the schedule fired has ended and recorded itself; then no run is left going.
    const fired = await eventually('every tick workflow to end', async () => {
      const all = [];
      for await (const wf of rt.temporal.workflow.list({ query: `TemporalScheduledById = "${scheduleIdOf(TICK_JOB)}"` })) all.push(wf);
      return all.length > 0 && all.every((w) => w.status.name !== 'RUNNING') ? all : undefined;
    }, 120_000, 1000);
    await eventually('every run of the ticks to end', async () => {
      const open = (await rt.ds.query(`SELECT count(*)::int AS n FROM job_runs WHERE job_name = $1 AND status = 'running'`, [TICK_JOB])) as { n: number }[];
      return open[0]!.n === 0;
    }, 120_000, 1000);

    const rows = await ticks();
    const runs = (await rt.ds.query(
      `SELECT workflow_id, first_run_id, count(*)::int AS attempts, bool_and(status = 'succeeded') AS succeeded, min(started_at) AS started_at, max(finished_at) AS finished_at
         FROM job_runs WHERE job_name = $1 GROUP BY workflow_id, first_run_id`,
      [TICK_JOB],
    )) as { workflow_id: string; first_run_id: string; attempts: number; succeeded: boolean }[];
    // The table, and what each tick's own history says about the lock at the moment it tried the start.
    console.log(`\nticks of ${scheduleIdOf(TICK_JOB)} (every 3 s): ${faults.join('; ')}`);
    console.log('| scheduled at | outcome | day | run | recorded after | note |');
    console.log('|---|---|---|---|---|---|');
    const problems: string[] = [];
    const byRun = new Map(runs.map((r) => [r.first_run_id, r]));
    for (const t of rows) {
      let note = '';
      if (t.outcome === 'skipped') {
        const history = await rt.temporal.workflow.getHandle(t.tick_workflow_id, t.tick_run_id).fetchHistory();
        const refused = history.events?.find((e) => e.startChildWorkflowExecutionFailedEventAttributes);
        const at = refused?.eventTime ? new Date(Number(refused.eventTime.seconds) * 1000 + Math.floor((refused.eventTime.nanos ?? 0) / 1e6)) : undefined;
        const holder = await rt.temporal.workflow.getHandle(t.workflow_id, t.run_id).describe();
        const heldThen = at !== undefined && holder.startTime <= at && (!holder.closeTime || at <= holder.closeTime);
        note = `held by ${t.run_id.slice(0, 13)}… (${holder.startTime.toISOString().slice(11, 19)}-${holder.closeTime?.toISOString().slice(11, 19)}) at ${at?.toISOString().slice(11, 23)}`;
        if (!heldThen) problems.push(`tick ${t.scheduled_at.toISOString()} skipped but its holder ${t.run_id} did not hold the lock at ${at?.toISOString()}`);
        if (!byRun.has(t.run_id)) problems.push(`tick ${t.scheduled_at.toISOString()} names a holder that is no run of the job: ${t.run_id}`);
      } else if (t.outcome === 'started') {
        const r = byRun.get(t.run_id);
        note = r ? `${r.attempts} attempt(s), ${r.succeeded ? 'succeeded' : 'NOT succeeded'}` : 'NO RUN';
        if (!r?.succeeded) problems.push(`tick ${t.scheduled_at.toISOString()} started ${t.run_id}, which ${r ? 'did not succeed' : 'is not in job_runs'}`);
      } else {
        problems.push(`tick ${t.scheduled_at.toISOString()} still ${t.outcome}`);
      }
      const delay = ((t.recorded_at.getTime() - t.scheduled_at.getTime()) / 1000).toFixed(1);
      console.log(`| ${t.scheduled_at.toISOString().slice(11, 19)} | ${t.outcome} | ${t.partition_key} | ${t.run_id.slice(0, 13)}… | ${delay} s | ${note} |`);
    }
    const started = rows.filter((t) => t.outcome === 'started');
    const skipped = rows.filter((t) => t.outcome === 'skipped');
    console.log(`${rows.length} ticks: ${started.length} started, ${skipped.length} skipped while the day's run held the lock; ${runs.length} runs in job_runs; schedule: ${paused.info.numActionsTaken} actions taken, ${paused.info.numActionsMissedCatchupWindow} missed, ${paused.info.numActionsSkippedOverlap} skipped by overlap\n`);

    // None lost: one row per 3-second step from the first tick to the last, and one per workflow the schedule fired.
    const times = rows.map((t) => t.scheduled_at.getTime());
    const steps = (times[times.length - 1]! - times[0]!) / 3000 + 1;
    assert.equal(new Set(times).size, rows.length, 'no nominal time recorded twice (none doubled)');
    assert.equal(rows.length, steps, `every 3-second step from the first tick to the last has its tick (none lost): ${rows.length} of ${steps}`);
    assert.ok(rows.length >= TICKS);
    assert.deepEqual(fired.map((w) => w.workflowId).sort(), rows.map((t) => t.tick_workflow_id).sort(), 'each tick workflow the schedule fired recorded exactly one row');
    assert.ok(fired.every((w) => w.status.name === 'COMPLETED'), fired.map((w) => `${w.workflowId} ${w.status.name}`).join(', '));
    // None doubled: the runs of the job are exactly the runs the started ticks name, one each.
    assert.deepEqual(runs.map((r) => r.first_run_id).sort(), started.map((t) => t.run_id).sort(), 'one run per started tick, and no run without its tick');
    assert.deepEqual(problems, []);
    assert.ok(skipped.length > 0 && started.length > 0, 'both outcomes happened (a run of about 4 s, a tick every 3 s)');
  });

  test("a 10-day backfill, concurrency 3: its CLI kill -9'd after the first day, both workers kill -9'd once each: every day once, exact rows, and days shows them", async () => {
    const job = 'test_ingest_fast_failover';
    const first = freshDay();
    const days = Array.from({ length: 10 }, (_, i) => new Date(Date.parse(`${first}T00:00:00Z`) + i * 86_400_000).toISOString().slice(0, 10));
    const expected = new Map<string, ExpectedOutcome>();
    for (const [i, day] of days.entries()) {
      const g = await generateDay({ day, objects: 6, linesPerObject: 20_000, gzipFraction: 0.25, seed: 300 + i, out: mkdtempSync(path.join(dataDir, `day-${day}-`)) });
      await uploadGeneratedFiles(s3, rt.env.S3_BUCKET, g.files);
      expected.set(day, JSON.parse(readFileSync(g.expectedPath!, 'utf8')) as ExpectedOutcome);
    }
    const pair = live();
    const id = `${days[0]}..${days[9]}`;
    const faults: string[] = [];
    const cli = spawn(BIN, ['backfill', job, '--from', days[0]!, '--to', days[9]!, '--concurrency', '3'], { cwd: REPO, env: { ...process.env, LOG_LEVEL: 'warn' }, stdio: ['ignore', 'pipe', 'pipe'] });
    let cliOut = '';
    cli.stdout.on('data', (d: Buffer) => (cliOut += d.toString()));
    cli.stderr.on('data', (d: Buffer) => (cliOut += d.toString()));
    const cliGone = new Promise((r) => cli.once('exit', r));
    const deps = { temporal: rt.temporal, jobs: rt.jobs, taskQueue: rt.env.TEMPORAL_TASK_QUEUE };
    // Progress as the run log has it (a query of the backfill needs a live worker, which the kills take away).
    const succeededSoFar = async () =>
      ((await rt.ds.query(`SELECT count(*)::int AS n FROM job_runs WHERE job_name = $1 AND partition_key BETWEEN $2 AND $3 AND status = 'succeeded'`, [job, days[0], days[9]])) as { n: number }[])[0]!.n;
    const runningNow = async () =>
      ((await rt.ds.query(`SELECT count(*)::int AS n FROM job_runs WHERE job_name = $1 AND partition_key BETWEEN $2 AND $3 AND status = 'running'`, [job, days[0], days[9]])) as { n: number }[])[0]!.n;
    const at = async () => `${await succeededSoFar()} day(s) done, ${await runningNow()} running`;
    await eventually('the first day to succeed', async () => (await succeededSoFar()) >= 1, 300_000, 200);
    cli.kill('SIGKILL');
    await cliGone;
    faults.push(`kill -9 the CLI at ${await at()}`);
    await pair[0]!.kill9();
    faults.push(`kill -9 worker ${pair[0]!.pid} at ${await at()}`);
    workers.push(await startWorker());
    await eventually('half the days', async () => (await succeededSoFar()) >= 5, 600_000, 200);
    await pair[1]!.kill9();
    faults.push(`kill -9 worker ${pair[1]!.pid} at ${await at()}`);
    workers.push(await startWorker());
    const done = await waitForBackfill(deps, job, id);
    console.log(`\nbackfill ${id} of ${job}: ${faults.join('; ')}; ended ${done.status} ${JSON.stringify(done.progress?.counts)}`);
    assert.equal(done.status, 'completed', done.error ?? '');
    assert.deepEqual(done.progress?.counts, { skipped: 0, succeeded: 10, failed: 0, cancelled: 0, timed_out: 0 });

    const shown = await run(BIN, ['days', job, '--from', days[0]!, '--to', days[9]!, '--json'], { env: { ...process.env, LOG_LEVEL: 'warn' } });
    const view = JSON.parse(shown.stdout) as { day: string; status: string; rows: number; rejects: number; runId: string }[];
    console.log('| day | status | runs | attempts | rows (views) | expected | rejects | expected |');
    console.log('|---|---|---|---|---|---|---|---|');
    for (const day of days) {
      const e = expected.get(day)!;
      const runs = (await rt.ds.query(
        `SELECT count(DISTINCT first_run_id)::int AS runs, count(*)::int AS attempts FROM job_runs WHERE workflow_id = $1`,
        [`${job}/${day}`],
      )) as { runs: number; attempts: number }[];
      const views = (await rt.ds.query(`SELECT count(*)::int AS n FROM notification_views WHERE day = $1`, [day])) as { n: number }[];
      const rejects = (await rt.ds.query(`SELECT count(*)::int AS n FROM ingest_rejects WHERE day = $1`, [day])) as { n: number }[];
      const v = view.find((x) => x.day === day)!;
      console.log(`| ${day} | ${v.status} | ${runs[0]!.runs} | ${runs[0]!.attempts} | ${views[0]!.n} | ${e.views} | ${rejects[0]!.n} | ${e.rejected} |`);
      assert.equal(runs[0]!.runs, 1, `${day} ran once (one run chain)`);
      assert.equal(views[0]!.n, e.views, `${day}: exactly the expected views`);
      assert.equal(rejects[0]!.n, e.rejected, `${day}: exactly the expected rejects`);
      assert.equal(v.status, 'succeeded', `${day} in days`);
    }
    assert.match(cliOut, /"attached":false/, cliOut);
  });
});
