/**
 * Kafka -> Postgres through the product (consumer workflow, descriptors, ingest workflows reading their ranges)
 * against a raw kafkajs consumer that only consumes and decodes the same messages, and a plain sink. Each starts from
 * a group with no offsets.
 */
import { readFileSync } from 'node:fs';
import type { Kafka } from 'kafkajs';
import { Pool, type Client as PgClient } from 'pg';
import { createKafka } from '../connections/kafka';
import { curatedProgramConsumer } from '../consumers/curatedProgram';
import { consumerWorkflowId } from '../consumers/ids';
import { ConsumerRegistry } from '../consumers/registry';
import { createCuratedProgramDecoder, type CuratedProgramEvent } from '../domain/curatedProgramEvents';
import { produceCuratedEvents, SCHEMA_PATH } from '../scripts/produce-curated-events';
import { sampleRss } from '../test/support/rss';
import { eventually, uniqueTag } from '../test/support/stack';
import { consumerStatusQuery, pauseSignal, resumeSignal } from '../workflows/consumers';
import { seconds, type BenchContext, type BenchRow } from './context';

const PARTITIONS = 4;

export interface KafkaFigures {
  messages: number;
  kafka_raw_s: number;
  kafka_sink_s: number;
  kafka_ingest_s: number;
  /** The worker's peak RSS while the consumer path drained this size. */
  kafka_worker_peak_rss_mib: number;
  /** Over every run of the ingest workflows of this drain. */
  ingest_history_events: number;
  ingest_history_bytes: number;
  ingest_runs: number;
}

const SINK_TABLE = 'bench_sink_events';

/** The consumer the bench's worker runs (through test/support/consumers.ts), on a topic of its own. */
export function benchConsumer(): { name: string; topic: string; env: Record<string, string> } {
  const tag = uniqueTag('bench').replace(/-/g, '_');
  const name = `bench_${tag}`;
  const topic = `bench.${tag}`;
  return {
    name,
    topic,
    // The shipped consumer's defaults (transaction size, range size, lead bound, continue-as-new).
    env: {
      TEST_CONSUMER_NAME: name,
      TEST_CONSUMER_TOPIC: topic,
      TEST_CONSUMER_GROUP: `${topic}.group`,
      TEST_CONSUMER_BATCH_SIZE: String(new ConsumerRegistry([curatedProgramConsumer]).get(curatedProgramConsumer.name).batchSize),
      TEST_CONSUMER_INGEST_CAN_AFTER: '500',
    },
  };
}

async function rawConsumeAndDecode(kafka: Kafka, topic: string, messages: number): Promise<number> {
  const decode = createCuratedProgramDecoder({ wireFormat: 'avro-raw', readerSchema: JSON.parse(readFileSync(SCHEMA_PATH, 'utf8')) });
  const consumer = kafka.consumer({ groupId: `${topic}.raw`, sessionTimeout: 10_000 });
  const t = process.hrtime.bigint();
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  let seen = 0;
  let decoded = 0;
  await new Promise<void>((resolve, reject) => {
    consumer
      .run({
        partitionsConsumedConcurrently: PARTITIONS,
        eachBatch: async ({ batch }) => {
          for (const m of batch.messages) if (decode(m.value).ok) decoded++;
          seen += batch.messages.length;
          if (seen >= messages) resolve();
        },
      })
      .catch(reject);
  });
  const s = seconds(t);
  await consumer.disconnect();
  if (decoded === 0) throw new Error('the raw consumer decoded nothing');
  return s;
}

/**
 * What a user would write instead of the product: a kafkajs consumer that decodes each fetched batch and inserts its
 * valid rows with `INSERT ... ON CONFLICT DO NOTHING` before kafkajs commits the batch's offsets. Garbage is only
 * counted: no dead letters, no backpressure, no fail-over, no status.
 */
async function rawSink(kafka: Kafka, pg: PgClient, databaseUrl: string, topic: string, messages: number, distinctValid: number): Promise<number> {
  const decode = createCuratedProgramDecoder({ wireFormat: 'avro-raw', readerSchema: JSON.parse(readFileSync(SCHEMA_PATH, 'utf8')) });
  await pg.query(`DROP TABLE IF EXISTS ${SINK_TABLE}`);
  await pg.query(`CREATE TABLE ${SINK_TABLE} (LIKE curated_program_events INCLUDING ALL)`);
  const pool = new Pool({ connectionString: databaseUrl, max: PARTITIONS });
  const consumer = kafka.consumer({ groupId: `${topic}.sink`, sessionTimeout: 10_000 });
  const t = process.hrtime.bigint();
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  let seen = 0;
  await new Promise<void>((resolve, reject) => {
    consumer
      .run({
        partitionsConsumedConcurrently: PARTITIONS,
        eachBatch: async ({ batch }) => {
          const rows: CuratedProgramEvent[] = [];
          const offsets: string[] = [];
          for (const m of batch.messages) {
            const d = decode(m.value);
            if (d.ok) {
              rows.push(d.value);
              offsets.push(m.offset);
            }
          }
          await pool.query(
            `INSERT INTO ${SINK_TABLE} (event_id, program_id, creator_id, action, occurred_at, title, topic, kafka_partition, kafka_offset)
             SELECT e, p, c, a, t, ti, $7, $8, o FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::timestamptz[], $6::text[], $9::bigint[])
               AS x(e, p, c, a, t, ti, o) ORDER BY e
             ON CONFLICT (event_id) DO NOTHING`,
            [
              rows.map((r) => r.eventId),
              rows.map((r) => r.programId),
              rows.map((r) => r.creatorId),
              rows.map((r) => r.action),
              rows.map((r) => r.occurredAt),
              rows.map((r) => r.title),
              topic,
              batch.partition,
              offsets,
            ],
          );
          seen += batch.messages.length;
          if (seen >= messages) resolve();
        },
      })
      .catch(reject);
  });
  const s = seconds(t);
  await consumer.disconnect();
  const n = Number((await pg.query(`SELECT count(*) AS n FROM ${SINK_TABLE}`)).rows[0].n);
  await pg.query(`DROP TABLE ${SINK_TABLE}`);
  await pool.end();
  if (n !== distinctValid) throw new Error(`the raw sink wrote ${n} rows, not the ${distinctValid} distinct events`);
  return s;
}

/**
 * One size: the worker's consumer waits, paused, while the messages are produced and the baselines read them, then
 * drains the full topic. Afterwards the topic, its groups, rows and applied offsets are removed, so the next size
 * starts from nothing as well.
 */
export async function benchKafka(ctx: BenchContext, c: { name: string; topic: string }, messages: number): Promise<KafkaFigures> {
  const { rt } = ctx;
  const kafka = createKafka(rt.env, 'bench');
  const handle = rt.temporal.workflow.getHandle(consumerWorkflowId(c.name));
  await eventually('the bench consumer to run', async () => ['running', 'paused'].includes((await handle.query(consumerStatusQuery).catch(() => undefined))?.state ?? ''), 60_000);
  await handle.signal(pauseSignal);
  await eventually('the bench consumer to pause', async () => (await handle.query(consumerStatusQuery)).state === 'paused', 30_000);
  const produced = await produceCuratedEvents({ kafka, topic: c.topic, count: messages, partitions: PARTITIONS, createTopic: true, seed: 5, prefix: c.name });

  const rawS = await rawConsumeAndDecode(kafka, c.topic, produced.messages);
  const sinkS = await rawSink(kafka, ctx.pg, rt.env.DATABASE_URL, c.topic, produced.messages, produced.distinctValid);

  const counts = async () =>
    ((await rt.ds.query(
      `SELECT (SELECT count(*) FROM curated_program_events WHERE topic = $1)::int AS rows,
              (SELECT count(*) FROM kafka_dead_letters WHERE consumer = $2 AND topic = $1)::int AS dead`,
      [c.topic, c.name],
    )) as { rows: number; dead: number }[])[0]!;
  const rss = sampleRss(ctx.worker.pid, 100);
  const t = process.hrtime.bigint();
  await handle.signal(resumeSignal);
  await eventually(
    `${produced.distinctValid} rows and ${produced.garbage} dead letters`,
    async () => {
      const n = await counts();
      if (n.rows > produced.distinctValid || n.dead > produced.garbage) throw new Error(`too many: ${JSON.stringify(n)}`);
      return n.rows === produced.distinctValid && n.dead === produced.garbage;
    },
    1_800_000,
    100,
  );
  const ingestS = seconds(t);
  await eventually('lag 0', async () => (await handle.query(consumerStatusQuery)).lag === 0, 60_000);
  const peakRss = rss.stop();
  const history = await ingestHistories(ctx, c.name);
  await handle.signal(pauseSignal);
  await eventually('the bench consumer to pause', async () => (await handle.query(consumerStatusQuery)).state === 'paused', 30_000);
  // The ingest workflows would otherwise wait forever on the bench's task queue once its worker stops.
  for await (const wf of rt.temporal.workflow.list({ query: `WorkflowId STARTS_WITH "ingest/${c.name}/" AND ExecutionStatus = "Running"` })) {
    await rt.temporal.workflow.getHandle(wf.workflowId).terminate('bench finished');
  }
  // The service's tables keep only what the product wrote, not the bench's topic.
  await ctx.pg.query('DELETE FROM curated_program_events WHERE topic = $1', [c.topic]);
  await ctx.pg.query('DELETE FROM kafka_dead_letters WHERE consumer = $1', [c.name]);
  await ctx.pg.query('DELETE FROM kafka_applied_offsets WHERE consumer = $1', [c.name]);
  const admin = kafka.admin();
  await admin.connect();
  await admin.deleteGroups([`${c.topic}.group`, `${c.topic}.raw`, `${c.topic}.sink`]).catch(() => undefined);
  await admin.deleteTopics({ topics: [c.topic] }).catch(() => undefined);
  await admin.disconnect();
  return {
    messages: produced.messages,
    kafka_raw_s: rawS,
    kafka_sink_s: sinkS,
    kafka_ingest_s: ingestS,
    kafka_worker_peak_rss_mib: peakRss,
    ingest_history_events: history.events,
    ingest_history_bytes: history.bytes,
    ingest_runs: history.runs,
  };
}

/** Events and bytes of every run (open or continued as new) of the consumer's ingest workflows. */
async function ingestHistories(ctx: BenchContext, consumer: string): Promise<{ runs: number; events: number; bytes: number }> {
  const out = { runs: 0, events: 0, bytes: 0 };
  for await (const wf of ctx.rt.temporal.workflow.list({ query: `WorkflowId STARTS_WITH "ingest/${consumer}/"` })) {
    const d = await ctx.rt.temporal.workflow.getHandle(wf.workflowId, wf.runId).describe();
    out.runs++;
    out.events += d.historyLength;
    out.bytes += Number(d.raw.workflowExecutionInfo?.historySizeBytes ?? 0);
  }
  return out;
}

export function kafkaTable(f: KafkaFigures): BenchRow[] {
  const size = `${f.messages} msgs: `;
  const rate = (s: number) => `${Math.round(f.messages / s)} msgs/s`;
  return [
    { path: `${size}raw kafkajs consume + Avro decode`, seconds: f.kafka_raw_s.toFixed(2), throughput: rate(f.kafka_raw_s) },
    { path: `${size}plain sink: consume + decode + INSERT, no Temporal`, seconds: f.kafka_sink_s.toFixed(2), throughput: rate(f.kafka_sink_s) },
    {
      path: `${size}Kafka consumer workflow -> Postgres, exact`,
      seconds: f.kafka_ingest_s.toFixed(2),
      throughput: rate(f.kafka_ingest_s),
      vs_raw: (f.kafka_raw_s / f.kafka_ingest_s).toFixed(2),
      vs_sink: (f.kafka_sink_s / f.kafka_ingest_s).toFixed(2),
      worker_peak_rss_mib: f.kafka_worker_peak_rss_mib.toFixed(0),
      ingest_history: `${f.ingest_runs} runs, ${f.ingest_history_events} events, ${(f.ingest_history_bytes / 1024).toFixed(0)} KiB`,
    },
  ];
}

/** The bench consumer's workflow would otherwise wait forever on the bench's task queue once its worker stops. */
export async function endBenchConsumer(ctx: BenchContext, c: { name: string }): Promise<void> {
  await ctx.rt.temporal.workflow.getHandle(consumerWorkflowId(c.name)).terminate('bench finished').catch(() => undefined);
}
