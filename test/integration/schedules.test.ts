/**
 * Schedules, ticks, backfills and the days view over HTTP, against the real stack: the worker makes the declared
 * schedule, a tick reaches the job's lock (a manual trigger meeting the tick's run gets 409 naming it), the workers
 * pause only the schedules they made, and every request to fix gets a 4xx with nothing started. (The time-skipping
 * test server has no schedules, so these run on the real server.)
 */
import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { freshDay } from '../support/days';
import { eventually, REPO, uniqueTag, useStackEnv } from '../support/stack';
import { startWorker, type WorkerProcess } from '../support/workerProcess';

const TICK_JOB = `sched_${uniqueTag('t').replace(/-/g, '_')}`.slice(0, 60);
useStackEnv({
  JOBS_MODULE: path.join(REPO, 'test', 'support', 'jobs.ts'),
  API_TOKEN: 'test-token-123',
  // Its schedule never fires by itself during the test: every tick below is a trigger. A run takes about 6 s.
  TEST_TICK_JOB: TICK_JOB,
  TEST_TICK_EVERY: '1h',
  TEST_TICK_STEPS: '30',
  TEST_TICK_STEP_MS: '200',
});

import { ScheduleOverlapPolicy } from '@temporalio/client';
import { z } from 'zod';
import { syncSchedules, UNDECLARED_NOTE } from '../../workers/scheduleSync';
import { defineJob } from '../../jobs/definition';
import { JobRegistry } from '../../jobs/registry';
import { JOB_HANDLER_NAMES } from '../../app/jobs';
import { buildApi } from '../../workers/http/server';
import { openRuntime, type Runtime } from '../../workers/runtime';
import { scheduleIdOf } from '../../workflows/tickTypes';

const AUTH = { authorization: 'Bearer test-token-123' };

describe('schedules, backfills and days on the real stack', { timeout: 600_000 }, () => {
  let rt: Runtime;
  let worker: WorkerProcess;
  let app: ReturnType<typeof buildApi>;
  const call = async (method: 'GET' | 'POST', url: string, payload?: unknown) => {
    const res = await app.inject({ method, url, headers: AUTH, ...(payload !== undefined ? { payload: payload as object } : {}) });
    return { status: res.statusCode, body: res.json() as Record<string, unknown> & { message?: string }, headers: res.headers };
  };

  before(async () => {
    rt = await openRuntime();
    worker = await startWorker({ WORKER_METRICS_PORT: '0' });
    app = buildApi({ client: rt.client, token: 'test-token-123' });
    await app.ready();
  });
  after(async () => {
    await rt?.temporal.schedule.getHandle(scheduleIdOf(TICK_JOB)).delete().catch(() => undefined);
    await worker?.stop();
    await app?.close();
    await rt?.close();
  });

  const tickRows = async () => (await call('GET', `/schedules/${TICK_JOB}/ticks?limit=50`)).body['ticks'] as { scheduledAt: string; outcome: string; runId: string; reason: string | null; partition: string }[];
  const trigger = async () => {
    await new Promise((r) => setTimeout(r, 1100)); // ticks are named by their time to the second
    const res = await call('POST', `/schedules/${TICK_JOB}/trigger`);
    assert.equal(res.status, 202, JSON.stringify(res.body));
    const at = res.body['triggeredAt'] as string;
    return eventually(`the tick of ${at}`, async () => (await tickRows()).find((t) => t.scheduledAt === at && t.outcome !== 'buffered'), 60_000, 300);
  };

  test("the worker makes the declared schedule; a tick starts the day under its lock, a manual trigger meeting it gets 409 naming the tick's run, the next tick is skipped naming it", async () => {
    const listed = await eventually('the worker to create the schedule', async () => {
      const res = await call('GET', '/schedules');
      return (res.body['schedules'] as { job: string; exists: boolean }[]).find((s) => s.job === TICK_JOB && s.exists);
    }, 60_000, 500);
    assert.deepEqual(
      { ...listed, nextFireTimes: (listed as unknown as { nextFireTimes: string[] }).nextFireTimes.length, lastTick: null },
      {
        job: TICK_JOB,
        scheduleId: `schedule/${TICK_JOB}`,
        spec: 'every 1h',
        timeZone: 'UTC',
        overlap: 'skip',
        partitionOffset: 0,
        exists: true,
        paused: false,
        note: null,
        nextFireTimes: 3,
        taskQueue: rt.env.TEMPORAL_TASK_QUEUE,
        lastTick: null,
      },
    );

    const jobs = (await call('GET', '/jobs')).body['jobs'] as { name: string; partition: unknown; schedule: unknown }[];
    const ingest = jobs.find((j) => j.name === 'ingest_notification_views')!;
    assert.deepEqual({ partition: ingest.partition, schedule: ingest.schedule }, { partition: { arg: 'day', kind: 'day' }, schedule: 'cron 0 11 * * * (UTC)' });
    assert.deepEqual(jobs.find((j) => j.name === 'example_steps')!.partition, null);

    const started = await trigger();
    const today = new Date().toISOString().slice(0, 10);
    assert.equal(started.outcome, 'started', JSON.stringify(started));
    assert.equal(started.partition, today, 'partitionOffset 0: the day the tick fell on');
    const lockId = `${TICK_JOB}/${started.partition}`;
    const manual = await call('POST', `/jobs/${TICK_JOB}/runs`, { args: { day: started.partition } });
    assert.equal(manual.status, 409, JSON.stringify(manual.body));
    assert.deepEqual(manual.body, { error: 'already_running', workflowId: lockId, runId: started.runId });
    console.log(`tick ${started.scheduledAt} started run ${started.runId}; POST /jobs/${TICK_JOB}/runs of ${started.partition} meanwhile: 409 ${JSON.stringify(manual.body)}`);

    const skipped = await trigger();
    assert.equal(skipped.outcome, 'skipped');
    assert.equal(skipped.runId, started.runId);
    assert.equal(skipped.reason, `the lock ${lockId} is held by run ${started.runId}`);
    // And as series on the worker that ran the ticks.
    const metricsUrl = /"metricsUrl":"([^"]+)"/.exec(worker.output())![1]!;
    const metrics = await (await fetch(metricsUrl)).text();
    for (const outcome of ['started', 'skipped']) {
      assert.match(metrics, new RegExp(`^scheduled_job_schedule_ticks_total\\{job="${TICK_JOB}",outcome="${outcome}"\\} 1$`, 'm'), outcome);
    }
    // The run log has the one run the ticks started, with the day as its partition.
    const rows = (await rt.ds.query(`SELECT first_run_id, partition_key FROM job_runs WHERE workflow_id = $1`, [lockId])) as { first_run_id: string; partition_key: string }[];
    assert.deepEqual(rows, [{ first_run_id: started.runId, partition_key: today }]);
    const d = await rt.temporal.workflow.getHandle(lockId).describe();
    assert.equal(d.searchAttributes['Day']?.[0], today, 'the Day search attribute comes from the declared partition');
  });

  test('pause and resume over HTTP; a worker starting again leaves the operator\'s pause; the workers pause what they made once the job drops its schedule', async () => {
    assert.equal((await call('POST', `/schedules/${TICK_JOB}/pause`)).status, 200);
    const handle = rt.temporal.schedule.getHandle(scheduleIdOf(TICK_JOB));
    assert.equal((await handle.describe()).state.paused, true);
    await worker.stop();
    worker = await startWorker();
    await eventually('the new worker to sync', async () => worker.output().includes('job schedules in step with the definitions'), 60_000);
    assert.equal((await handle.describe()).state.paused, true, 'still paused: the operator paused it');
    assert.equal((await call('POST', `/schedules/${TICK_JOB}/resume`)).status, 200);
    assert.equal((await handle.describe()).state.paused, false);

    // A worker whose definitions no longer declare the job's schedule pauses it, and one that declares it resumes it.
    await worker.stop();
    worker = await startWorker({ TEST_TICK_JOB: '' });
    await eventually('the schedule paused as undeclared', async () => (await handle.describe()).state.note === UNDECLARED_NOTE, 60_000, 500);
    assert.equal((await handle.describe()).state.paused, true);
    await worker.stop();
    worker = await startWorker();
    await eventually('the schedule resumed', async () => (await handle.describe()).state.paused === false, 60_000, 500);
  });

  test('several syncs at once make one schedule and no error; a schedule the workers did not make is never touched', async () => {
    // A queue of its own: a sync pauses the schedules it made on its queue that its definitions do not declare.
    const queue = `${rt.env.TEMPORAL_TASK_QUEUE}-sync`;
    const name = `sync_${uniqueTag('s').replace(/-/g, '_')}`.slice(0, 60);
    const foreign = `${name}_foreign`;
    const def = (n: string) =>
      defineJob({ name: n, description: 'a scheduled job', handler: 'example_steps', args: z.object({ steps: z.number(), stepMs: z.number() }), retry: { retries: 0 }, schedule: { cron: '0 11 * * *', paused: true } });
    const registry = new JobRegistry([def(name), def(foreign)], JOB_HANDLER_NAMES);
    // Someone else's schedule under the ID a job's would have: no memo of ours.
    await rt.temporal.schedule.create({
      scheduleId: scheduleIdOf(foreign),
      spec: { intervals: [{ every: '7 days' }] },
      action: { type: 'startWorkflow', workflowType: 'theirs', taskQueue: 'elsewhere', args: [] },
      policies: { overlap: ScheduleOverlapPolicy.SKIP },
      state: { paused: true },
    });
    try {
      const results = await Promise.all([1, 2, 3].map(() => syncSchedules(rt.temporal, registry, queue)));
      const mine = results.map((r) => r.find((x) => x.scheduleId === scheduleIdOf(name))!.outcome).sort();
      assert.deepEqual(mine, ['created', 'unchanged', 'unchanged']);
      for (const r of results) assert.deepEqual(r.find((x) => x.scheduleId === scheduleIdOf(foreign)), { scheduleId: scheduleIdOf(foreign), outcome: 'left alone', why: 'it was not created by scheduled-job' });
      const theirs = await rt.temporal.schedule.getHandle(scheduleIdOf(foreign)).describe();
      assert.equal(theirs.action.type === 'startWorkflow' && theirs.action.workflowType, 'theirs');
      assert.equal((await rt.temporal.schedule.getHandle(scheduleIdOf(name)).describe()).state.paused, true, 'declared paused');
    } finally {
      for (const n of [name, foreign]) await rt.temporal.schedule.getHandle(scheduleIdOf(n)).delete().catch(() => undefined);
    }
  });

  test('a backfill over HTTP runs each day once; the days view shows them and the missing ones', async () => {
    const first = freshDay();
    const day = (i: number) => new Date(Date.parse(`${first}T00:00:00Z`) + i * 86_400_000).toISOString().slice(0, 10);
    const started = await call('POST', '/jobs/test_day_steps/backfills', { from: day(1), to: day(3), concurrency: 2, args: { steps: 2, stepMs: 100 } });
    assert.equal(started.status, 202, JSON.stringify(started.body));
    const id = started.body['id'] as string;
    assert.equal(id, `${day(1)}..${day(3)}`);
    const done = await eventually('the backfill to complete', async () => {
      const res = await call('GET', `/jobs/test_day_steps/backfills/${id}`);
      return res.body['status'] === 'completed' ? res.body : undefined;
    }, 120_000, 500);
    assert.deepEqual((done['progress'] as { counts: unknown }).counts, { skipped: 0, succeeded: 3, failed: 0, cancelled: 0, timed_out: 0 });
    const cancelEnded = await call('POST', `/jobs/test_day_steps/backfills/${id}/cancel`);
    assert.equal(cancelEnded.status, 409, JSON.stringify(cancelEnded.body));

    const days = await call('GET', `/jobs/test_day_steps/days?from=${day(0)}&to=${day(4)}`);
    assert.equal(days.status, 200, JSON.stringify(days.body));
    assert.match(String(days.headers['server-timing']), /^app;dur=\d+(\.\d)?$/);
    const rows = days.body['days'] as { day: string; status: string; attempts: number; runId: string | null }[];
    assert.deepEqual(rows.map((r) => [r.day, r.status, r.attempts]), [
      [day(0), 'missing', 0],
      [day(1), 'succeeded', 1],
      [day(2), 'succeeded', 1],
      [day(3), 'succeeded', 1],
      [day(4), 'missing', 0],
    ]);
    for (const r of rows.filter((x) => x.status === 'succeeded')) {
      const logged = (await rt.ds.query(`SELECT first_run_id FROM job_runs WHERE workflow_id = $1`, [`test_day_steps/${r.day}`])) as { first_run_id: string }[];
      assert.deepEqual(logged.map((l) => l.first_run_id), [r.runId]);
    }
  });

  test('requests to fix get a 4xx that says what to fix, and start nothing', async () => {
    const d = freshDay();
    const cases: [string, 'GET' | 'POST', string, unknown, number, RegExp][] = [
      ['days: from after to', 'GET', `/jobs/test_day_steps/days?from=2024-05-02&to=2024-05-01`, undefined, 400, /from \(2024-05-02\) is after to \(2024-05-01\)/],
      ['days: over ten years', 'GET', `/jobs/test_day_steps/days?from=2000-01-01&to=2024-01-01`, undefined, 400, /at most ten years/],
      ['days: not a day', 'GET', `/jobs/test_day_steps/days?from=2024-02-30&to=2024-03-01`, undefined, 400, /query parameter from: must be a calendar day/],
      ['days: no partition', 'GET', `/jobs/test_steps/days?from=2024-05-01&to=2024-05-02`, undefined, 400, /job test_steps declares no partition/],
      ['days: unknown job', 'GET', `/jobs/nope/days?from=2024-05-01&to=2024-05-02`, undefined, 404, /unknown job nope/],
      ['backfill: unknown job', 'POST', '/jobs/nope/backfills', { from: d, to: d }, 404, /unknown job nope/],
      ['backfill: no partition', 'POST', '/jobs/test_steps/backfills', { from: d, to: d }, 400, /declares no partition/],
      ['backfill: reversed', 'POST', '/jobs/test_day_steps/backfills', { from: '2024-05-02', to: '2024-05-01' }, 400, /is after to/],
      ['backfill: concurrency', 'POST', '/jobs/test_day_steps/backfills', { from: d, to: d, concurrency: 0 }, 400, /concurrency/],
      ['backfill: the day in args', 'POST', '/jobs/test_day_steps/backfills', { from: d, to: d, args: { day: d } }, 400, /args\.day: set by the backfill/],
      ['backfill: args that do not fit', 'POST', '/jobs/test_day_steps/backfills', { from: d, to: d, args: { steps: 'many' } }, 400, /args\.steps/],
      ['backfill: unknown field', 'POST', '/jobs/test_day_steps/backfills', { from: d, to: d, days: 3 }, 400, /days/],
      ['backfill status: unknown', 'GET', '/jobs/test_day_steps/backfills/1999-01-01..1999-01-02', undefined, 404, /no backfill 1999-01-01\.\.1999-01-02/],
      ['backfill status: not an id', 'GET', '/jobs/test_day_steps/backfills/yesterday', undefined, 400, /must be <from>\.\.<to>/],
      ['schedule: none declared', 'POST', '/schedules/test_day_steps/pause', undefined, 404, /job test_day_steps declares no schedule/],
      ['schedule: unknown job', 'POST', '/schedules/nope/trigger', undefined, 404, /unknown job nope/],
    ];
    for (const [what, method, url, payload, status, message] of cases) {
      const res = await call(method, url, payload);
      assert.equal(res.status, status, `${what}: ${JSON.stringify(res.body)}`);
      assert.match(res.body.message ?? '', message, what);
    }
    const stray = await rt.temporal.workflow.count(`WorkflowType = "backfill" AND (WorkflowId STARTS_WITH "backfill/test_steps/" OR WorkflowId STARTS_WITH "backfill/nope/" OR WorkflowId = "backfill/test_day_steps/${d}/${d}")`);
    assert.equal(stray.count, 0, 'no backfill started for a request to fix');
    const unauthorized = await app.inject({ method: 'GET', url: '/schedules' });
    assert.equal(unauthorized.statusCode, 401);
  });
});
