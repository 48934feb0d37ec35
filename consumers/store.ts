import type { QueryRunner } from 'typeorm';
import type { Queryable } from '../db/jobRuns';

/**
 * Every statement on the stream half's own tables: `kafka_applied_offsets` (per consumer, topic and partition, the
 * highest offset written and what was applied to reach it), `kafka_dead_letters`, `kafka_consumer_controls` (pause)
 * and `kafka_consumer_hosts` (who hosts a consumer). A consumer's rows go through its handler's writer instead.
 */

/** The highest applied offset of a partition, or -1 when nothing of it was written yet. */
export async function appliedOffset(q: Queryable, consumer: string, topic: string, partition: number): Promise<bigint> {
  const rows = (await q.query(
    `SELECT applied_offset::text AS o FROM kafka_applied_offsets WHERE consumer = $1 AND topic = $2 AND kafka_partition = $3`,
    [consumer, topic, partition],
  )) as { o: string }[];
  return rows[0] ? BigInt(rows[0].o) : -1n;
}

/** Every partition's applied offset of a consumer, by `topic/partition`. */
export async function appliedOffsets(q: Queryable, consumer: string): Promise<Map<string, bigint>> {
  const rows = (await q.query(
    `SELECT topic, kafka_partition AS partition, applied_offset::text AS o FROM kafka_applied_offsets WHERE consumer = $1`,
    [consumer],
  )) as { topic: string; partition: number; o: string }[];
  return new Map(rows.map((r) => [`${r.topic}/${r.partition}`, BigInt(r.o)]));
}

/**
 * Locks the partition's applied offset for the rest of the caller's transaction (creating it at -1) and returns it:
 * concurrent attempts on one partition (a retry racing a slow predecessor) take turns here. In the same statement it
 * holds the consumer's control row FOR SHARE and says whether the consumer is paused: a pause (an UPDATE of that row)
 * waits for this transaction, and a transaction that starts after a pause sees it. The control row must exist
 * (ensureConsumerControl).
 */
export async function lockAppliedOffset(qr: QueryRunner, consumer: string, topic: string, partition: number): Promise<{ applied: bigint; paused: boolean }> {
  await qr.query(
    `INSERT INTO kafka_applied_offsets (consumer, topic, kafka_partition, applied_offset) VALUES ($1, $2, $3, -1)
     ON CONFLICT (consumer, topic, kafka_partition) DO NOTHING`,
    [consumer, topic, partition],
  );
  const [lock] = (await qr.query(
    `SELECT a.applied_offset::text AS o, c.paused FROM kafka_applied_offsets a JOIN kafka_consumer_controls c ON c.consumer = a.consumer
      WHERE a.consumer = $1 AND a.topic = $2 AND a.kafka_partition = $3 FOR UPDATE OF a FOR SHARE OF c`,
    [consumer, topic, partition],
  )) as { o: string; paused: boolean }[];
  if (!lock) throw new Error(`consumer ${consumer} has no row in kafka_consumer_controls (ensureConsumerControl first)`);
  return { applied: BigInt(lock.o), paused: lock.paused };
}

/** What one write applied besides moving the applied offset: counted into the partition's totals in the same row. */
export interface AppliedCounts {
  /** Messages read (rows plus dead letters; transaction markers are offsets, not messages). */
  messages: number;
  /** Rows the writer inserted, and rows it was given that were there already (repeats of an event). */
  inserted: number;
  duplicates: number;
  deadLetters: number;
  /** Offsets Kafka's retention deleted before they were applied. */
  lost: number;
}

export async function setAppliedOffset(qr: QueryRunner, consumer: string, topic: string, partition: number, offset: bigint, n: AppliedCounts): Promise<void> {
  await qr.query(
    `UPDATE kafka_applied_offsets
        SET applied_offset = $4, updated_at = now(), messages = messages + $5, rows_inserted = rows_inserted + $6,
            duplicates = duplicates + $7, dead_letters = dead_letters + $8, lost_offsets = lost_offsets + $9
      WHERE consumer = $1 AND topic = $2 AND kafka_partition = $3`,
    [consumer, topic, partition, offset.toString(), n.messages, n.inserted, n.duplicates, n.deadLetters, n.lost],
  );
}

/**
 * Where a partition the consumer has never described starts: nothing below `start` is to be applied. Recording it
 * lets the consumer describe again what it handed over and never saw written (an ingest workflow lost with its
 * queue), and makes lag count from there. A partition that has a row keeps it.
 */
export async function startAppliedOffset(q: Queryable, consumer: string, topic: string, partition: number, start: bigint): Promise<void> {
  await q.query(
    `INSERT INTO kafka_applied_offsets (consumer, topic, kafka_partition, applied_offset) VALUES ($1, $2, $3, $4)
     ON CONFLICT (consumer, topic, kafka_partition) DO NOTHING`,
    [consumer, topic, partition, (start - 1n).toString()],
  );
}

/** One partition's applied offset (the highest written; -1 before any) and what was applied to reach it. */
export interface PartitionApplied extends AppliedCounts {
  topic: string;
  partition: number;
  applied: bigint;
  /** The first offset the counts include: null when they count from the partition's first write. */
  countedFrom: bigint | null;
  updatedAt: Date;
}

export async function partitionsApplied(q: Queryable, consumer: string): Promise<PartitionApplied[]> {
  const rows = (await q.query(
    `SELECT topic, kafka_partition AS partition, applied_offset::text AS applied, messages::text, rows_inserted::text AS inserted,
            duplicates::text, dead_letters::text AS dead, lost_offsets::text AS lost, counted_from::text, updated_at
       FROM kafka_applied_offsets WHERE consumer = $1 ORDER BY topic, kafka_partition`,
    [consumer],
  )) as { topic: string; partition: number; applied: string; messages: string; inserted: string; duplicates: string; dead: string; lost: string; counted_from: string | null; updated_at: Date }[];
  return rows.map((r) => ({
    topic: r.topic,
    partition: r.partition,
    applied: BigInt(r.applied),
    messages: Number(r.messages),
    inserted: Number(r.inserted),
    duplicates: Number(r.duplicates),
    deadLetters: Number(r.dead),
    lost: Number(r.lost),
    countedFrom: r.counted_from === null ? null : BigInt(r.counted_from),
    updatedAt: r.updated_at,
  }));
}

/**
 * What the consumer activity reads on every pass, in one round trip: whether its consumer is paused, and each
 * partition's applied offset with the messages applied so far.
 */
export async function consumerProgress(
  q: Queryable,
  consumer: string,
): Promise<{ paused: boolean; applied: Map<string, bigint>; messages: number }> {
  const rows = (await q.query(
    `SELECT c.paused, a.topic, a.kafka_partition AS partition, a.applied_offset::text AS o, a.messages::text AS m
       FROM (SELECT $1::text AS consumer) k
       LEFT JOIN kafka_consumer_controls c ON c.consumer = k.consumer
       LEFT JOIN kafka_applied_offsets a ON a.consumer = k.consumer`,
    [consumer],
  )) as { paused: boolean | null; topic: string | null; partition: number | null; o: string | null; m: string | null }[];
  const applied = new Map<string, bigint>();
  let messages = 0;
  for (const r of rows) {
    if (r.topic === null) continue;
    applied.set(`${r.topic}/${r.partition}`, BigInt(r.o!));
    messages += Number(r.m);
  }
  return { paused: rows[0]?.paused === true, applied, messages };
}

/** Makes sure the consumer has a control row, so every range write has a row to lock (a pause then waits for it). */
export async function ensureConsumerControl(q: Queryable, consumer: string): Promise<void> {
  await q.query(`INSERT INTO kafka_consumer_controls (consumer) VALUES ($1) ON CONFLICT (consumer) DO NOTHING`, [consumer]);
}

export interface ConsumerControl {
  paused: boolean;
  changedAt: Date | null;
  changedBy: string | null;
}

export async function consumerControl(q: Queryable, consumer: string): Promise<ConsumerControl> {
  const rows = (await q.query(`SELECT paused, changed_at, changed_by FROM kafka_consumer_controls WHERE consumer = $1`, [consumer])) as {
    paused: boolean;
    changed_at: Date;
    changed_by: string | null;
  }[];
  const r = rows[0];
  return r ? { paused: r.paused, changedAt: r.changed_at, changedBy: r.changed_by } : { paused: false, changedAt: null, changedBy: null };
}

/**
 * Pauses or resumes a consumer. Returns once every range write in flight has committed (they hold the row FOR
 * SHARE): from then on no write of the consumer commits until it is resumed.
 */
export async function setConsumerPaused(q: Queryable, consumer: string, paused: boolean, by: string): Promise<ConsumerControl> {
  const [r] = (await q.query(
    `INSERT INTO kafka_consumer_controls (consumer, paused, changed_at, changed_by) VALUES ($1, $2, now(), $3)
     ON CONFLICT (consumer) DO UPDATE SET paused = EXCLUDED.paused, changed_at = EXCLUDED.changed_at, changed_by = EXCLUDED.changed_by
     RETURNING paused, changed_at, changed_by`,
    [consumer, paused, by],
  )) as { paused: boolean; changed_at: Date; changed_by: string | null }[];
  return { paused: r!.paused, changedAt: r!.changed_at, changedBy: r!.changed_by };
}

export interface ConsumerHost {
  hostname: string;
  pid: number;
  attempt: number;
  startedAt: Date;
  seenAt: Date;
  messagesPerSecond: number | null;
  /** Seconds since `seenAt`, by the database's clock (the same clock that wrote it). */
  ageSeconds: number;
}

/** The consumer activity saying it is alive, where, and how fast its consumer applies messages. */
export async function recordConsumerHost(
  q: Queryable,
  consumer: string,
  h: { hostname: string; pid: number; attempt: number; startedAt: Date; messagesPerSecond: number | null },
): Promise<void> {
  await q.query(
    `INSERT INTO kafka_consumer_hosts (consumer, hostname, pid, attempt, started_at, seen_at, messages_per_second)
     VALUES ($1, $2, $3, $4, $5, now(), $6)
     ON CONFLICT (consumer) DO UPDATE SET hostname = EXCLUDED.hostname, pid = EXCLUDED.pid, attempt = EXCLUDED.attempt,
       started_at = EXCLUDED.started_at, seen_at = EXCLUDED.seen_at, messages_per_second = EXCLUDED.messages_per_second`,
    [consumer, h.hostname, h.pid, h.attempt, h.startedAt, h.messagesPerSecond],
  );
}

export async function consumerHost(q: Queryable, consumer: string): Promise<ConsumerHost | null> {
  const rows = (await q.query(
    `SELECT hostname, pid, attempt, started_at, seen_at, messages_per_second, extract(epoch FROM now() - seen_at)::float8 AS age
       FROM kafka_consumer_hosts WHERE consumer = $1`,
    [consumer],
  )) as { hostname: string; pid: number; attempt: number; started_at: Date; seen_at: Date; messages_per_second: number | null; age: number }[];
  const r = rows[0];
  if (!r) return null;
  return {
    hostname: r.hostname,
    pid: r.pid,
    attempt: r.attempt,
    startedAt: r.started_at,
    seenAt: r.seen_at,
    messagesPerSecond: r.messages_per_second,
    ageSeconds: r.age,
  };
}

/** Dead letters of one partition; one already there (same offset) stays as it is. */
export async function insertDeadLetters(
  qr: QueryRunner,
  consumer: string,
  topic: string,
  partition: number,
  letters: readonly { offset: string; reason: string; raw: Buffer | null }[],
): Promise<void> {
  if (letters.length === 0) return;
  await qr.query(
    `INSERT INTO kafka_dead_letters (consumer, topic, kafka_partition, kafka_offset, reason, raw)
     SELECT $1, $2, $3, o, r, w FROM unnest($4::bigint[], $5::text[], $6::bytea[]) AS t(o, r, w)
     ON CONFLICT (consumer, topic, kafka_partition, kafka_offset) DO NOTHING`,
    [consumer, topic, partition, letters.map((d) => d.offset), letters.map((d) => d.reason), letters.map((d) => d.raw)],
  );
}

export type DeadLetterRow = { id: string; topic: string; kafka_partition: number; kafka_offset: string; raw: Buffer | null };

/**
 * A dead letter's reason with its numbers taken out (`truncated Avro record (<n> bytes)`): the kind of failure, by
 * which `dead-letters` groups and a replay may select.
 */
const REASON_CLASS = `regexp_replace(reason, '[0-9]+', '<n>', 'g')`;

/** One page of a consumer's dead letters after `afterId`: of one topic, with reasons starting with `reason`, or of one reason class. */
export async function deadLettersPage(
  q: Queryable,
  p: { consumer: string; afterId: string; topic?: string; reason?: string; reasonClass?: string; limit: number },
): Promise<DeadLetterRow[]> {
  return (await q.query(
    `SELECT id, topic, kafka_partition, kafka_offset, raw FROM kafka_dead_letters
      WHERE consumer = $1 AND id > $2 AND ($3::text IS NULL OR topic = $3) AND ($4::text IS NULL OR starts_with(reason, $4))
        AND ($6::text IS NULL OR ${REASON_CLASS} = $6)
      ORDER BY id LIMIT $5`,
    [p.consumer, p.afterId, p.topic ?? null, p.reason ?? null, p.limit, p.reasonClass ?? null],
  )) as DeadLetterRow[];
}

/** Dead letters of one reason class in one partition. */
export interface DeadLetterGroupPart {
  reasonClass: string;
  topic: string;
  partition: number;
  count: number;
  firstOffset: string;
  lastOffset: string;
  firstAt: Date;
  lastAt: Date;
  sampleId: string;
}

/** A consumer's dead letters counted by reason class and partition (reasons starting with `reason`, when given). */
export async function deadLetterGroups(q: Queryable, consumer: string, reason?: string): Promise<DeadLetterGroupPart[]> {
  const rows = (await q.query(
    `SELECT ${REASON_CLASS} AS class, topic, kafka_partition AS partition, count(*)::int AS n, min(kafka_offset)::text AS first,
            max(kafka_offset)::text AS last, min(created_at) AS first_at, max(created_at) AS last_at, min(id)::text AS sample
       FROM kafka_dead_letters WHERE consumer = $1 AND ($2::text IS NULL OR starts_with(reason, $2))
      GROUP BY 1, 2, 3`,
    [consumer, reason ?? null],
  )) as { class: string; topic: string; partition: number; n: number; first: string; last: string; first_at: Date; last_at: Date; sample: string }[];
  return rows.map((r) => ({
    reasonClass: r.class,
    topic: r.topic,
    partition: r.partition,
    count: r.n,
    firstOffset: r.first,
    lastOffset: r.last,
    firstAt: r.first_at,
    lastAt: r.last_at,
    sampleId: r.sample,
  }));
}

export async function deadLettersById(q: Queryable, ids: readonly string[]): Promise<{ id: string; topic: string; partition: number; offset: string; reason: string; raw: Buffer | null }[]> {
  if (ids.length === 0) return [];
  const rows = (await q.query(
    `SELECT id::text, topic, kafka_partition AS partition, kafka_offset::text AS offset, reason, raw FROM kafka_dead_letters WHERE id = ANY($1::bigint[])`,
    [ids],
  )) as { id: string; topic: string; partition: number; offset: string; reason: string; raw: Buffer | null }[];
  return rows;
}

/** How many dead letters each consumer has now (after replays and retention). */
export async function deadLetterCounts(q: Queryable, consumers: readonly string[]): Promise<Map<string, number>> {
  const rows = (await q.query(
    `SELECT consumer, count(*)::int AS n FROM kafka_dead_letters WHERE consumer = ANY($1::text[]) GROUP BY consumer`,
    [consumers],
  )) as { consumer: string; n: number }[];
  return new Map(rows.map((r) => [r.consumer, r.n]));
}

/** Takes dead letters out of the table; returns the ids this call deleted (a concurrent replay gets the others). */
export async function takeDeadLetters(qr: QueryRunner, ids: readonly string[]): Promise<string[]> {
  const [gone]: [{ id: string }[], number] = await qr.query(`DELETE FROM kafka_dead_letters WHERE id = ANY($1::bigint[]) RETURNING id`, [ids]);
  return gone.map((g) => String(g.id));
}
