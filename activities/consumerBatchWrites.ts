import { ApplicationFailure } from '@temporalio/common';
import type { DataSource } from 'typeorm';
import type { ConsumerRegistry } from '../consumers/registry';
import { inTransaction } from '../db/transaction';
import { events } from '../observability/events';
import type { WriteBatchesInput, WriteBatchesResult } from '../workflows/consumerTypes';

/**
 * The ingest workflows' activity from before descriptors, when the rows themselves came in signals: it stays so
 * that ingest workflows started then can finish what they hold. All batches in one transaction.
 */
export function createBatchWriteActivities(ds: DataSource, consumers: ConsumerRegistry) {
  return {
    async writeConsumerBatches(input: WriteBatchesInput): Promise<WriteBatchesResult> {
      const handler = consumers.handlerNamed(input.handler);
      if (!handler) throw ApplicationFailure.nonRetryable(`no consumer handler named ${input.handler}`, 'UnknownHandler');
      const rows = input.batches.reduce((n, b) => n + b.rows.length, 0);
      const inserted = await inTransaction(ds, async (qr) => {
        // Ends before the local activity's 2-minute limit, so a retry never queues behind this attempt's row locks.
        await qr.query(`SET LOCAL statement_timeout = '100s'`);
        return handler.write(qr, input.batches);
      });
      events.consumerRowsWritten(input.consumer, rows, inserted);
      return { rows, inserted };
    },
  };
}

export type BatchWriteActivities = ReturnType<typeof createBatchWriteActivities>;
