import { ApplicationFailure } from '@temporalio/common';
import { heartbeatOrStop } from '../../activities/heartbeat';
import type { DataSource } from 'typeorm';
import type { ConsumerRegistry, ResolvedConsumer } from '../../consumers/registry';
import { deadLettersPage, takeDeadLetters } from '../../consumers/store';
import type { IngestRow } from '../../workflows/consumerTypes';
import { inTransaction } from '../../db/transaction';

/**
 * The replay of a consumer's dead letters (`kafka_dead_letters`) after a fix, with its current schemas and decoder.
 * Per batch, in one transaction: the dead letters that now decode are deleted and their rows written by the
 * consumer's handler (idempotently), so a replay run twice, or a row that is already there, writes nothing twice.
 * What still fails stays, with its reason.
 */

export interface DeadLetterReplayTotals {
  examined: number;
  replayed: number;
  alreadyPresent: number;
  stillDead: number;
}

/** Re-decodes one consumer's dead letters (optionally one topic, reasons starting with `reason`, or one reason class). */
export async function replayDeadLetters(
  ds: DataSource,
  consumer: ResolvedConsumer,
  input: { topic?: string; reason?: string; reasonClass?: string; batchSize: number },
  onBatch: (t: DeadLetterReplayTotals) => void = () => undefined,
): Promise<DeadLetterReplayTotals> {
  const t: DeadLetterReplayTotals = { examined: 0, replayed: 0, alreadyPresent: 0, stillDead: 0 };
  let afterId = '0';
  for (;;) {
    const rows = await deadLettersPage(ds, {
      consumer: consumer.name,
      afterId,
      ...(input.topic !== undefined ? { topic: input.topic } : {}),
      ...(input.reason !== undefined ? { reason: input.reason } : {}),
      ...(input.reasonClass !== undefined ? { reasonClass: input.reasonClass } : {}),
      limit: input.batchSize,
    });
    if (rows.length === 0) return t;
    afterId = rows[rows.length - 1]!.id;
    t.examined += rows.length;
    const decoded = new Map<string, { topic: string; partition: number; row: IngestRow }>();
    // A schema registry that cannot answer fails the attempt (retried), never a dead letter's verdict.
    const decode = await consumer.decoderFor(rows.map((r) => r.raw));
    for (const r of rows) {
      const d = decode(r.raw);
      if (!d.ok) {
        t.stillDead++;
        continue;
      }
      decoded.set(String(r.id), {
        topic: r.topic,
        partition: r.kafka_partition,
        row: { ...(d.value as Record<string, unknown>), offset: String(r.kafka_offset) },
      });
    }
    if (decoded.size > 0) {
      const counts = await inTransaction(ds, async (qr) => {
        const gone = await takeDeadLetters(qr, [...decoded.keys()]);
        const byPartition = new Map<string, { topic: string; partition: number; rows: IngestRow[] }>();
        for (const id of gone) {
          const d = decoded.get(id)!;
          const key = JSON.stringify([d.topic, d.partition]);
          const b = byPartition.get(key) ?? { topic: d.topic, partition: d.partition, rows: [] };
          b.rows.push(d.row);
          byPartition.set(key, b);
        }
        return { taken: gone.length, inserted: await consumer.write(qr, [...byPartition.values()]) };
      });
      t.replayed += counts.inserted;
      t.alreadyPresent += counts.taken - counts.inserted;
    }
    onBatch(t);
    if (rows.length < input.batchSize) return t;
  }
}

/** The replay job's activity; `ds` is the ingest's connection (INGEST_DATABASE_URL when set). */
export function createDeadLetterReplayActivities(deps: { ds: DataSource; consumers: ConsumerRegistry }) {
  return {
    async replayDeadLetters(input: { consumer: string; topic?: string; reason?: string; reasonClass?: string; batchSize: number }): Promise<DeadLetterReplayTotals> {
      if (!deps.consumers.has(input.consumer)) {
        throw ApplicationFailure.nonRetryable(
          `this worker has no consumer named ${input.consumer} (known: ${deps.consumers.list().map((c) => c.name).join(', ') || 'none'}); do all workers load the same CONSUMERS_MODULE?`,
          'UnknownConsumer',
        );
      }
      const consumer = deps.consumers.get(input.consumer);
      return replayDeadLetters(deps.ds, consumer, input, heartbeatOrStop);
    },
  };
}

export type DeadLetterReplayActivities = ReturnType<typeof createDeadLetterReplayActivities>;
