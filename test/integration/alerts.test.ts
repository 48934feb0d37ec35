/**
 * Alerts against the real stack and a real HTTP receiver that refuses connections for its first 10 s and checks each
 * event's HMAC: a run that fails after its retries, a day past its freshness deadline (with a worker up, and with every
 * worker stopped across the deadline) and a skipped schedule tick each deliver exactly one event; the webhook's URL and
 * secret appear nowhere a user reads (logs, job_runs, alert_events, the API).
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { eventually, uniqueTag, useStackEnv } from '../support/stack';
import { bundleWorkflowsForWorkers, startWorker, TEST_MODULES, type WorkerProcess } from '../support/workerProcess';
import { startWebhookReceiver, type WebhookReceiver } from '../support/webhookReceiver';

const PREFIX = `alerts_${uniqueTag('a').replace(/-/g, '_')}`.slice(0, 40);
const TICK_JOB = `${PREFIX}_tick`;
const SECRET = `secret-${uniqueTag('s')}`;
/** In the webhook's path, as a chat service's token would be: it must never be shown. */
const URL_TOKEN = `hook-token-${uniqueTag('t')}`;
const REFUSE_MS = 10_000;
/** HH:MM:SS UTC of a moment `ms` from now, and the day (UTC) it falls on: the partition due then (offset 0). */
const deadlineIn = (ms: number) => {
  const at = new Date(Math.ceil((Date.now() + ms) / 1000) * 1000);
  return { at, hhmmss: at.toISOString().slice(11, 19), day: at.toISOString().slice(0, 10) };
};

useStackEnv({ ...TEST_MODULES, API_TOKEN: 'test-token-123', TEST_ALERT_SECRET: SECRET });

import { buildApi } from '../../workers/http/server';
import { openRuntime, type Runtime } from '../../workers/runtime';
import { awaitTick, triggerSchedule } from '../../client/schedules';
import { freshnessWorkflowId } from '../../workflows/alertTypes';
import { scheduleIdOf } from '../../workflows/tickTypes';

describe('alerts on the real stack, to a real receiver', { timeout: 600_000 }, () => {
  let rt: Runtime;
  let receiver: WebhookReceiver;
  let app: ReturnType<typeof buildApi>;
  const workers: WorkerProcess[] = [];
  const eventsOf = (job: string) => receiver.received.filter((r) => r.event.job === job);
  /** Waits for the first event of `job`, then `quietMs` more, and returns every event of `job` seen by then. */
  const exactlyOneFor = async (job: string, timeoutMs: number, quietMs = 8_000) => {
    const first = await eventually(`an alert of ${job}`, async () => eventsOf(job)[0], timeoutMs, 200);
    await new Promise((r) => setTimeout(r, quietMs));
    const all = eventsOf(job);
    assert.equal(all.length, 1, `exactly one event of ${job}: ${JSON.stringify(all.map((a) => a.event))}`);
    assert.equal(first.signed, true, 'the receiver verified the HMAC of the body');
    assert.equal(first.eventIdHeader, first.event.id);
    return first;
  };
  const startAlertWorker = (deadline: string, prefix = PREFIX) =>
    startWorker({ TEST_ALERT_JOB: prefix, TEST_ALERT_URL: receiver.url, TEST_ALERT_DEADLINE: deadline, TEST_TICK_JOB: TICK_JOB, TEST_TICK_EVERY: '1h', TEST_TICK_STEPS: '30', TEST_TICK_STEP_MS: '200', TEST_TICK_ALERTS: '1' });
  const stopWorkers = async () => {
    for (const w of workers.splice(0)) await w.stop();
  };

  before(async () => {
    await bundleWorkflowsForWorkers();
    receiver = await startWebhookReceiver({ secret: SECRET, refuseForMs: 0, path: `/hooks/${URL_TOKEN}?token=${URL_TOKEN}` });
    // This process's registry knows the jobs the workers run (the API answers for them), with the same webhook.
    Object.assign(process.env, { TEST_ALERT_JOB: PREFIX, TEST_ALERT_URL: receiver.url, TEST_TICK_JOB: TICK_JOB, TEST_TICK_EVERY: '1h', TEST_TICK_ALERTS: '1' });
    rt = await openRuntime();
    app = buildApi({ client: rt.client, token: 'test-token-123' });
    await app.ready();
  });
  after(async () => {
    await rt?.temporal.schedule.getHandle(scheduleIdOf(TICK_JOB)).delete().catch(() => undefined);
    for (const prefix of [PREFIX, `${PREFIX}_2`]) await rt?.temporal.workflow.getHandle(freshnessWorkflowId(`${prefix}_late`)).terminate('test done').catch(() => undefined);
    await stopWorkers();
    await receiver?.close();
    await app?.close();
    await rt?.close();
  });

  test('a run that fails after its retries and a day missing at its deadline each deliver one signed event through 10 s of refused connections', async () => {
    const deadline = deadlineIn(60_000);
    workers.push(await startAlertWorker(deadline.hhmmss));
    await receiver.refuseFor(REFUSE_MS);
    const refusedFrom = Date.now();
    const failJob = `${PREFIX}_fail`;
    const run = await rt.client.trigger(failJob, { failAttempts: 5, tag: uniqueTag('f') });
    const failed = await exactlyOneFor(failJob, 90_000);
    assert.equal(failed.event.type, 'job.failed');
    assert.deepEqual(
      { ...failed.event.run, error: failed.event.run?.error.split(':')[0] },
      { workflowId: run.workflowId, runId: run.runId, attempt: 2, status: 'failed', error: 'SimulatedFailure' },
    );
    assert.ok(failed.at >= receiver.listensFrom(), 'delivered once the receiver listened');
    const [row] = (await rt.ds.query(`SELECT attempts, delivered_at, last_error FROM alert_events WHERE event_id = $1`, [failed.event.id])) as { attempts: number; delivered_at: Date | null; last_error: string | null }[];
    assert.ok(row && row.delivered_at && row.attempts >= 2, `tried through the refusals: ${JSON.stringify(row)}`);
    console.log(`job.failed: delivered ${((failed.at - refusedFrom) / 1000).toFixed(1)} s after the receiver began refusing (${REFUSE_MS / 1000} s), on try ${row.attempts}; one event, HMAC verified`);

    // The deadline: nothing ran for the day, so at the deadline one partition.late goes out, through 10 s of refusals.
    const lateJob = `${PREFIX}_late`;
    await eventually('the freshness watch', () => rt.temporal.workflow.getHandle(freshnessWorkflowId(lateJob)).describe().catch(() => undefined), 60_000, 500);
    assert.ok(Date.now() < deadline.at.getTime() - 2_000, 'the deadline is still ahead');
    await new Promise((r) => setTimeout(r, deadline.at.getTime() - Date.now() - 2_000));
    await receiver.refuseFor(REFUSE_MS);
    const late = await exactlyOneFor(lateJob, 90_000);
    assert.equal(late.event.type, 'partition.late');
    assert.equal(late.event.partition, deadline.day);
    assert.deepEqual({ at: late.event.deadline?.at, status: late.event.deadline?.status }, { at: deadline.at.toISOString(), status: 'missing' });
    console.log(`partition.late of ${deadline.day}: delivered ${((late.at - deadline.at.getTime()) / 1000).toFixed(1)} s after the deadline (the receiver refused the first ${REFUSE_MS / 1000} s); one event, HMAC verified`);
  });

  test('a skipped schedule tick delivers one schedule.tick_skipped event naming the holder', async () => {
    const deps = { temporal: rt.temporal, db: rt.ds, jobs: rt.jobs };
    await eventually('the tick schedule', () => rt.temporal.schedule.getHandle(scheduleIdOf(TICK_JOB)).describe().catch(() => undefined), 60_000, 500);
    const first = await triggerSchedule(deps, TICK_JOB);
    const started = await eventually('the first tick', () => awaitTick(deps, TICK_JOB, first.triggeredAt, 60_000));
    assert.equal(started.outcome, 'started');
    await new Promise((r) => setTimeout(r, 1100)); // ticks are named by their second
    const second = await triggerSchedule(deps, TICK_JOB);
    const skipped = await eventually('the second tick', async () => (await awaitTick(deps, TICK_JOB, second.triggeredAt, 60_000))?.outcome === 'skipped' && true);
    assert.ok(skipped);
    const alert = await exactlyOneFor(TICK_JOB, 60_000, 3_000);
    assert.equal(alert.event.type, 'schedule.tick_skipped');
    assert.equal(alert.event.tick?.heldBy, started.runId);
  });

  test("the webhook's URL and secret are in no log, run row, alert row or API answer", async () => {
    const jobs = await app.inject({ method: 'GET', url: '/jobs', headers: { authorization: 'Bearer test-token-123' } });
    const lateJob = (jobs.json() as { jobs: { name: string; alerts: unknown }[] }).jobs.find((j) => j.name === `${PREFIX}_late`)!;
    assert.deepEqual(lateJob.alerts, { on: ['failed', 'late'], webhook: 'from $TEST_ALERT_URL', signed: true, expectedBy: lateJob.alerts && (lateJob.alerts as { expectedBy: string }).expectedBy });
    const places = {
      'GET /jobs': jobs.body,
      'worker logs': workers.map((w) => w.output()).join('\n'),
      job_runs: JSON.stringify(await rt.ds.query(`SELECT * FROM job_runs WHERE job_name LIKE $1`, [`${PREFIX}%`])),
      alert_events: JSON.stringify(await rt.ds.query(`SELECT * FROM alert_events WHERE job_name LIKE $1`, [`${PREFIX}%`])),
    };
    assert.ok(places.alert_events.includes('partition.late'), 'the alerts were recorded');
    const ids = ((await rt.ds.query(`SELECT event_id FROM alert_events WHERE job_name LIKE $1`, [`${PREFIX}%`])) as { event_id: string }[]).map((r) => r.event_id);
    const histories = await Promise.all(ids.map(async (id) => JSON.stringify(await rt.temporal.workflow.getHandle(id).fetchHistory())));
    Object.assign(places, { 'the alert workflows\' histories': histories.join('\n') });
    for (const [where, text] of Object.entries(places)) {
      assert.equal(text.includes(URL_TOKEN), false, `the URL in ${where}`);
      assert.equal(text.includes(SECRET), false, `the secret in ${where}`);
    }
  });

  test('with every worker stopped across the deadline, the alert goes out once, as soon as a worker is back', async () => {
    await stopWorkers();
    const prefix = `${PREFIX}_2`;
    const lateJob = `${prefix}_late`;
    const deadline = deadlineIn(40_000);
    workers.push(await startAlertWorker(deadline.hhmmss, prefix));
    const watch = rt.temporal.workflow.getHandle(freshnessWorkflowId(lateJob));
    await eventually(
      'the watch waiting on its timer for the deadline',
      async () => (await watch.fetchHistory().catch(() => undefined))?.events?.some((e) => e.timerStartedEventAttributes),
      60_000,
      500,
    );
    await stopWorkers();
    const stoppedAt = Date.now();
    assert.ok(stoppedAt < deadline.at.getTime() - 5_000, 'the workers stopped well before the deadline');
    await new Promise((r) => setTimeout(r, deadline.at.getTime() + 15_000 - Date.now()));
    assert.equal(eventsOf(lateJob).length, 0, 'no worker, no alert yet');
    const restartedAt = Date.now();
    workers.push(await startAlertWorker(deadline.hhmmss, prefix));
    const late = await exactlyOneFor(lateJob, 60_000, 10_000);
    assert.equal(late.event.partition, deadline.day);
    console.log(
      `every worker stopped from ${((deadline.at.getTime() - stoppedAt) / 1000).toFixed(0)} s before the deadline to ${((restartedAt - deadline.at.getTime()) / 1000).toFixed(0)} s after it: ` +
        `partition.late delivered ${((late.at - restartedAt) / 1000).toFixed(1)} s after a worker started; exactly one`,
    );
  });
});
