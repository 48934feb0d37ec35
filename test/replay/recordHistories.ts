/**
 * Records one history of each workflow type and path from the real local stack into test/replay/histories/, for
 * test/unit/workflowReplay.test.ts to replay against the current workflow code. Run it when a workflow gains a path
 * (and keep the old files: they are what a deploy must still replay):
 *
 *   bash stack/stack.sh up && eval "$(bash stack/stack.sh env)" && node --import tsx test/replay/recordHistories.ts
 */
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { REPO, uniqueTag, useStackEnv, eventually } from '../support/stack';

const topic = `replay.${uniqueTag('record').replace(/-/g, '_')}`;
const consumerName = `replay_${topic.split('.')[1]}`;
useStackEnv({
  JOBS_MODULE: path.join(REPO, 'test', 'support', 'jobs.ts'),
  CONSUMERS_MODULE: path.join(REPO, 'test', 'support', 'consumers.ts'),
  TEST_CONSUMER_NAME: consumerName,
  TEST_CONSUMER_TOPIC: topic,
  TEST_CONSUMER_BATCH_SIZE: '20',
});

import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { KafkaTools } from '../../connections/kafkaTools';
import { createS3Client } from '../../connections/s3';
import { consumerWorkflowId, ingestWorkflowId } from '../../workflows/consumerIds';
import { produceCuratedEvents } from '../../scripts/produce-curated-events';
import { openRuntime } from '../../workers/runtime';
import { catalogWorkflowId } from '../../workflows/catalogTypes';
import { consumerStatusQuery, ingestWaitingSignal } from '../../workflows/consumers';
import { freshDay, generateAndUpload } from '../support/days';
import { startWorker } from '../support/workerProcess';

const OUT = path.join(REPO, 'test', 'replay', 'histories');

async function main(): Promise<void> {
  const rt = await openRuntime();
  const worker = await startWorker();
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

    const s3 = createS3Client(rt.env);
    const day = freshDay();
    await generateAndUpload(s3, rt.env.S3_BUCKET, { day, objects: 3, linesPerObject: 500, seed: 19 });
    s3.destroy();
    const ingest = await rt.client.trigger('ingest_notification_views', { day, batchSize: 2 });
    await rt.client.waitFor('ingest_notification_views', ingest.runId);
    await save(`${SCHEDULED_JOB}-ingest-day`, ingest.workflowId, ingest.runId);
    await save('ingestObjectBatch', `${ingest.workflowId}/attempt-1/batch-0`);

    const kafka = new KafkaTools(rt.env, 'record-histories');
    await produceCuratedEvents({ kafka, topic, count: 300, partitions: 1, createTopic: true, seed: 7, prefix: consumerName });
    const ingestId = ingestWorkflowId(consumerName, topic, 0);
    await eventually(
      'the consumer to hand over and the ingest to write every message',
      async () => {
        const status = await rt.temporal.workflow.getHandle(consumerWorkflowId(consumerName)).query<{ totals: { messages: number } }>('status');
        const p = await rt.temporal.workflow.getHandle(ingestId).query<{ pendingBatches: number }>('progress').catch(() => undefined);
        return status.totals.messages >= 300 && p?.pendingBatches === 0;
      },
      120_000,
    );
    // The descriptor flow; the row flow's histories (consumerIngest-local-writes, -activity-writes,
    // kafkaConsumer-running) stay as recorded: they are what runs from before it replay.
    await save('kafkaConsumer-descriptors', consumerWorkflowId(consumerName));
    // A partition that waits on the schema registry and then goes on: the two signals its ingest activity sends.
    const consumer = rt.temporal.workflow.getHandle(consumerWorkflowId(consumerName));
    const reason = `schema registry at ${rt.env.SCHEMA_REGISTRY_URL} unavailable: GET /schemas/ids/3: ECONNREFUSED`;
    await consumer.signal(ingestWaitingSignal, { topic, partition: 0, reason, at: new Date().toISOString() });
    await eventually('the status to name the registry', async () => (await consumer.query(consumerStatusQuery)).waiting[0]?.reason === reason);
    await consumer.signal(ingestWaitingSignal, { topic, partition: 0, reason: null, at: new Date().toISOString() });
    await eventually('the wait to end', async () => ((await consumer.query(consumerStatusQuery)).waiting.length === 0 ? {} : undefined));
    await save('kafkaConsumer-ingest-waiting', consumerWorkflowId(consumerName));
    await save('consumerIngest-kafka-ranges', ingestId);
    await save('jobCatalog', catalogWorkflowId(queue));

    for (const id of [consumerWorkflowId(consumerName), ingestId, catalogWorkflowId(queue)]) {
      await rt.temporal.workflow.getHandle(id).terminate('histories recorded').catch(() => undefined);
    }
    // Merged: the histories recorded before (and kept) need their IDs too.
    const manifest = path.join(OUT, 'workflow-ids.json');
    const kept = JSON.parse(await readFile(manifest, 'utf8')) as Record<string, string>;
    await writeFile(manifest, JSON.stringify({ ...kept, ...ids }, null, 2) + '\n');
    await kafka.deleteTopics([topic]).catch(() => undefined);
    await kafka.close();
  } finally {
    await worker.stop();
    await rt.close();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
