/**
 * Records one history of each workflow type and path from the real local stack into test/replay/histories/, for
 * test/unit/workflowReplay.test.ts to replay against the current workflow code. Run it when a workflow gains a path
 * (and keep the old files: they are what a deploy must still replay):
 *
 *   bash stack/stack.sh up && eval "$(bash stack/stack.sh env)" && node --import tsx test/replay/recordHistories.ts [group ...]
 *
 * With group names (scheduledJob, ingest, scheduleTick, backfill, consumers, limits, alerts), only those are recorded
 * again.
 */
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { REPO, uniqueTag, useStackEnv, eventually } from '../support/stack';

const topic = `replay.${uniqueTag('record').replace(/-/g, '_')}`;
const consumerName = `replay_${topic.split('.')[1]}`;
const tickJob = `replay_tick_${topic.split('.')[1]}`.slice(0, 63);
const limitedJob = `replay_limited_${topic.split('.')[1]}`.slice(0, 50);
const alertPrefix = `replay_alerts_${topic.split('.')[1]}`.slice(0, 40);
useStackEnv({
  // A job limited to one run at once (and its flaky and per-source variants), and jobs that alert a local receiver.
  TEST_LIMITED_JOB: limitedJob,
  TEST_LIMIT: '1',
  TEST_ALERT_JOB: alertPrefix,
  TEST_ALERT_SECRET: `secret-${topic.split('.')[1]}`,
  // A schedule of its own that never fires by itself in the recording: every tick below is a trigger.
  TEST_TICK_JOB: tickJob,
  TEST_TICK_EVERY: '1h',
  TEST_TICK_STEPS: '6',
  TEST_TICK_STEP_MS: '500',
  JOBS_MODULE: path.join(REPO, 'test', 'support', 'jobs.ts'),
  CONSUMERS_MODULE: path.join(REPO, 'test', 'support', 'consumers.ts'),
  TEST_CONSUMER_NAME: consumerName,
  TEST_CONSUMER_TOPIC: topic,
  TEST_CONSUMER_BATCH_SIZE: '20',
  // Small enough that 300 messages take several descriptors, both workflows continue as new, and the recorded runs
  // start from carried state.
  TEST_CONSUMER_RANGE_MAX: '40',
  TEST_CONSUMER_MAX_LEAD: '80',
  TEST_CONSUMER_INGEST_CAN_AFTER: '3',
  TEST_CONSUMER_CAN_AFTER_REPORTS: '3',
});

import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { KafkaTools } from '../../connections/kafkaTools';
import { createS3Client } from '../../connections/s3';
import { consumerWorkflowId, ingestWorkflowId } from '../../workflows/consumerIds';
import { CONSUMER_WORKFLOW_TYPE, type ConsumerWorkflowInput } from '../../workflows/consumerTypes';
import { openConsumers } from '../../workers/openConsumers';
import { produceCuratedEvents } from '../../scripts/produce-curated-events';
import { openRuntime, type Runtime } from '../../workers/runtime';
import { catalogWorkflowId } from '../../workflows/catalogTypes';
import { consumerStatusQuery, ingestWaitingSignal } from '../../workflows/consumerSignals';
import { awaitTick, triggerSchedule } from '../../client/schedules';
import { backfillWorkflowId } from '../../workflows/backfillTypes';
import type { BackfillProgress } from '../../workflows/backfillTypes';
import { scheduleIdOf } from '../../workflows/tickTypes';
import { freshDay, generateAndUpload } from '../support/days';
import { startWorker } from '../support/workerProcess';
import { startWebhookReceiver } from '../support/webhookReceiver';
import { alertWorkflowId, freshnessWorkflowId } from '../../workflows/alertTypes';
import { permitWorkflowId } from '../../workflows/permitTypes';

const OUT = path.join(REPO, 'test', 'replay', 'histories');
/** Groups to record (scheduledJob, ingest, scheduleTick, backfill, consumers, limits, alerts); all without arguments. */
const GROUPS = process.argv.slice(2);
const want = (group: string) => GROUPS.length === 0 || GROUPS.includes(group);

async function main(): Promise<void> {
  // Every worker of the recording declares the alerting jobs, so each needs the webhook's address.
  const receiver = await startWebhookReceiver({ secret: process.env['TEST_ALERT_SECRET']!, refuseForMs: 0 });
  process.env['TEST_ALERT_URL'] = receiver.url;
  const rt = await openRuntime();
  let worker = await startWorker();
  const queue = process.env['TEMPORAL_TASK_QUEUE']!;
  // Histories do not hold their workflow ID, and the workflows check theirs: the manifest keeps each one's.
  const ids: Record<string, string> = {};
  // The form Temporal documents for replay tests, and what a user can record from any cluster the same way.
  const save = async (name: string, workflowId: string, runId?: string) => {
    ids[`${name}.json`] = workflowId;
    const { stdout } = await promisify(execFile)(
      'temporal',
      ['workflow', 'show', '--workflow-id', workflowId, ...(runId ? ['--run-id', runId] : []), '--output', 'json', '--address', rt.env.TEMPORAL_ADDRESS],
      { maxBuffer: 64 * 1024 * 1024 },
    );
    await writeFile(path.join(OUT, `${name}.json`), stdout);
    console.log(`${name}: ${(JSON.parse(stdout) as { events: unknown[] }).events.length} events of ${workflowId}`);
  };
  try {
    // The run log as local activities; the scheduledJob-<path> histories of its activity tasks stay as recorded: they
    // are what runs from before it replay.
    const SCHEDULED_JOB = 'scheduledJob-local-run-log';
    if (want('scheduledJob')) {
      const tag = uniqueTag('replay');
      const ok = await rt.client.trigger('test_steps', { steps: 2, stepMs: 10, tag });
      await rt.client.waitFor('test_steps', ok.runId);
      await save(`${SCHEDULED_JOB}-succeeded`, ok.workflowId, ok.runId);

      const retried = await rt.client.trigger('test_flaky_retries_1', { failAttempts: 1, tag });
      const retriedView = await rt.client.waitFor('test_flaky_retries_1', retried.runId);
      await save(`${SCHEDULED_JOB}-failed-then-continued-as-new`, retried.workflowId, retried.runId);
      await save(`${SCHEDULED_JOB}-retry-attempt-succeeded`, retried.workflowId, retriedView.latestRunId);

      const late = await rt.client.trigger('test_steps_deadline', { steps: 20, stepMs: 1000, tag });
      const lateView = await rt.client.waitFor('test_steps_deadline', late.runId);
      await save(`${SCHEDULED_JOB}-attempt-timed-out`, late.workflowId, lateView.latestRunId);

      const cancelled = await rt.client.trigger('test_steps', { steps: 100, stepMs: 200, tag: `${tag}-cancel` });
      await new Promise((r) => setTimeout(r, 1500));
      await rt.client.cancel('test_steps', cancelled.runId);
      await rt.client.waitFor('test_steps', cancelled.runId);
      await save(`${SCHEDULED_JOB}-cancelled`, cancelled.workflowId, cancelled.runId);

      const wrongId = `test_steps-${tag}`;
      await rt.temporal.workflow.start('scheduledJob', {
        workflowId: wrongId,
        taskQueue: queue,
        args: [{ job: 'test_steps', args: { steps: 1, stepMs: 0, tag } }],
      });
      await rt.temporal.workflow.getHandle(wrongId).result().catch(() => undefined);
      await save(`${SCHEDULED_JOB}-wrong-workflow-id`, wrongId);
    }

    if (want('ingest')) {
      const s3 = createS3Client(rt.env);
      const day = freshDay();
      await generateAndUpload(s3, rt.env.S3_BUCKET, { day, objects: 3, linesPerObject: 500, seed: 19 });
      s3.destroy();
      const ingest = await rt.client.trigger('ingest_notification_views', { day, batchSize: 2 });
      await rt.client.waitFor('ingest_notification_views', ingest.runId);
      await save(`${SCHEDULED_JOB}-ingest-day`, ingest.workflowId, ingest.runId);
      await save('ingestObjectBatch', `${ingest.workflowId}/attempt-1/batch-0`);
    }

    if (want('scheduleTick')) {
      // Schedule ticks: one that starts the day's run, one that meets it holding the lock, then (with buffer_one) one
      // that waits for the holder and starts after it.
      const ticks = { temporal: rt.temporal, db: rt.ds, jobs: rt.jobs };
      const tickOf = async (label: string, expected: string) => {
        // Temporal names a tick by its time to the second: two triggers within one second make one tick.
        await new Promise((r) => setTimeout(r, 1100));
        const t = await triggerSchedule(ticks, tickJob);
        const tick = await awaitTick(ticks, tickJob, t.triggeredAt, 60_000);
        if (tick?.outcome !== expected) throw new Error(`${label}: expected a ${expected} tick, got ${JSON.stringify(tick)}`);
        await eventually(`${label} to end`, async () => (await rt.temporal.workflow.getHandle(tick.tickWorkflowId).describe()).status.name !== 'RUNNING', 60_000);
        await save(`scheduleTick-${label}`, tick.tickWorkflowId);
        return tick;
      };
      const scheduleMade = () =>
        eventually('the worker to create the schedule', () => rt.temporal.schedule.getHandle(scheduleIdOf(tickJob)).describe().catch(() => undefined), 60_000);
      await scheduleMade();
      const first = await tickOf('started', 'started');
      await tickOf('skipped-lock-held', 'skipped');
      await rt.temporal.workflow.getHandle(first.workflowId!).result().catch(() => undefined);
      await worker.stop();
      worker = await startWorker({ TEST_TICK_OVERLAP: 'buffer_one' });
      await tickOf('started', 'started').then((t) => rt.temporal.workflow.getHandle(t.workflowId!).result());
      const held = await triggerSchedule(ticks, tickJob);
      await awaitTick(ticks, tickJob, held.triggeredAt, 60_000);
      await tickOf('buffered-then-started', 'started');
      await rt.temporal.schedule.getHandle(scheduleIdOf(tickJob)).delete();
    }

    if (want('backfill')) {
      // A backfill of three days that continues as new after two (as any backfill does after 100), with one day
      // already succeeded (skipped) and one running under its lock when the backfill reaches it (attached).
      const bfFirst = freshDay();
      const bfDays = [0, 1, 2].map((i) => new Date(Date.parse(`${bfFirst}T00:00:00Z`) + i * 86_400_000).toISOString().slice(0, 10));
      const stepArgs = { steps: 2, stepMs: 300 };
      const done = await rt.client.trigger('test_day_steps', { day: bfDays[0], ...stepArgs });
      await rt.client.waitFor('test_day_steps', done.runId);
      await rt.client.trigger('test_day_steps', { day: bfDays[2], steps: 20, stepMs: 500 });
      const bfId = backfillWorkflowId('test_day_steps', bfDays[0]!, bfDays[2]!);
      const bf = await rt.temporal.workflow.start('backfill', {
        workflowId: bfId,
        taskQueue: queue,
        args: [{ job: 'test_day_steps', from: bfDays[0], to: bfDays[2], kind: 'day', concurrency: 2, force: false, retries: 1, extraArgs: stepArgs, partitionsPerRun: 2 }],
      });
      const summary = (await bf.result()) as BackfillProgress;
      if (summary.counts.skipped !== 1 || summary.counts.succeeded !== 2 || summary.continuedRuns !== 1) {
        throw new Error(`backfill: unexpected summary ${JSON.stringify(summary)}`);
      }
      await save('backfill-continued-as-new', bfId, bf.firstExecutionRunId);
      await save('backfill-completed', bfId);
    }

    if (want('consumers')) {
      await recordConsumers(rt, queue, save);
      await save('jobCatalog', catalogWorkflowId(queue));
      await rt.temporal.workflow.getHandle(catalogWorkflowId(queue)).terminate('histories recorded').catch(() => undefined);
    }
    if (want('limits')) {
      // Limit 1: a run that waits queued behind another and then takes the permit; a run that fails, gives its permit
      // back by signal before its backoff and queues again; the permits themselves, released by that signal and ended
      // by the server when their holder closed (parent-close TERMINATE).
      const first = freshDay();
      const days = [0, 1].map((i) => new Date(Date.parse(`${first}T00:00:00Z`) + i * 86_400_000).toISOString().slice(0, 10));
      const ahead = await rt.client.trigger(limitedJob, { day: days[0], steps: 4, stepMs: 500 });
      const behind = await rt.client.trigger(limitedJob, { day: days[1], steps: 2, stepMs: 100 });
      for (const r of [ahead, behind]) await rt.client.waitFor(limitedJob, r.runId);
      await save('scheduledJob-limited-queued-then-ran', behind.workflowId, behind.runId);
      await save('concurrencyPermit-holder-closed', permitWorkflowId(limitedJob, 0));

      const flakyJob = `${limitedJob}_flaky`;
      const flaky = await rt.client.trigger(flakyJob, { failAttempts: 1, tag: uniqueTag('replay') });
      const flakyView = await rt.client.waitFor(flakyJob, flaky.runId);
      if (flakyView.status !== 'succeeded' || flakyView.attempt !== 2) throw new Error(`limits: unexpected ${JSON.stringify(flakyView)}`);
      await save('scheduledJob-limited-released-then-continued-as-new', flaky.workflowId, flaky.runId);
      await save('scheduledJob-limited-retry-attempt-succeeded', flaky.workflowId, flakyView.latestRunId);
      const permitId = permitWorkflowId(flakyJob, 0);
      const released = await eventually(
        'the permit released by signal',
        async () => {
          for await (const wf of rt.temporal.workflow.list({ query: `WorkflowId = "${permitId}" AND ExecutionStatus = "Completed"` })) return wf.runId;
          return undefined;
        },
        60_000,
      );
      await save('concurrencyPermit-released', permitId, released);
    }

    if (want('alerts')) {
      // A run that fails after its retry and alerts; the delivery of that alert; the freshness watch, refreshed by a
      // worker start, alerting a day missing at its deadline; a skipped tick that alerts.
      const at = new Date(Math.ceil((Date.now() + 25_000) / 1000) * 1000);
      await worker.stop();
      worker = await startWorker({ TEST_ALERT_DEADLINE: at.toISOString().slice(11, 19), TEST_TICK_ALERTS: '1' });
      const failJob = `${alertPrefix}_fail`;
      const failing = await rt.client.trigger(failJob, { failAttempts: 5, tag: uniqueTag('replay') });
      const failedView = await rt.client.waitFor(failJob, failing.runId);
      const failedAlert = alertWorkflowId(failJob, 'failed', failing.runId);
      await rt.temporal.workflow.getHandle(failedAlert).result();
      await save('scheduledJob-local-run-log-failed-alerted', failing.workflowId, failedView.latestRunId);
      await save('deliverAlert-delivered', failedAlert);

      const lateJob = `${alertPrefix}_late`;
      const lateAlert = alertWorkflowId(lateJob, 'late', at.toISOString().slice(0, 10));
      await eventually('the late alert', () => rt.temporal.workflow.getHandle(lateAlert).result().then(() => true).catch(() => undefined), 90_000, 500);
      // Then it sleeps until the next day's deadline: ended here, its history has the path the test needs.
      await eventually('the watch waiting for the next deadline', async () => {
        const events = (await rt.temporal.workflow.getHandle(freshnessWorkflowId(lateJob)).fetchHistory()).events ?? [];
        return events.filter((e) => e.timerStartedEventAttributes).length >= 2 || undefined;
      }, 30_000);
      await rt.temporal.workflow.getHandle(freshnessWorkflowId(lateJob)).terminate('histories recorded');
      await save('freshnessWatch-late-alerted', freshnessWorkflowId(lateJob));

      const ticks = { temporal: rt.temporal, db: rt.ds, jobs: rt.jobs };
      await eventually('the tick schedule', () => rt.temporal.schedule.getHandle(scheduleIdOf(tickJob)).describe().catch(() => undefined), 60_000);
      await new Promise((r) => setTimeout(r, 1100));
      const firstTick = await triggerSchedule(ticks, tickJob);
      const started = await awaitTick(ticks, tickJob, firstTick.triggeredAt, 60_000);
      await new Promise((r) => setTimeout(r, 1100));
      const secondTick = await triggerSchedule(ticks, tickJob);
      const skipped = await awaitTick(ticks, tickJob, secondTick.triggeredAt, 60_000);
      if (started?.outcome !== 'started' || skipped?.outcome !== 'skipped') throw new Error(`alerts: ticks ${JSON.stringify([started, skipped])}`);
      await eventually('the skipped tick to end', async () => (await rt.temporal.workflow.getHandle(skipped.tickWorkflowId).describe()).status.name !== 'RUNNING', 60_000);
      await save('scheduleTick-skipped-alerted', skipped.tickWorkflowId);
      await rt.temporal.workflow.getHandle(started.workflowId!).result().catch(() => undefined);
      await rt.temporal.schedule.getHandle(scheduleIdOf(tickJob)).delete().catch(() => undefined);
      if (receiver.received.length !== 3) throw new Error(`alerts: the receiver got ${receiver.received.length} events`);
    }

    // Merged: the histories recorded before (and kept) need their IDs too.
    const manifest = path.join(OUT, 'workflow-ids.json');
    const kept = JSON.parse(await readFile(manifest, 'utf8')) as Record<string, string>;
    await writeFile(manifest, JSON.stringify({ ...kept, ...ids }, null, 2) + '\n');
  } finally {
    await worker.stop();
    await rt.close();
    await receiver.close();
  }
}

type Save = (name: string, workflowId: string, runId?: string) => Promise<void>;

/**
 * The consumer's and the ingest's paths: descriptors, continue-as-new of both with their state carried into the
 * next run, pause and resume (through the operators' client: Postgres and the signal), and the consumer's back-off
 * after a non-retryable failure.
 */
async function recordConsumers(rt: Runtime, queue: string, save: Save): Promise<void> {
  const kafka = new KafkaTools(rt.env, 'record-histories');
  const consumers = openConsumers(rt, 'record-histories');
  const applied = async () =>
    Number(((await rt.ds.query(`SELECT applied_offset::text AS o FROM kafka_applied_offsets WHERE consumer = $1`, [consumerName])) as { o: string }[])[0]?.o ?? -1);
  const runs = async (workflowId: string) => {
    const out: string[] = [];
    for await (const wf of rt.temporal.workflow.list({ query: `WorkflowId = "${workflowId}"` })) out.push(wf.runId);
    return out;
  };
  try {
    const consumerId = consumerWorkflowId(consumerName);
    const ingestId = ingestWorkflowId(consumerName, topic, 0);
    await produceCuratedEvents({ kafka, topic, count: 300, partitions: 1, createTopic: true, seed: 7, prefix: consumerName });
    await eventually('every message written and both workflows continued as new', async () => {
      if ((await applied()) < 299) return undefined;
      const [c, i] = await Promise.all([runs(consumerId), runs(ingestId)]);
      return c.length >= 2 && i.length >= 2;
    }, 120_000);
    await consumers.client.pause(consumerName, 'record-histories');
    await produceCuratedEvents({ kafka, topic, count: 50, partitions: 1, seed: 8, prefix: `${consumerName}-more` });
    await new Promise((r) => setTimeout(r, 2000));
    await consumers.client.resume(consumerName, 'record-histories');
    await eventually('the messages produced while paused written', async () => (await applied()) >= 349, 60_000);
    const consumerRuns = (await runs(consumerId)).reverse();
    const ingestRuns = (await runs(ingestId)).reverse();
    await save('kafkaConsumer-pause-in-postgres-continued-as-new', consumerId, consumerRuns[0]);
    await save('kafkaConsumer-pause-in-postgres-carried-paused-resumed', consumerId);
    await save('consumerIngest-deprecated-patch-continued-as-new', ingestId, ingestRuns[0]);
    await save('consumerIngest-deprecated-patch-carried', ingestId);

    // A partition that waits on the schema registry and then goes on: the two signals its ingest activity sends.
    const consumer = rt.temporal.workflow.getHandle(consumerId);
    const reason = `schema registry at ${rt.env.SCHEMA_REGISTRY_URL} unavailable: GET /schemas/ids/3: ECONNREFUSED`;
    await consumer.signal(ingestWaitingSignal, { topic, partition: 0, reason, at: new Date().toISOString() });
    await eventually('the status to name the registry', async () => (await consumer.query(consumerStatusQuery)).waiting[0]?.reason === reason);
    await consumer.signal(ingestWaitingSignal, { topic, partition: 0, reason: null, at: new Date().toISOString() });
    await eventually('the wait to end', async () => ((await consumer.query(consumerStatusQuery)).waiting.length === 0 ? {} : undefined));
    await save('kafkaConsumer-ingest-waiting', consumerId);

    // A consumer no worker defines: its activity fails non-retryably, the workflow backs off, then tries again.
    const unknown = `${consumerName}_unknown`;
    const input: ConsumerWorkflowInput = {
      consumer: unknown,
      settings: { heartbeatTimeoutMs: 5000, retryInitialIntervalMs: 200, retryMaximumIntervalMs: 1000, continueAsNewAfterReports: 100 },
    };
    await rt.temporal.workflow.start(CONSUMER_WORKFLOW_TYPE, { workflowId: consumerWorkflowId(unknown), taskQueue: queue, args: [input] });
    await eventually('two consumer activities around a back-off', async () => {
      const { events } = await rt.temporal.workflow.getHandle(consumerWorkflowId(unknown)).fetchHistory();
      return (events ?? []).filter((e) => e.activityTaskScheduledEventAttributes).length >= 2;
    }, 60_000);
    await save('kafkaConsumer-non-retryable-back-off', consumerWorkflowId(unknown));

    for (const id of [consumerId, ingestId, consumerWorkflowId(unknown)]) {
      await rt.temporal.workflow.getHandle(id).terminate('histories recorded').catch(() => undefined);
    }
    await kafka.deleteTopics([topic]).catch(() => undefined);
  } finally {
    await consumers.close();
    await kafka.close();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
