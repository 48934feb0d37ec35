import type { DataSource, EntityManager, QueryRunner } from 'typeorm';

/**
 * Every statement on the stream half's own tables: `kafka_applied_offsets` (per consumer, topic and partition, the
 * highest offset written) and `kafka_dead_letters`. A consumer's rows go through its handler's writer instead.
 */

type Queryable = Pick<DataSource | EntityManager | QueryRunner, 'query'>;

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
 * concurrent attempts on one partition (a retry racing a slow predecessor) take turns here.
 */
export async function lockAppliedOffset(qr: QueryRunner, consumer: string, topic: string, partition: number): Promise<bigint> {
  await qr.query(
    `INSERT INTO kafka_applied_offsets (consumer, topic, kafka_partition, applied_offset) VALUES ($1, $2, $3, -1)
     ON CONFLICT (consumer, topic, kafka_partition) DO NOTHING`,
    [consumer, topic, partition],
  );
  const [lock] = (await qr.query(
    `SELECT applied_offset::text AS o FROM kafka_applied_offsets WHERE consumer = $1 AND topic = $2 AND kafka_partition = $3 FOR UPDATE`,
    [consumer, topic, partition],
  )) as { o: string }[];
  return BigInt(lock!.o);
}

export async function setAppliedOffset(qr: QueryRunner, consumer: string, topic: string, partition: number, offset: bigint): Promise<void> {
  await qr.query(
    `UPDATE kafka_applied_offsets SET applied_offset = $4, updated_at = now() WHERE consumer = $1 AND topic = $2 AND kafka_partition = $3`,
    [consumer, topic, partition, offset.toString()],
  );
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

/** One page of a consumer's dead letters after `afterId`, optionally of one topic or with reasons starting with `reason`. */
export async function deadLettersPage(
  q: Queryable,
  p: { consumer: string; afterId: string; topic?: string; reason?: string; limit: number },
): Promise<DeadLetterRow[]> {
  return q.query(
    `SELECT id, topic, kafka_partition, kafka_offset, raw FROM kafka_dead_letters
      WHERE consumer = $1 AND id > $2 AND ($3::text IS NULL OR topic = $3) AND ($4::text IS NULL OR starts_with(reason, $4))
      ORDER BY id LIMIT $5`,
    [p.consumer, p.afterId, p.topic ?? null, p.reason ?? null, p.limit],
  );
}

/** Takes dead letters out of the table; returns the ids this call deleted (a concurrent replay gets the others). */
export async function takeDeadLetters(qr: QueryRunner, ids: readonly string[]): Promise<string[]> {
  const [gone]: [{ id: string }[], number] = await qr.query(`DELETE FROM kafka_dead_letters WHERE id = ANY($1::bigint[]) RETURNING id`, [ids]);
  return gone.map((g) => String(g.id));
}
