import type { QueryRunner } from 'typeorm';
import type { PartitionRows } from '../../consumers/handler';
import { pgArrayLiteral } from '../../db/pgArrayLiteral';
import type { CuratedProgramEvent } from './parse';

/**
 * `curated_program_events`: one row per event_id, the first delivery wins, repeats and redeliveries insert nothing.
 * One statement per transaction keeps the row locks short: partitions carry repeated event ids, and a concurrent
 * insert of the same key waits for the other transaction to end. Sorting by key in SQL gives every transaction the
 * same lock order, so they cannot deadlock.
 */
export async function writeCuratedProgramEvents(qr: QueryRunner, batches: readonly PartitionRows<CuratedProgramEvent>[]): Promise<number> {
  const rows = batches.flatMap((b) => b.rows.map((r) => ({ b, r })));
  if (rows.length === 0) return 0;
  const col = (value: (r: CuratedProgramEvent & { offset: string }) => string | null) => pgArrayLiteral(rows.map(({ r }) => value(r)));
  const result = await qr.query(
    `INSERT INTO curated_program_events
       (event_id, program_id, creator_id, action, occurred_at, title, topic, kafka_partition, kafka_offset)
     SELECT e, p, c, a, t, ti, tp, pa, o
       FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::timestamptz[], $6::text[], $7::text[], $8::int[], $9::bigint[])
         AS x(e, p, c, a, t, ti, tp, pa, o)
      ORDER BY e
     ON CONFLICT (event_id) DO NOTHING`,
    [
      col((r) => r.eventId),
      col((r) => r.programId),
      col((r) => r.creatorId),
      col((r) => r.action),
      col((r) => r.occurredAt),
      col((r) => r.title),
      pgArrayLiteral(rows.map(({ b }) => b.topic)),
      pgArrayLiteral(rows.map(({ b }) => String(b.partition))),
      col((r) => r.offset),
    ],
    true,
  );
  return result.affected ?? 0;
}
