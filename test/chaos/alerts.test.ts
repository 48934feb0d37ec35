import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import { eventually, REPO, uniqueTag, useChaosStack, useStackEnv } from '../support/stack';
import { startWebhookReceiver, type WebhookReceiver } from '../support/webhookReceiver';
import { bundleWorkflowsForWorkers, startWorker, TEST_MODULES, type WorkerProcess } from '../support/workerProcess';

/*
 * Missed schedule ticks alert, on the chaos stack (ports + 100, scripts/chaos.sh): a schedule every 2 s with a 10 s
 * catch-up window, and the Temporal server stopped for 30 s. The server counts the ticks it could not take in time as
 * missed; the worker's next look (once a minute) sends one signed schedule.tick_missed event to a real receiver, and the
 * look after it sends nothing more. The worker is the one that rode the outage out: nothing restarts it.
 */
const STACK = useChaosStack('the missed-tick alert test stops Temporal');
const TICK_JOB = `chaos_missed_${uniqueTag('m').replace(/-/g, '_')}`.slice(0, 50);
const SECRET = `secret-${uniqueTag('s')}`;
const OUTAGE_MS = 30_000;
useStackEnv({
  ...TEST_MODULES,
  TEMPORAL_TASK_QUEUE: STACK['TEMPORAL_TASK_QUEUE'] ?? 'scheduled-job',
  TEST_TICK_JOB: TICK_JOB,
  TEST_TICK_EVERY: '2s',
  TEST_TICK_STEPS: '1',
  TEST_TICK_STEP_MS: '100',
  TEST_TICK_CATCHUP: '10s',
  TEST_TICK_ALERTS: 'missed',
  TEST_ALERT_SECRET: SECRET,
});

import { openRuntime, type Runtime } from '../../workers/runtime';
import { scheduleIdOf } from '../../workflows/tickTypes';

const run = promisify(execFile);

describe('missed schedule ticks alert once (chaos stack)', { timeout: 600_000 }, () => {
  let rt: Runtime;
  let receiver: WebhookReceiver;
  let worker: WorkerProcess | undefined;

  before(async () => {
    await bundleWorkflowsForWorkers();
    receiver = await startWebhookReceiver({ secret: SECRET, refuseForMs: 0 });
    process.env['TEST_ALERT_URL'] = receiver.url;
    rt = await openRuntime();
  });
  after(async () => {
    await rt?.temporal.schedule.getHandle(scheduleIdOf(TICK_JOB)).delete().catch(() => undefined);
    await worker?.stop();
    await receiver?.close();
    await rt?.close();
  });

  test(`Temporal stopped for ${OUTAGE_MS / 1000} s under a 2 s schedule with a 10 s catch-up window: one signed schedule.tick_missed`, async () => {
    worker = await startWorker();
    const schedule = rt.temporal.schedule.getHandle(scheduleIdOf(TICK_JOB));
    await eventually('a few ticks taken', async () => ((await schedule.describe().catch(() => undefined))?.info.numActionsTaken ?? 0) >= 3, 120_000, 500);
    const missedBefore = (await schedule.describe()).info.numActionsMissedCatchupWindow;
    assert.equal(missedBefore, 0, 'nothing missed before the outage');

    const stack = path.join(REPO, 'stack', 'stack.sh');
    await run('bash', [stack, 'stop', 'temporal'], { env: process.env });
    const stoppedAt = Date.now();
    await new Promise((r) => setTimeout(r, OUTAGE_MS));
    await run('bash', [stack, 'start', 'temporal'], { env: process.env });
    const backAt = Date.now();
    const missed = await eventually('the server to count missed ticks', async () => {
      const n = (await schedule.describe().catch(() => undefined))?.info.numActionsMissedCatchupWindow ?? 0;
      return n > 0 && n;
    }, 60_000, 500);

    const events = () => receiver.received.filter((r) => r.event.job === TICK_JOB);
    const first = await eventually('the tick_missed alert', async () => events()[0], 150_000, 500);
    // The next look, a minute later, finds the same count: nothing more is sent.
    await new Promise((r) => setTimeout(r, 70_000));
    console.log(
      `Temporal stopped ${((backAt - stoppedAt) / 1000).toFixed(0)} s; the server counted ${missed} ticks missed; ` +
        `schedule.tick_missed delivered ${((first.at - backAt) / 1000).toFixed(1)} s after it was back (total ${first.event.missed?.total}); ${events().length} event(s) in the ${((Date.now() - first.at) / 1000).toFixed(0)} s after`,
    );
    assert.equal(events().length, 1, JSON.stringify(events().map((e) => e.event)));
    assert.equal(first.event.type, 'schedule.tick_missed');
    assert.equal(first.signed, true, 'the receiver verified the HMAC of the body');
    assert.equal(first.event.missed?.scheduleId, scheduleIdOf(TICK_JOB));
    assert.ok((first.event.missed?.total ?? 0) >= missed, `${first.event.missed?.total} missed in the event, ${missed} counted`);
    assert.equal(worker.alive(), true, 'the worker rode the outage out');
    const [row] = (await rt.ds.query(`SELECT count(*)::int AS n, bool_and(delivered_at IS NOT NULL) AS delivered FROM alert_events WHERE job_name = $1`, [TICK_JOB])) as { n: number; delivered: boolean }[];
    assert.deepEqual(row, { n: 1, delivered: true });
  });
});
