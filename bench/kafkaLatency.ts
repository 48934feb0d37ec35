/**
 * `node --import tsx bench/kafkaLatency.ts [--messages 100]` (stack env set): produce -> row latency at light load.
 * A worker runs a consumer on a topic of its own; after a warm-up (the consumer and the four ingest workflows exist),
 * one message at a time is produced and the time until its row is in Postgres is taken (polled by key every 10 ms),
 * with a random pause between messages, so each one travels alone: one small descriptor per message.
 */
import { parseArgs } from 'node:util';
import { KafkaTools } from '../connections/kafkaTools';
import { consumerWorkflowId } from '../workflows/consumerIds';
import { produceCuratedEvents } from '../scripts/produce-curated-events';
import { uniqueTag, useStackEnv } from '../test/support/stack';
import { startWorker, TEST_MODULES } from '../test/support/workerProcess';
import { compileWorkerModules } from './workerModules';
import { openRuntime } from '../workers/runtime';
import { percentile } from './context';

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { messages: { type: 'string', default: '100' } } });
  const count = Number(values.messages);
  useStackEnv({
    TEMPORAL_TASK_QUEUE: uniqueTag('latency'),
    ...TEST_MODULES,
  });
  const tag = uniqueTag('lat').replace(/-/g, '_');
  const name = `lat_${tag}`;
  const topic = `lat.${tag}`;
  const rt = await openRuntime();
  const kafka = new KafkaTools(rt.env, 'latency');
  await kafka.createTopic(topic, 4);
  const worker = await startWorker({
    TEST_CONSUMER_NAME: name,
    TEST_CONSUMER_TOPIC: topic,
    TEST_CONSUMER_GROUP: `${topic}.group`,
    ...(await compileWorkerModules()),
  });
  const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
  try {
    await produceCuratedEvents({ kafka, topic, count: 40, partitions: 4, seed: 1, prefix: `${name}-warm`, garbageShare: 0, repeatShare: 0 });
    await sleep(8000);
    const ms: number[] = [];
    for (let i = 0; i < count; i++) {
      const prefix = `${name}-m${i}`;
      const t = Date.now();
      await produceCuratedEvents({ kafka, topic, count: 1, partitions: 4, seed: 100 + i, prefix, garbageShare: 0, repeatShare: 0 });
      while ((await rt.ds.query(`SELECT 1 FROM curated_program_events WHERE event_id LIKE $1 || '-%' LIMIT 1`, [prefix])).length === 0) await sleep(10);
      ms.push(Date.now() - t);
      // A random pause, so the messages do not fall into step with the consumer's 200 ms look for new offsets.
      await sleep(100 + Math.floor(Math.random() * 400));
    }
    console.log(
      `produce -> row, ${count} single messages: p50 ${percentile(ms, 50)} ms, p90 ${percentile(ms, 90)} ms, p99 ${percentile(ms, 99)} ms, max ${Math.max(...ms)} ms`,
    );
  } finally {
    await rt.temporal.workflow.getHandle(consumerWorkflowId(name)).terminate('latency bench finished').catch(() => undefined);
    for await (const wf of rt.temporal.workflow.list({ query: `WorkflowId STARTS_WITH "ingest/${name}/" AND ExecutionStatus = "Running"` })) {
      await rt.temporal.workflow.getHandle(wf.workflowId).terminate('latency bench finished').catch(() => undefined);
    }
    await worker.stop();
    await rt.ds.query(`DELETE FROM curated_program_events WHERE topic = $1`, [topic]);
    await rt.ds.query(`DELETE FROM kafka_applied_offsets WHERE consumer = $1`, [name]);
    await kafka.deleteGroups([`${topic}.group`]).catch(() => undefined);
    await kafka.deleteTopics([topic]).catch(() => undefined);
    await kafka.close();
    await rt.close();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
