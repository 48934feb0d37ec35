/**
 * Kafka -> Postgres through the product (consumer workflow, descriptors, ingest workflows reading their ranges)
 * against its limit, a `psql \copy` of the same distinct rows into a table shaped and filled like
 * curated_program_events; beside them, as context, a raw consumer (a group's stream, @platformatic/kafka as everywhere
 * else) that only consumes and decodes the same messages, and a plain sink. Each consumer starts from a group with no
 * offsets, so each pays a group join.
 */
import { join } from 'node:path';
import { readFileSync } from 'node:fs';
import { Consumer, type Message } from '@platformatic/kafka';
import { Pool, type Client as PgClient } from 'pg';
import type { Env } from '../config/env';
import { kafkaClientOptions } from '../connections/kafka';
import { KafkaTools } from '../connections/kafkaTools';
import { curatedProgramConsumer } from '../features/curatedPrograms/consumer';
import { consumerWorkflowId } from '../workflows/consumerIds';
import { ConsumerRegistry } from '../consumers/registry';
import { createCuratedProgramDecoder, type CuratedProgramEvent } from '../features/curatedPrograms/parse';
import { produceCuratedEvents, SCHEMA_PATH } from '../scripts/produce-curated-events';
import { sampleRss } from '../test/support/rss';
import { eventually, uniqueTag } from '../test/support/stack';
import { consumerStatusQuery, pauseSignal, resumeSignal } from '../workflows/consumerSignals';
import { seconds, type BenchContext, type BenchRow } from './context';
import { filledLike, psqlCopy } from './copyLimit';

const PARTITIONS = 4;

export interface KafkaFigures {
  messages: number;
  /** Distinct valid events: the rows every writing path ends with. */
  kafka_rows: number;
  /** `psql \copy` of those rows from a CSV file: the limit, and the baseline of the ratio. */
  kafka_copy_s: number;
  /** From the resume to the first applied range (a transaction of rows and its offset): the drain's fixed start. */
  kafka_first_apply_s: number;
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
const COPY_TABLE = 'bench_copy_events';
export const KAFKA_SCRATCH_TABLES = [SINK_TABLE, COPY_TABLE];
/** Messages of a partition per INSERT in the plain sink: about one fetch. */
const SINK_BATCH = 5000;

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

/** A consumer of a group of the bench's own, reading the topic from the earliest offset. */
async function groupStream(env: Env, topic: string, group: string, autocommit: boolean) {
  const consumer = new Consumer({ ...kafkaClientOptions(env, 'bench'), groupId: group, sessionTimeout: 10_000, heartbeatInterval: 1_000 });
  const stream = await consumer.consume({ topics: [topic], mode: 'earliest', autocommit });
  return { consumer, stream };
}

async function rawConsumeAndDecode(env: Env, topic: string, messages: number): Promise<number> {
  const decode = createCuratedProgramDecoder({ wireFormat: 'avro-raw', readerSchema: JSON.parse(readFileSync(SCHEMA_PATH, 'utf8')) });
  const t = process.hrtime.bigint();
  const { consumer, stream } = await groupStream(env, topic, `${topic}.raw`, true);
  let seen = 0;
  let decoded = 0;
  await new Promise<void>((resolve, reject) => {
    stream.on('error', reject);
    stream.on('data', (m: Message) => {
      if (decode(m.value ?? null).ok) decoded++;
      if (++seen === messages) resolve();
    });
  });
  const s = seconds(t);
  await stream.close();
  await consumer.close();
  if (decoded === 0) throw new Error('the raw consumer decoded nothing');
  return s;
}

/**
 * What a user would write instead of the product: a consumer that decodes messages into a buffer per partition and,
 * every SINK_BATCH messages of a partition, inserts its valid rows with `INSERT ... ON CONFLICT DO NOTHING` and then
 * commits that partition's offset; partitions insert concurrently, the stream waits while a full partition's insert
 * runs. Garbage is only counted: no dead letters, no backpressure bound, no fail-over, no status.
 */
async function rawSink(env: Env, pg: PgClient, topic: string, messages: number, distinctValid: number): Promise<number> {
  const decode = createCuratedProgramDecoder({ wireFormat: 'avro-raw', readerSchema: JSON.parse(readFileSync(SCHEMA_PATH, 'utf8')) });
  await pg.query(`DROP TABLE IF EXISTS ${SINK_TABLE}`);
  await pg.query(`CREATE TABLE ${SINK_TABLE} (LIKE curated_program_events INCLUDING ALL)`);
  const pool = new Pool({ connectionString: env.DATABASE_URL, max: PARTITIONS });
  const t = process.hrtime.bigint();
  const { consumer, stream } = await groupStream(env, topic, `${topic}.sink`, false);
  type Buffered = { rows: CuratedProgramEvent[]; offsets: string[]; messages: number; last?: Message };
  const buffers = new Map<number, Buffered>();
  const writing = new Map<number, Promise<void>>();
  const write = async (partition: number, b: Buffered) => {
    const rows = b.rows;
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
        partition,
        b.offsets,
      ],
    );
    await b.last!.commit();
  };
  let seen = 0;
  await new Promise<void>((resolve, reject) => {
    // One insert per partition at a time; a partition that fills its next batch meanwhile holds the stream.
    const flush = (partition: number) => {
      const b = buffers.get(partition);
      if (!b) return;
      buffers.delete(partition);
      const previous = writing.get(partition);
      if (previous) stream.pause();
      const next = (previous ?? Promise.resolve()).then(() => write(partition, b));
      writing.set(partition, next);
      next.then(() => {
        if (writing.get(partition) === next) writing.delete(partition);
        if (previous && stream.isPaused()) stream.resume();
      }, reject);
    };
    stream.on('error', reject);
    stream.on('data', (m: Message) => {
      const b = buffers.get(m.partition) ?? { rows: [], offsets: [], messages: 0 };
      buffers.set(m.partition, b);
      const d = decode(m.value ?? null);
      if (d.ok) {
        b.rows.push(d.value);
        b.offsets.push(m.offset.toString());
      }
      b.last = m;
      b.messages++;
      if (b.messages >= SINK_BATCH) flush(m.partition);
      if (++seen === messages) {
        for (const p of [...buffers.keys()]) flush(p);
        Promise.all(writing.values()).then(() => resolve(), reject);
      }
    });
  });
  const s = seconds(t);
  await stream.close();
  await consumer.close();
  const n = Number((await pg.query(`SELECT count(*) AS n FROM ${SINK_TABLE}`)).rows[0].n);
  await pool.end();
  if (n !== distinctValid) throw new Error(`the raw sink wrote ${n} rows, not the ${distinctValid} distinct events`);
  return s;
}

/**
 * The worker's consumer waits, paused, while the messages are produced and the baselines read them, then drains the
 * full topic. Afterwards the topic, its groups, rows and applied offsets are removed.
 */
export async function benchKafka(ctx: BenchContext, c: { name: string; topic: string }, messages: number): Promise<KafkaFigures> {
  const { rt } = ctx;
  const kafka = new KafkaTools(rt.env, 'bench');
  const handle = rt.temporal.workflow.getHandle(consumerWorkflowId(c.name));
  await eventually('the bench consumer to run', async () => (await handle.query(consumerStatusQuery).catch(() => undefined))?.state === 'running', 60_000);
  await handle.signal(pauseSignal);
  await eventually('the bench consumer to pause', async () => (await handle.query(consumerStatusQuery)).state === 'paused', 30_000);
  const produced = await produceCuratedEvents({ kafka, topic: c.topic, count: messages, partitions: PARTITIONS, createTopic: true, seed: 5, prefix: c.name });

  const rawS = await rawConsumeAndDecode(rt.env, c.topic, produced.messages);
  const sinkS = await rawSink(rt.env, ctx.pg, c.topic, produced.messages, produced.distinctValid);
  const copyS = await copyLimit(ctx);

  const counts = async () =>
    ((await rt.ds.query(
      `SELECT (SELECT count(*) FROM curated_program_events WHERE topic = $1)::int AS rows,
              (SELECT count(*) FROM kafka_dead_letters WHERE consumer = $2 AND topic = $1)::int AS dead`,
      [c.topic, c.name],
    )) as { rows: number; dead: number }[])[0]!;
  const rss = sampleRss(ctx.worker.pid, 100);
  const t = process.hrtime.bigint();
  await handle.signal(resumeSignal);
  const firstApplyS = await appliedToTheEnd(ctx, c.name, produced.perPartition, t);
  const ingestS = seconds(t);
  const n = await counts();
  if (n.rows !== produced.distinctValid || n.dead !== produced.garbage) {
    throw new Error(`the consumer path wrote ${JSON.stringify(n)}, not ${produced.distinctValid} rows and ${produced.garbage} dead letters`);
  }
  await eventually('lag 0', async () => (await handle.query(consumerStatusQuery)).lag === 0, 60_000);
  const peakRss = rss.stop();
  const history = await ingestHistories(ctx, c.name);
  // The long-running workflows would otherwise wait forever on the bench's task queue once its worker stops.
  await handle.terminate('bench finished');
  for await (const wf of rt.temporal.workflow.list({ query: `WorkflowId STARTS_WITH "ingest/${c.name}/" AND ExecutionStatus = "Running"` })) {
    await rt.temporal.workflow.getHandle(wf.workflowId).terminate('bench finished');
  }
  // The service's tables keep only what the product wrote, not the bench's topic.
  await ctx.pg.query('DELETE FROM curated_program_events WHERE topic = $1', [c.topic]);
  await ctx.pg.query('DELETE FROM kafka_dead_letters WHERE consumer = $1', [c.name]);
  await ctx.pg.query('DELETE FROM kafka_applied_offsets WHERE consumer = $1', [c.name]);
  await kafka.deleteGroups([`${c.topic}.group`, `${c.topic}.raw`, `${c.topic}.sink`]).catch(() => undefined);
  await kafka.deleteTopics([c.topic]).catch(() => undefined);
  await kafka.close();
  return {
    messages: produced.messages,
    kafka_rows: produced.distinctValid,
    kafka_copy_s: copyS,
    kafka_first_apply_s: firstApplyS,
    kafka_raw_s: rawS,
    kafka_sink_s: sinkS,
    kafka_ingest_s: ingestS,
    kafka_worker_peak_rss_mib: peakRss,
    ingest_history_events: history.events,
    ingest_history_bytes: history.bytes,
    ingest_runs: history.runs,
  };
}

/**
 * The limit: the plain sink's rows (exactly the distinct valid events), dumped to a CSV file, then loaded with `psql
 * \copy` into a table with curated_program_events' key and as many rows as it holds, as the product's drain finds it.
 */
async function copyLimit(ctx: BenchContext): Promise<number> {
  const url = ctx.rt.env.DATABASE_URL;
  const file = join(ctx.dir, 'events.csv');
  await psqlCopy(url, SINK_TABLE, 'TO', file);
  await ctx.pg.query(`DROP TABLE ${SINK_TABLE}`);
  await filledLike(ctx.pg, COPY_TABLE, 'curated_program_events');
  const t = process.hrtime.bigint();
  await psqlCopy(url, COPY_TABLE, 'FROM', file);
  const s = seconds(t);
  await ctx.pg.query(`DROP TABLE ${COPY_TABLE}`);
  return s;
}

/**
 * Waits until every partition's applied offset (written in the same transaction as its rows) is its last offset: a
 * cheap look-up, where counting the shared table every 50 ms would load the machine under measurement. Callers check
 * the exact counts once, after their clock stopped. Returns the seconds from `since` to the first applied range seen
 * (to within the 50 ms of a look).
 */
export async function appliedToTheEnd(ctx: BenchContext, consumer: string, perPartition: readonly number[], since = process.hrtime.bigint()): Promise<number> {
  const last = new Map(perPartition.map((n, p) => [p, String(n - 1)]));
  let firstApplied: number | undefined;
  await eventually(
    'every partition applied up to its last offset',
    async () => {
      const rows = (await ctx.rt.ds.query(`SELECT kafka_partition AS p, applied_offset::text AS o FROM kafka_applied_offsets WHERE consumer = $1`, [consumer])) as {
        p: number;
        o: string;
      }[];
      if (rows.length > 0) firstApplied ??= seconds(since);
      return rows.length === perPartition.length && rows.every((r) => last.get(r.p) === r.o);
    },
    1_800_000,
    50,
  );
  return firstApplied!;
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
    { path: `${size}psql \\copy of the same ${f.kafka_rows} rows (limit)`, seconds: f.kafka_copy_s.toFixed(2), throughput: `${Math.round(f.kafka_rows / f.kafka_copy_s)} rows/s` },
    { path: `${size}raw consume + Avro decode`, seconds: f.kafka_raw_s.toFixed(2), throughput: rate(f.kafka_raw_s) },
    { path: `${size}plain sink: consume + decode + INSERT, no Temporal`, seconds: f.kafka_sink_s.toFixed(2), throughput: rate(f.kafka_sink_s) },
    {
      path: `${size}Kafka consumer workflow -> Postgres, exact`,
      seconds: f.kafka_ingest_s.toFixed(2),
      throughput: `${rate(f.kafka_ingest_s)}, ${Math.round(f.kafka_rows / f.kafka_ingest_s)} rows/s`,
      vs_copy: (f.kafka_copy_s / f.kafka_ingest_s).toFixed(2),
      first_apply_ms: (f.kafka_first_apply_s * 1000).toFixed(0),
      vs_raw: (f.kafka_raw_s / f.kafka_ingest_s).toFixed(2),
      vs_sink: (f.kafka_sink_s / f.kafka_ingest_s).toFixed(2),
      worker_peak_rss_mib: f.kafka_worker_peak_rss_mib.toFixed(0),
      ingest_history: `${f.ingest_runs} runs, ${f.ingest_history_events} events, ${(f.ingest_history_bytes / 1024).toFixed(0)} KiB`,
    },
  ];
}

