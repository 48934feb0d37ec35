/**
 * Concurrency limits against the real stack: runs over the limit wait `queued` in the order they came (HTTP, CLI,
 * job_runs and GET /jobs say so, with their place), never more than the limit run, a run terminated from the
 * `temporal` CLI gives its permit back at once, and so does one that times out or is cancelled while it runs, a retry
 * waits its backoff without one, a limit per group holds per group, a changed limit applies at the next worker start
 * without touching the running run, and a bad declaration stops the worker naming the job and the field.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import { freshDay } from '../support/days';
import { eventually, REPO, uniqueTag, useStackEnv } from '../support/stack';
import { bundleWorkflowsForWorkers, startWorker, TEST_MODULES, type WorkerProcess } from '../support/workerProcess';

const JOB = `limited_${uniqueTag('l').replace(/-/g, '_')}`.slice(0, 50);
useStackEnv({ ...TEST_MODULES, API_TOKEN: 'test-token-123', TEST_LIMITED_JOB: JOB, TEST_LIMIT: '2' });

import { cli } from '../support/cliProcess';
import { buildApi } from '../../workers/http/server';
import { openRuntime, type Runtime } from '../../workers/runtime';

const AUTH = { authorization: 'Bearer test-token-123' };
const run = promisify(execFile);

/** Consecutive days from a fresh one, so each run has a lock of its own. */
const daysFrom = (first: string, n: number) => Array.from({ length: n }, (_, i) => new Date(Date.parse(`${first}T00:00:00Z`) + i * 86_400_000).toISOString().slice(0, 10));

describe('concurrency limits on the real stack', { timeout: 600_000 }, () => {
  let rt: Runtime;
  let app: ReturnType<typeof buildApi>;
  const workers: WorkerProcess[] = [];
  const call = async (method: 'GET' | 'POST', url: string, payload?: unknown) => {
    const res = await app.inject({ method, url, headers: AUTH, ...(payload !== undefined ? { payload: payload as object } : {}) });
    return { status: res.statusCode, body: res.json() as Record<string, unknown> };
  };
  /** How many runs of `job` (of these days, when given) job_runs shows running. */
  const runningNow = async (job: string, days?: string[]) =>
    Number(
      ((await rt.ds.query(`SELECT count(*) AS n FROM job_runs WHERE job_name = $1 AND status = 'running' AND ($2::text[] IS NULL OR partition_key = ANY($2))`, [job, days ?? null])) as { n: string }[])[0]!.n,
    );
  /** Samples the runs `job_runs` shows running every 100 ms until stopped; returns the largest count seen. */
  const sampleRunning = (job: string) => {
    let max = 0;
    let samples = 0;
    let stopped = false;
    const loop = (async () => {
      while (!stopped) {
        max = Math.max(max, await runningNow(job));
        samples++;
        await new Promise((r) => setTimeout(r, 100));
      }
    })();
    return async () => {
      stopped = true;
      await loop;
      return { max, samples };
    };
  };
  const rowsOf = async (job: string) =>
    (await rt.ds.query(
      `SELECT partition_key, args, status, queued_at, started_at, finished_at, permit_slot, attempt, first_run_id, run_id FROM job_runs WHERE job_name = $1 ORDER BY queued_at, id`,
      [job],
    )) as { partition_key: string; args: Record<string, unknown>; status: string; queued_at: Date; started_at: Date; finished_at: Date | null; permit_slot: number | null; attempt: number; first_run_id: string; run_id: string }[];

  before(async () => {
    await bundleWorkflowsForWorkers();
    rt = await openRuntime();
    app = buildApi({ client: rt.client, token: 'test-token-123' });
    await app.ready();
    workers.push(await startWorker(), await startWorker());
  });
  after(async () => {
    // Whatever a failed test left open on this test's queue.
    for await (const wf of rt.temporal.workflow.list({ query: `TaskQueue = "${rt.env.TEMPORAL_TASK_QUEUE}" AND ExecutionStatus = "Running"` })) {
      await rt.temporal.workflow.getHandle(wf.workflowId, wf.runId).terminate('test cleanup').catch(() => undefined);
    }
    await Promise.all(workers.map((w) => w.stop()));
    await app?.close();
    await rt?.close();
  });

  test('runs over the limit wait queued in the order they came, with their place; never more than the limit run', async () => {
    const days = daysFrom(freshDay(), 6);
    const stop = sampleRunning(JOB);
    const started = [];
    for (const day of days) {
      const res = await call('POST', `/jobs/${JOB}/runs`, { args: { day, steps: 4, stepMs: 500 } });
      assert.equal(res.status, 202, JSON.stringify(res.body));
      assert.equal(res.body['status'], 'queued', 'a limited job starts queued');
      started.push(res.body as { runId: string; workflowId: string });
    }
    // The last one waits behind the others: its place over HTTP and the CLI, the counts in GET /jobs and the CLI.
    const last = started.at(-1)!;
    const queued = await call('GET', `/jobs/${JOB}/runs/${last.runId}`);
    assert.equal(queued.body['status'], 'queued');
    assert.ok((queued.body['queuePosition'] as number) >= 1, JSON.stringify(queued.body));
    const listed = ((await call('GET', '/jobs')).body['jobs'] as { name: string; concurrency: unknown; running: number; queued: number }[]).find((j) => j.name === JOB)!;
    assert.deepEqual(listed.concurrency, { limit: 2, groupBy: [] });
    assert.ok(listed.running <= 2 && listed.queued >= 1, JSON.stringify(listed));
    const status = await cli(['status', JOB, last.runId]);
    assert.equal(status.code, 0, `${status.stdout}${status.stderr}`);
    assert.match(status.stdout, /"status": "(queued|running|succeeded)"/);
    const jobsCli = await cli(['jobs', '--json']);
    assert.equal(jobsCli.code, 0, jobsCli.stderr);
    const cliJob = (JSON.parse(jobsCli.stdout) as { jobs: { name: string; concurrency: unknown; running: number; queued: number }[] }).jobs.find((j) => j.name === JOB)!;
    assert.deepEqual(cliJob.concurrency, { limit: 2, groupBy: [] });
    console.log(`while queued: GET /jobs/${JOB}/runs/<last> ${JSON.stringify({ status: queued.body['status'], queuePosition: queued.body['queuePosition'] })}; GET /jobs ${JSON.stringify({ running: listed.running, queued: listed.queued })}`);

    for (const s of started) assert.equal((await rt.client.waitFor(JOB, s.runId, undefined, 300)).status, 'succeeded');
    const { max, samples } = await stop();
    console.log(`6 runs, limit 2: at most ${max} running in ${samples} samples 100 ms apart`);
    assert.ok(max <= 2, `at most 2 at once, saw ${max}`);
    assert.equal(max, 2, 'the limit is used, not just respected');
    const rows = await rowsOf(JOB);
    assert.deepEqual(rows.map((r) => r.status), days.map(() => 'succeeded'));
    // Queue order is trigger order; a run may start at most limit - 1 places before its turn (same look).
    assert.deepEqual(rows.map((r) => r.partition_key), days);
    const startOrder = [...rows].sort((a, b) => a.started_at.getTime() - b.started_at.getTime()).map((r) => r.partition_key);
    for (const [i, day] of startOrder.entries()) assert.ok(Math.abs(days.indexOf(day) - i) <= 1, `started ${startOrder.join(' ')}`);
  });

  test('a run terminated from the temporal CLI gives its permit back: the next queued run starts within 10 s', async () => {
    const days = daysFrom(freshDay(), 3);
    const runs = [];
    for (const day of days) runs.push(await rt.client.trigger(JOB, { day, steps: 100, stepMs: 500 }));
    await eventually('two runs running', async () => (await runningNow(JOB, days)) === 2, 60_000, 100);
    const holder = (await rowsOf(JOB)).find((r) => days.includes(r.partition_key) && r.status === 'running')!;
    const waiting = runs[days.indexOf((await rowsOf(JOB)).find((r) => days.includes(r.partition_key) && r.status === 'queued')!.partition_key)]!;
    const t0 = Date.now();
    await run('temporal', ['workflow', 'terminate', '--workflow-id', `${JOB}/${holder.partition_key}`, '--reason', 'limits test', '--address', rt.env.TEMPORAL_ADDRESS]);
    await eventually('the queued run to start', async () => (await rt.client.status(JOB, waiting.runId)).status === 'running', 30_000, 100);
    const ms = Date.now() - t0;
    console.log(`temporal workflow terminate of ${JOB}/${holder.partition_key}: the queued run started ${ms} ms later`);
    assert.ok(ms < 10_000, `the next run started ${ms} ms after the terminate`);
    assert.equal(await runningNow(JOB, days), 2, 'the terminated run is no longer shown running');
    for (const r of runs) await rt.temporal.workflow.getHandle(r.workflowId).terminate('limits test done').catch(() => undefined);
    await eventually('the terminated runs closed', async () => (await rowsOf(JOB)).filter((r) => days.includes(r.partition_key)).every((r) => r.status === 'failed'), 30_000);
  });

  test('a run that times out or is cancelled while it runs gives its permit back: the next queued run starts within 10 s', async () => {
    const job = `${JOB}_deadline`;
    const tag = uniqueTag('d');
    const runs = [];
    for (const name of ['times-out', 'cancelled', 'last']) runs.push(await rt.client.trigger(job, { steps: 100, stepMs: 500, tag: `${tag}-${name}` }));
    const [timesOut, cancelled, last] = runs as [(typeof runs)[0], (typeof runs)[0], (typeof runs)[0]];
    // The first holds the only permit until its 3 s attempt timeout; the second then takes it.
    assert.equal((await rt.client.waitFor(job, timesOut.runId, undefined, 100)).status, 'timed_out');
    const timedOutAt = Date.now();
    await eventually('the second run to start', async () => (await rt.client.status(job, cancelled.runId)).status === 'running', 30_000, 100);
    const afterTimeout = Date.now() - timedOutAt;
    // Cancelled while it runs (well within its own 3 s): the third takes the permit.
    const t0 = Date.now();
    await rt.client.cancel(job, cancelled.runId);
    await eventually('the third run to start', async () => (await rt.client.status(job, last.runId)).status === 'running', 30_000, 100);
    const afterCancel = Date.now() - t0;
    console.log(`limit 1: the next queued run started ${afterTimeout} ms after the holder timed out, ${afterCancel} ms after the holder was cancelled`);
    assert.equal((await rt.client.waitFor(job, cancelled.runId, undefined, 100)).status, 'cancelled');
    // The cancel ended it at once: no workflow task failed on the way (a cancelled attempt timer once did, until it fired).
    const history = await rt.temporal.workflow.getHandle(cancelled.workflowId, cancelled.runId).fetchHistory();
    assert.deepEqual((history.events ?? []).filter((e) => e.workflowTaskFailedEventAttributes).map((e) => e.workflowTaskFailedEventAttributes!.failure?.message), []);
    assert.ok(afterTimeout < 10_000, `${afterTimeout} ms after the timeout`);
    assert.ok(afterCancel < 10_000, `${afterCancel} ms after the cancel`);
    assert.equal((await rt.client.waitFor(job, last.runId, undefined, 100)).status, 'timed_out');
  });

  test('a queued run that is cancelled leaves the queue without ever running; the runs behind it move up', async () => {
    const days = daysFrom(freshDay(), 4);
    const runs: { runId: string }[] = [];
    for (const day of days) runs.push(await rt.client.trigger(JOB, { day, steps: 6, stepMs: 500 }));
    await eventually('two running', async () => (await runningNow(JOB, days)) === 2, 60_000, 100);
    const before = await rt.client.status(JOB, runs[3]!.runId);
    assert.deepEqual([before.status, before.queuePosition], ['queued', 2]);
    await rt.client.cancel(JOB, runs[2]!.runId);
    const cancelled = await rt.client.waitFor(JOB, runs[2]!.runId, undefined, 200);
    assert.equal(cancelled.status, 'cancelled');
    const moved = await rt.client.status(JOB, runs[3]!.runId);
    assert.ok(moved.status !== 'queued' || moved.queuePosition === 1, JSON.stringify(moved));
    for (const i of [0, 1, 3]) assert.equal((await rt.client.waitFor(JOB, runs[i]!.runId, undefined, 300)).status, 'succeeded');
    const row = (await rowsOf(JOB)).find((r) => r.first_run_id === runs[2]!.runId)!;
    assert.equal(row.permit_slot, null, 'it never held a permit');
  });

  test('a run that will retry gives its permit back for its backoff and queues again at the back', async () => {
    const flaky = `${JOB}_flaky`;
    const tag = uniqueTag('f');
    const first = await rt.client.trigger(flaky, { failAttempts: 1, tag: `${tag}-a` });
    await eventually('the first attempt to fail', async () => (await rowsOf(flaky)).some((r) => r.status === 'failed'), 60_000, 100);
    const second = await rt.client.trigger(flaky, { failAttempts: 0, tag: `${tag}-b` });
    assert.equal((await rt.client.waitFor(flaky, second.runId, undefined, 200)).status, 'succeeded');
    const firstView = await rt.client.waitFor(flaky, first.runId, undefined, 200);
    assert.deepEqual([firstView.status, firstView.attempt], ['succeeded', 2]);
    const rows = (await rowsOf(flaky)).filter((r) => String(r.args['tag']).startsWith(tag));
    const secondRow = rows.find((r) => r.first_run_id === second.runId)!;
    const retry = rows.find((r) => r.first_run_id === first.runId && r.attempt === 2)!;
    // The second run ran during the first's 3 s backoff, with the only permit, before the retry.
    assert.ok(secondRow.finished_at! <= retry.started_at, `second ${secondRow.started_at.toISOString()}-${secondRow.finished_at!.toISOString()}, retry ${retry.started_at.toISOString()}`);
  });

  test('a limit per group holds per group: one run at once per source, sources side by side', async () => {
    const job = `${JOB}_per_source`;
    const days = daysFrom(freshDay(), 4);
    const runs = [];
    for (const [i, source] of ['eu', 'us', 'eu', 'us'].entries()) runs.push(await rt.client.trigger(job, { day: days[i], source, steps: 4, stepMs: 400 }));
    let maxPerSource = 0;
    let maxTotal = 0;
    while (!(await Promise.all(runs.map((r) => rt.client.status(job, r.runId)))).every((v) => v.status === 'succeeded')) {
      const rows = (await rt.ds.query(`SELECT args->>'source' AS source, count(*)::int AS n FROM job_runs WHERE job_name = $1 AND status = 'running' GROUP BY 1`, [job])) as { n: number }[];
      maxPerSource = Math.max(maxPerSource, ...rows.map((r) => r.n), 0);
      maxTotal = Math.max(maxTotal, rows.reduce((a, r) => a + r.n, 0));
      await new Promise((r) => setTimeout(r, 100));
    }
    console.log(`limit 1 per source, two sources: at most ${maxPerSource} per source and ${maxTotal} in all at once`);
    assert.equal(maxPerSource, 1);
    assert.equal(maxTotal, 2, 'the sources ran side by side');
  });

  test('a changed limit applies at the next worker start; the run already running is left alone', async () => {
    for (const w of workers.splice(0)) await w.stop();
    workers.push(await startWorker({ TEST_LIMIT: '1' }));
    const days = daysFrom(freshDay(), 3);
    const runs = [];
    for (const day of days) runs.push(await rt.client.trigger(JOB, { day, steps: 16, stepMs: 500 }));
    await eventually('one running', async () => (await runningNow(JOB, days)) === 1, 60_000, 100);
    await new Promise((r) => setTimeout(r, 2000));
    assert.equal(await runningNow(JOB, days), 1, 'limit 1');
    const firstRunning = (await rowsOf(JOB)).find((r) => days.includes(r.partition_key) && r.status === 'running')!;
    // A rolling restart: the new worker (limit 2) first, then the old one stops.
    workers.push(await startWorker({ TEST_LIMIT: '2' }));
    await workers.shift()!.stop();
    await eventually('two running under the new limit', async () => (await runningNow(JOB, days)) === 2, 60_000, 100);
    for (const r of runs) assert.equal((await rt.client.waitFor(JOB, r.runId, undefined, 300)).status, 'succeeded');
    const after = (await rowsOf(JOB)).filter((r) => r.first_run_id === firstRunning.first_run_id);
    assert.deepEqual(after.map((r) => [r.run_id, r.attempt, r.status]), [[firstRunning.run_id, 1, 'succeeded']], 'the same run, not restarted');
  });

  test('a bad limit or alert declaration stops the worker at start-up, naming the job and the field', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'bad-jobs-'));
    try {
      const cases: [string, string, RegExp][] = [
        ['concurrency: { limit: 0 }', '', /job bad_job: concurrency\.limit: must be a whole number of at least 1, got 0/],
        ["alerts: { webhook: { url: 'ftp://hooks.example.com/hidden-token' } }", '', /job bad_job: alerts\.webhook\.url: must be an http or https URL, not ftp:/],
        ["lockKey: ['day'], partition: { arg: 'day', kind: 'day' }, alerts: { webhook: { url: 'https://h.example.com/x' }, expectedBy: { at: '25:00' } }", '', /job bad_job: alerts\.expectedBy\.at: must be a time of day/],
        ["alerts: { webhook: { url: 'https://h.example.com/x', secretEnv: 'BAD_JOB_SECRET' } }", 'BAD_JOB_SECRET', /job bad_job: alerts\.webhook\.secretEnv: the environment variable BAD_JOB_SECRET is not set/],
      ];
      for (const [i, [declaration, unset, message]] of cases.entries()) {
        const file = path.join(dir, `jobs${i}.ts`);
        writeFileSync(
          file,
          `import { z } from '${require.resolve('zod')}';\nimport { defineJob } from '${path.join(REPO, 'jobs', 'definition')}';\n` +
            `export const jobs = [defineJob({ name: 'bad_job', description: 'bad', handler: 'example_steps', args: z.object({ day: z.string() }), retry: { retries: 0 }, ${declaration} })];\n`,
        );
        const env: Record<string, string | undefined> = { ...process.env, JOBS_MODULE: file, LOG_LEVEL: 'warn' };
        delete env[unset];
        const res = await run(path.join(REPO, 'bin', 'scheduled-job.js'), ['worker'], { env, timeout: 60_000 }).then(
          () => ({ code: 0, stderr: '' }),
          (err: { code: number; stderr: string }) => ({ code: err.code, stderr: err.stderr }),
        );
        assert.equal(res.code, 2, res.stderr);
        assert.match(res.stderr, message);
        assert.equal(res.stderr.includes('hidden-token'), false, 'the URL is not printed');
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
