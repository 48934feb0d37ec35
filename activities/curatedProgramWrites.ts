import { ApplicationFailure } from '@temporalio/common';
import type { DataSource, QueryRunner } from 'typeorm';
import { inTransaction } from '../db/transaction';
import { consumerRowsWritten } from '../observability/metrics';
import type { IngestRow, WriteBatchesInput, WriteBatchesResult } from '../workflows/consumerTypes';

/**
 * A batch writer: stores one partition's decoded rows idempotently inside the caller's transaction and returns how
 * many were new. Writers are registered by the handler name consumer definitions use (`consumers/handlers.ts`).
 */
export type BatchWriter = (qr: QueryRunner, batch: { topic: string; partition: number; rows: IngestRow[] }) => Promise<number>;

/** `curated_program_events`: one row per event_id, the first delivery wins, repeats and redeliveries insert nothing. */
export const writeCuratedProgramEvents: BatchWriter = async (qr, { topic, partition, rows }) => {
  if (rows.length === 0) return 0;
  // One key order in every transaction, so partitions sharing repeated event ids cannot deadlock each other.
  const sorted = [...rows].sort((a, b) => (String(a['eventId']) < String(b['eventId']) ? -1 : String(a['eventId']) > String(b['eventId']) ? 1 : 0));
  const col = (k: string) => sorted.map((r) => r[k] ?? null);
  const result = await qr.query(
    `INSERT INTO curated_program_events
       (event_id, program_id, creator_id, action, occurred_at, title, topic, kafka_partition, kafka_offset)
     SELECT e, p, c, a, t, ti, $7, $8, o
       FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::timestamptz[], $6::text[], $9::bigint[])
         AS x(e, p, c, a, t, ti, o)
     ON CONFLICT (event_id) DO NOTHING`,
    [col('eventId'), col('programId'), col('creatorId'), col('action'), col('occurredAt'), col('title'), topic, partition, col('offset')],
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
        let n = 0;
        for (const b of input.batches) n += await writer(qr, b);
        return n;
      });
      consumerRowsWritten.inc({ consumer: input.consumer, outcome: 'inserted' }, inserted);
      consumerRowsWritten.inc({ consumer: input.consumer, outcome: 'duplicate' }, rows - inserted);
      return { rows, inserted };
    },
  };
}

export type BatchWriteActivities = ReturnType<typeof createBatchWriteActivities>;
