import { Context } from '@temporalio/activity';
import type { Client } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import type { DataSource } from 'typeorm';
import type { ConsumerRegistry } from '../consumers/registry';
import { appliedOffset, consumerControl, ensureConsumerControl, insertDeadLetters, lockAppliedOffset, setAppliedOffset } from '../consumers/store';
import { inTransaction } from '../db/transaction';
import { withoutNul } from '../domain/text';
import { events } from '../observability/events';
import type { IngestRow, RangeIngestInput, RangeIngestResult } from '../workflows/consumerTypes';
import type { KafkaRangeReader, RangeChunk } from './kafkaRangeReader';
import { registryWait } from './schemaRegistryWait';

interface Deps {
  ds: DataSource;
  consumers: ConsumerRegistry;
  reader: KafkaRangeReader;
  /** Tells a consumer's workflow when a partition waits on the schema registry (its status names it). */
  temporal?: Client;
}

/** How often a write held by a pause looks whether its consumer was resumed. */
const PAUSE_POLL_MS = 250;
/** A write held by a pause hands its range back (a partial result) this long before its start-to-close timeout. */
const HAND_BACK_BEFORE_MS = 60_000;

/** The dead letter that records offsets Kafka deleted before they were applied (its offset is the first of them). */
export function retentionReason(first: bigint, last: bigint): string {
  return `retention: offsets ${first}-${last} (${last - first + 1n}) were deleted by Kafka before they were applied`;
}

/**
 * The ingest side of the stream half: the activity an ingest workflow runs for each descriptor. It reads the range
 * from Kafka, decodes every message with the consumer's decoder, and per chunk writes the rows, the dead letters and
 * the partition's new applied offset in one transaction. A range or part of one at or below the applied offset is
 * skipped, so retries and redelivered descriptors write nothing twice. A Postgres or Kafka error fails the attempt and
 * Temporal retries it (the partition waits); a schema registry that cannot answer is waited for inside the attempt;
 * only an undecodable message becomes a dead letter, and offsets Kafka's
 * retention deleted before they were read become one dead letter per lost stretch (reason `retention`).
 *
 * Every transaction holds its consumer's control row FOR SHARE and writes nothing when the consumer is paused: the
 * activity then waits (heartbeating) until it is resumed and goes on from the same offset, or hands the rest of the
 * range back shortly before its timeout (a result short of `lastOffset`).
 */
export function createKafkaRangeIngestActivities(deps: Deps) {
  return {
    async ingestKafkaRange(input: RangeIngestInput): Promise<RangeIngestResult> {
      const ctx = Context.current();
      if (!deps.consumers.has(input.consumer)) {
        throw ApplicationFailure.nonRetryable(`this worker has no consumer named ${input.consumer}: do all workers load the same CONSUMERS_MODULE?`, 'UnknownConsumer');
      }
      const c = deps.consumers.get(input.consumer);
      const { topic, partition } = input;
      const first = BigInt(input.firstOffset);
      const last = BigInt(input.lastOffset);
      const out: RangeIngestResult & { lost: number } = { messages: 0, rows: 0, inserted: 0, deadLetters: 0, skipped: 0, lost: 0, appliedOffset: '' };
      const startedAt = Date.now();
      // Where a retried attempt resumes is the applied offset in Postgres, written with the rows; heartbeat details
      // would only be a hint that a lost last heartbeat can leave behind.
      let applied = await appliedOffset(deps.ds, c.name, topic, partition);
      const from = applied >= first ? applied + 1n : first;
      out.skipped = Number((from > last ? last + 1n : from) - first);
      // The row every transaction locks: it exists before the first one, so a pause always has something to wait for.
      await ensureConsumerControl(deps.ds, c.name);
      ctx.heartbeat({ applied: applied.toString() });
      /** Waits while the consumer is paused; false when the range must be handed back (the timeout is near). */
      const resumed = async (): Promise<boolean> => {
        for (;;) {
          ctx.heartbeat({ applied: applied.toString(), paused: true });
          await ctx.sleep(PAUSE_POLL_MS);
          if (!(await consumerControl(deps.ds, c.name)).paused) return true;
          if (Date.now() - startedAt > ctx.info.startToCloseTimeoutMs - HAND_BACK_BEFORE_MS) return false;
        }
      };
      const registry = registryWait({ ctx, consumer: c.name, topic, partition, details: () => ({ applied: applied.toString() }), ...(deps.temporal ? { temporal: deps.temporal } : {}) });
      for await (const whole of deps.reader.read(topic, partition, from, last)) {
        for (const chunk of split(whole, c.batchSize)) {
          const rows: IngestRow[] = [];
          const dead: { offset: string; reason: string; raw: Buffer | null }[] = [];
          const decode = await registry.until(() => c.decoderFor(chunk.values));
          for (let i = 0; i < chunk.offsets.length; i++) {
            const offset = chunk.offsets[i]!.toString();
            const value = chunk.values[i]!;
            const d = decode(value);
            if (d.ok) rows.push({ ...(d.value as Record<string, unknown>), offset });
            else dead.push({ offset, reason: withoutNul(d.reason), raw: value });
          }
          for (;;) {
            if (ctx.cancellationSignal.aborted) throw ctx.cancellationSignal.reason;
            const w = await inTransaction(deps.ds, async (qr) => {
              await qr.query(`SET LOCAL statement_timeout = '100s'`);
              const lock = await lockAppliedOffset(qr, c.name, topic, partition);
              if (lock.paused) return 'paused' as const;
              const now = lock.applied;
              if (now >= chunk.upTo) return { rows: 0, inserted: 0, dead: 0, lost: 0, applied: now };
              let newRows = rows;
              let newDead = dead;
              let lost = 0;
              if (chunk.lostFrom !== undefined) {
                const lostFrom = now >= chunk.lostFrom ? now + 1n : chunk.lostFrom;
                lost = Number(chunk.upTo - lostFrom + 1n);
                newDead = [{ offset: lostFrom.toString(), reason: retentionReason(lostFrom, chunk.upTo), raw: null }];
              } else if (now >= chunk.offsets[0]!) {
                newRows = rows.filter((r) => BigInt(r.offset) > now);
                newDead = dead.filter((d) => BigInt(d.offset) > now);
              }
              const inserted = await c.write(qr, [{ topic, partition, rows: newRows }]);
              await insertDeadLetters(qr, c.name, topic, partition, newDead);
              const deadLetters = lost > 0 ? 0 : newDead.length;
              await setAppliedOffset(qr, c.name, topic, partition, chunk.upTo, {
                messages: newRows.length + deadLetters,
                inserted,
                duplicates: newRows.length - inserted,
                deadLetters,
                lost,
              });
              return { rows: newRows.length, inserted, dead: deadLetters, lost, applied: chunk.upTo };
            });
            if (w === 'paused') {
              if (await resumed()) continue;
              out.appliedOffset = applied.toString();
              out.paused = true;
              return out;
            }
            applied = w.applied;
            out.messages += w.rows + w.dead;
            out.rows += w.rows;
            out.inserted += w.inserted;
            out.deadLetters += w.dead;
            out.lost += w.lost;
            events.consumerMessagesStored(c.name, w.rows, w.dead);
            events.consumerRowsWritten(c.name, w.rows, w.inserted);
            ctx.heartbeat({ applied: applied.toString() });
            break;
          }
        }
      }
      out.appliedOffset = (applied > last ? applied : last).toString();
      return out;
    },
  };
}

export type KafkaRangeIngestActivities = ReturnType<typeof createKafkaRangeIngestActivities>;

/** One fetched chunk as transactions of at most `size` messages; the last part keeps the chunk's `upTo`. */
function* split(chunk: RangeChunk, size: number): Generator<RangeChunk> {
  if (chunk.offsets.length <= size) {
    yield chunk;
    return;
  }
  for (let i = 0; i < chunk.offsets.length; i += size) {
    const end = Math.min(i + size, chunk.offsets.length);
    yield {
      offsets: chunk.offsets.slice(i, end),
      values: chunk.values.slice(i, end),
      upTo: end === chunk.offsets.length ? chunk.upTo : chunk.offsets[end - 1]!,
    };
  }
}
