import { ApplicationFailure } from '@temporalio/common';
import type { DataSource, QueryRunner } from 'typeorm';
import { pgArrayLiteral } from '../db/pgArrayLiteral';
import { inTransaction } from '../db/transaction';
import { consumerRowsWritten } from '../observability/metrics';
import type { IngestRow, WriteBatchesInput, WriteBatchesResult } from '../workflows/consumerTypes';

/**
 * A batch writer: stores decoded rows of one or more partitions idempotently, in one statement inside the caller's
 * transaction, and returns how many were new. Writers are registered by the handler name consumer definitions use
 * (`consumers/handlers.ts`).
 */
export type BatchWriter = (qr: QueryRunner, batches: readonly { topic: string; partition: number; rows: IngestRow[] }[]) => Promise<number>;

/**
 * `curated_program_events`: one row per event_id, the first delivery wins, repeats and redeliveries insert nothing.
 * One statement per transaction keeps the row locks short: partitions carry repeated event ids, and a concurrent
 * insert of the same key waits for the other transaction to end. Sorting by key in SQL gives every transaction the
 * same lock order, so they cannot deadlock.
 */
export const writeCuratedProgramEvents: BatchWriter = async (qr, batches) => {
  const rows = batches.flatMap((b) => b.rows.map((r) => ({ b, r })));
  if (rows.length === 0) return 0;
  const col = (k: string) => pgArrayLiteral(rows.map(({ r }) => (r[k] === undefined || r[k] === null ? null : String(r[k]))));
  const result = await qr.query(
    `INSERT INTO curated_program_events
       (event_id, program_id, creator_id, action, occurred_at, title, topic, kafka_partition, kafka_offset)
     SELECT e, p, c, a, t, ti, tp, pa, o
       FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::timestamptz[], $6::text[], $7::text[], $8::int[], $9::bigint[])
         AS x(e, p, c, a, t, ti, tp, pa, o)
      ORDER BY e
     ON CONFLICT (event_id) DO NOTHING`,
    [
      col('eventId'),
      col('programId'),
      col('creatorId'),
      col('action'),
      col('occurredAt'),
      col('title'),
      pgArrayLiteral(rows.map(({ b }) => b.topic)),
      pgArrayLiteral(rows.map(({ b }) => String(b.partition))),
      col('offset'),
    ],
    true,
  );
  return result.affected ?? 0;
};

export const batchWriters: Record<string, BatchWriter | undefined> = {
  curated_program_events: writeCuratedProgramEvents,
};

/** The ingest workflows' one activity: dispatches to the handler's writer, all batches in one transaction. */
export function createBatchWriteActivities(ds: DataSource, writers: Record<string, BatchWriter | undefined> = batchWriters) {
  return {
    async writeConsumerBatches(input: WriteBatchesInput): Promise<WriteBatchesResult> {
      const writer = writers[input.handler];
      if (!writer) throw ApplicationFailure.nonRetryable(`no batch writer named ${input.handler}`, 'UnknownHandler');
      const rows = input.batches.reduce((n, b) => n + b.rows.length, 0);
      const inserted = await inTransaction(ds, async (qr) => {
        // Ends before the local activity's 2-minute limit, so a retry never queues behind this attempt's row locks.
        await qr.query(`SET LOCAL statement_timeout = '100s'`);
        return writer(qr, input.batches);
      });
      consumerRowsWritten.inc({ consumer: input.consumer, outcome: 'inserted' }, inserted);
      consumerRowsWritten.inc({ consumer: input.consumer, outcome: 'duplicate' }, rows - inserted);
      return { rows, inserted };
    },
  };
}

export type BatchWriteActivities = ReturnType<typeof createBatchWriteActivities>;
