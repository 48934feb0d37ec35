import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import { freshDay } from '../support/days';
import { eventually, REPO, uniqueTag, useChaosStack, useStackEnv } from '../support/stack';
import { bundleWorkflowsForWorkers, startWorker, TEST_MODULES, type WorkerProcess } from '../support/workerProcess';

/*
 * A concurrency limit under faults, on the chaos stack (ports + 100, scripts/chaos.sh): 50 runs of distinct days of a
 * job with limit 2, triggered at once, while one worker is kill -9'd and the Temporal server restarts. Never more than
 * 2 may run at once: sampled every 100 ms from job_runs, and checked afterwards from Temporal's own histories (each
 * run's handler activities, from the first step scheduled to the last step completed). All 50 must succeed, and each
 * must start within limit - 1 places of its turn in the queue. A killed worker is never restarted: a new process
 * takes its place.
 */
const STACK = useChaosStack('the limits fault test restarts Temporal');
const JOB = `chaos_limited_${uniqueTag('l').replace(/-/g, '_')}`.slice(0, 50);
const LIMIT = 2;
const RUNS = 50;
useStackEnv({ ...TEST_MODULES, TEMPORAL_TASK_QUEUE: STACK['TEMPORAL_TASK_QUEUE'] ?? 'scheduled-job', TEST_LIMITED_JOB: JOB, TEST_LIMIT: String(LIMIT) });

import { openRuntime, type Runtime } from '../../workers/runtime';

const run = promisify(execFile);

describe('a concurrency limit under kill -9 and a Temporal restart (chaos stack)', { timeout: 900_000 }, () => {
  let rt: Runtime;
  const workers: WorkerProcess[] = [];

  before(async () => {
    await bundleWorkflowsForWorkers();
    rt = await openRuntime();
  });
  after(async () => {
    await Promise.all(workers.map((w) => w.stop()));
    await rt?.close();
  });

  test(`${RUNS} runs of distinct days with limit ${LIMIT}: never more than ${LIMIT} at once, all succeed, in queue order within ${LIMIT - 1} place`, async () => {
    workers.push(await startWorker(), await startWorker());
    const first = freshDay();
    const days = Array.from({ length: RUNS }, (_, i) => new Date(Date.parse(`${first}T00:00:00Z`) + i * 86_400_000).toISOString().slice(0, 10));

    // The sampler: runs job_runs shows running, every 100 ms, from before the first trigger to the last run's end.
    let stopSampling = false;
    let maxSampled = 0;
    let samples = 0;
    let sampleErrors = 0;
    const sampler = (async () => {
      while (!stopSampling) {
        try {
          const [row] = (await rt.ds.query(`SELECT count(*)::int AS n FROM job_runs WHERE job_name = $1 AND status = 'running'`, [JOB])) as { n: number }[];
          maxSampled = Math.max(maxSampled, row!.n);
          samples++;
        } catch {
          sampleErrors++;
        }
        await new Promise((r) => setTimeout(r, 100));
      }
    })();

    const t0 = Date.now();
    const runs = [];
    for (const day of days) runs.push(await rt.client.trigger(JOB, { day, steps: 4, stepMs: 400 }));
    const faults: string[] = [`${RUNS} triggered in ${((Date.now() - t0) / 1000).toFixed(1)} s`];
    const succeeded = async () => Number(((await rt.ds.query(`SELECT count(*) AS n FROM job_runs WHERE job_name = $1 AND status = 'succeeded'`, [JOB])) as { n: string }[])[0]!.n);

    // Midway: a worker kill -9'd (a new one takes its place), then the Temporal server restarted.
    await eventually('10 runs done', async () => (await succeeded()) >= 10, 300_000, 200);
    const victim = workers[0]!;
    await victim.kill9();
    workers.push(await startWorker());
    faults.push(`after ${await succeeded()} runs: kill -9 worker ${victim.pid}`);
    await eventually('20 runs done', async () => (await succeeded()) >= 20, 300_000, 200);
    const tRestart = Date.now();
    await run('bash', [path.join(REPO, 'stack', 'stack.sh'), 'restart', 'temporal'], { env: process.env });
    faults.push(`after 20 runs: Temporal restarted (${((Date.now() - tRestart) / 1000).toFixed(1)} s)`);

    const views = [];
    for (const r of runs) views.push(await rt.client.waitFor(JOB, r.runId, undefined, 500));
    const elapsed = (Date.now() - t0) / 1000;
    stopSampling = true;
    await sampler;
    assert.deepEqual(
      views.filter((v) => v.status !== 'succeeded').map((v) => `${v.workflowId} ${v.status} ${v.error}`),
      [],
      'every run succeeded',
    );
    assert.equal(workers.filter((w) => w.alive()).length, 2, `the workers the restart hit rode it out: ${faults.join('; ')}`);

    // Independent of our bookkeeping: each run's handler interval from its history, swept at 100 ms.
    const intervals = await Promise.all(
      runs.map(async (r) => {
        const events = (await rt.temporal.workflow.getHandle(r.workflowId, r.runId).fetchHistory()).events ?? [];
        const ms = (e: (typeof events)[number]) => Number(e.eventTime!.seconds) * 1000 + Math.floor((e.eventTime!.nanos ?? 0) / 1e6);
        const steps = events.filter((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'doStep');
        const done = events.filter((e) => e.activityTaskCompletedEventAttributes);
        assert.equal(steps.length, 4, `${r.workflowId}: 4 steps`);
        return { day: r.workflowId, from: ms(steps[0]!), to: ms(done.at(-1)!) };
      }),
    );
    const lo = Math.min(...intervals.map((i) => i.from));
    const hi = Math.max(...intervals.map((i) => i.to));
    let maxHistory = 0;
    for (let t = lo; t <= hi; t += 100) maxHistory = Math.max(maxHistory, intervals.filter((i) => i.from <= t && t < i.to).length);

    // The queue order is the trigger order; the start order from the run log.
    const rows = (await rt.ds.query(`SELECT partition_key, queued_at, started_at FROM job_runs WHERE job_name = $1 AND attempt = 1 ORDER BY started_at, id`, [JOB])) as {
      partition_key: string;
      started_at: Date;
    }[];
    const displacement = rows.map((r, startIndex) => startIndex - days.indexOf(r.partition_key));
    const late = Math.max(...displacement);
    console.log(
      `${RUNS} runs, limit ${LIMIT}, ${elapsed.toFixed(0)} s, faults: ${faults.join('; ')}\n` +
        `  at most ${maxSampled} running in ${samples} samples of job_runs 100 ms apart (${sampleErrors} samples failed)\n` +
        `  at most ${maxHistory} running by Temporal's histories (handler intervals swept every 100 ms)\n` +
        `  all ${views.filter((v) => v.status === 'succeeded').length} succeeded; start order vs queue order: at most ${Math.max(0, -Math.min(...displacement))} place(s) early, ${late} late`,
    );
    assert.ok(maxSampled <= LIMIT, `job_runs showed ${maxSampled} running at once`);
    assert.ok(maxHistory <= LIMIT, `the histories show ${maxHistory} running at once`);
    assert.equal(maxSampled, LIMIT, 'the limit was used');
    assert.ok(Math.max(...displacement.map((d) => -d)) <= LIMIT - 1, `a run started more than ${LIMIT - 1} place(s) before its turn: ${JSON.stringify(displacement)}`);
  });
});
