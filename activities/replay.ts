import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import type { DataSource } from 'typeorm';
import type { ConsumerRegistry, ResolvedConsumer } from '../consumers/registry';
import { MAX_RAW_CHARS, parseLogLine, type NotificationView } from '../domain/notificationViews';
import type { IngestRow } from '../workflows/consumerTypes';
import { inTransaction } from '../db/transaction';
import { batchWriters, type BatchWriter } from './curatedProgramWrites';
import { insertViews } from './notificationIngest';

/**
 * Replays of quarantined input after a fix, with the code the worker runs now: the notification-view parser
 * (domain/notificationViews.ts) for `ingest_rejects`, the consumer's decoder (its current schemas) for
 * `kafka_dead_letters`. Per batch, in one transaction: the quarantined rows that now pass are deleted and their
 * rows written idempotently (ON CONFLICT DO NOTHING), so a replay run twice, or a row that is already there, writes
 * nothing twice. What still fails stays where it is, with its reason.
 */

export interface RejectReplayTotals {
  /** Quarantined rows looked at. */
  examined: number;
  /** Now valid views that were not in notification_views yet. */
  replayed: number;
  /** Now valid views whose event_id was already there (upstream repeats, or a re-ingest of the day). */
  alreadyPresent: number;
  /** Now valid lines that are not views (other event types, blank): taken out of quarantine, nothing to write. */
  skipped: number;
  stillRejected: number;
  /** Rows whose stored raw is not the whole line (see `storedLineIsWhole`): only a re-ingest of the day can fix them. */
  unreplayable: number;
}

export interface DeadLetterReplayTotals {
  examined: number;
  replayed: number;
  alreadyPresent: number;
  stillDead: number;
}

type RejectRow = { id: string; raw: string; reason: string };
type DeadLetterRow = { id: string; topic: string; kafka_partition: number; kafka_offset: string; raw: Buffer | null };

/**
 * Whether `raw` is the line as it was read. The ingest stores at most MAX_RAW_CHARS characters with NULs replaced
 * (U+FFFD), and lines it could not decode (too long, invalid UTF-8) are stored as a stand-in: parsing any of those
 * would judge a different line, so they are not replayed.
 */
export function storedLineIsWhole(r: { raw: string; reason: string }): boolean {
  if (r.reason === 'line is not valid UTF-8' || r.reason.startsWith('line is longer than the line-size limit')) return false;
  if (r.reason.startsWith('object not found')) return false; // a whole missing object: raw holds its key, not a line
  if (r.raw.length >= MAX_RAW_CHARS - 1) return false; // truncateRaw may stop one short of a surrogate pair
  return !r.raw.includes('\uFFFD');
}

/** Re-parses one day's quarantined lines (optionally only those whose reason starts with `reason`). */
export async function replayIngestRejects(
  ds: DataSource,
  input: { day: string; reason?: string; batchSize: number },
  onBatch: (t: RejectReplayTotals) => void = () => undefined,
): Promise<RejectReplayTotals> {
  const t: RejectReplayTotals = { examined: 0, replayed: 0, alreadyPresent: 0, skipped: 0, stillRejected: 0, unreplayable: 0 };
  let afterId = '0';
  for (;;) {
    const rows: RejectRow[] = await ds.query(
      `SELECT id, raw, reason FROM ingest_rejects
        WHERE day = $1 AND id > $2 AND ($3::text IS NULL OR starts_with(reason, $3))
        ORDER BY id LIMIT $4`,
      [input.day, afterId, input.reason ?? null, input.batchSize],
    );
    if (rows.length === 0) return t;
    afterId = rows[rows.length - 1]!.id;
    t.examined += rows.length;
    const views = new Map<string, NotificationView[]>(); // reject id -> its view (at most one)
    const resolved: string[] = [];
    for (const r of rows) {
      if (!storedLineIsWhole(r)) {
        t.unreplayable++;
        continue;
      }
      const parsed = parseLogLine(r.raw, input.day);
      if (parsed.kind === 'rejected') {
        t.stillRejected++;
        continue;
      }
      resolved.push(r.id);
      views.set(r.id, parsed.kind === 'view' ? [parsed.view] : []);
    }
    if (resolved.length > 0) {
      const counts = await inTransaction(ds, async (qr) => {
        // Only what this transaction took out of quarantine is written: a concurrent replay cannot count it twice.
        const [gone]: [{ id: string }[], number] = await qr.query(
          `DELETE FROM ingest_rejects WHERE id = ANY($1::bigint[]) RETURNING id`,
          [resolved],
        );
        const mine = gone.flatMap((g) => views.get(String(g.id)) ?? []);
        const distinct = [...new Map(mine.map((v) => [v.eventId, v])).values()].sort((a, b) => (a.eventId < b.eventId ? -1 : a.eventId > b.eventId ? 1 : 0));
        const inserted = await insertViews(qr, input.day, distinct);
        return { taken: gone.length, views: mine.length, inserted };
      });
      t.replayed += counts.inserted;
      t.alreadyPresent += counts.views - counts.inserted;
      t.skipped += counts.taken - counts.views;
    }
    onBatch(t);
    if (rows.length < input.batchSize) return t;
  }
}

/** Re-decodes one consumer's dead letters (optionally one topic, or reasons starting with `reason`). */
export async function replayDeadLetters(
  ds: DataSource,
  consumer: ResolvedConsumer,
  writer: BatchWriter,
  input: { topic?: string; reason?: string; batchSize: number },
  onBatch: (t: DeadLetterReplayTotals) => void = () => undefined,
): Promise<DeadLetterReplayTotals> {
  const t: DeadLetterReplayTotals = { examined: 0, replayed: 0, alreadyPresent: 0, stillDead: 0 };
  let afterId = '0';
  for (;;) {
    const rows: DeadLetterRow[] = await ds.query(
      `SELECT id, topic, kafka_partition, kafka_offset, raw FROM kafka_dead_letters
        WHERE consumer = $1 AND id > $2 AND ($3::text IS NULL OR topic = $3) AND ($4::text IS NULL OR starts_with(reason, $4))
        ORDER BY id LIMIT $5`,
      [consumer.name, afterId, input.topic ?? null, input.reason ?? null, input.batchSize],
    );
    if (rows.length === 0) return t;
    afterId = rows[rows.length - 1]!.id;
    t.examined += rows.length;
    const decoded = new Map<string, { topic: string; partition: number; row: IngestRow }>();
    for (const r of rows) {
      const d = consumer.decode(r.raw);
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
        const [gone]: [{ id: string }[], number] = await qr.query(
          `DELETE FROM kafka_dead_letters WHERE id = ANY($1::bigint[]) RETURNING id`,
          [[...decoded.keys()]],
        );
        const byPartition = new Map<string, { topic: string; partition: number; rows: IngestRow[] }>();
        for (const g of gone) {
          const d = decoded.get(String(g.id))!;
          const key = JSON.stringify([d.topic, d.partition]);
          const b = byPartition.get(key) ?? { topic: d.topic, partition: d.partition, rows: [] };
          b.rows.push(d.row);
          byPartition.set(key, b);
        }
        return { taken: gone.length, inserted: await writer(qr, [...byPartition.values()]) };
      });
      t.replayed += counts.inserted;
      t.alreadyPresent += counts.taken - counts.inserted;
    }
    onBatch(t);
    if (rows.length < input.batchSize) return t;
  }
}

/** The replay jobs' activities; `ds` is the ingest's connection (INGEST_DATABASE_URL when set). */
export function createReplayActivities(deps: { ds: DataSource; consumers: ConsumerRegistry; writers?: Record<string, BatchWriter | undefined> }) {
  const writers = deps.writers ?? batchWriters;
  const heartbeat = (details: unknown) => {
    const ctx = Context.current();
    ctx.heartbeat(details);
    if (ctx.cancellationSignal.aborted) throw ctx.cancellationSignal.reason ?? new Error('cancelled');
  };
  return {
    async replayIngestRejects(input: { day: string; reason?: string; batchSize: number }): Promise<RejectReplayTotals> {
      return replayIngestRejects(deps.ds, input, heartbeat);
    },

    async replayDeadLetters(input: { consumer: string; topic?: string; reason?: string; batchSize: number }): Promise<DeadLetterReplayTotals> {
      if (!deps.consumers.has(input.consumer)) {
        throw ApplicationFailure.nonRetryable(
          `this worker has no consumer named ${input.consumer} (known: ${deps.consumers.list().map((c) => c.name).join(', ') || 'none'}); do all workers load the same CONSUMERS_MODULE?`,
          'UnknownConsumer',
        );
      }
      const consumer = deps.consumers.get(input.consumer);
      const writer = writers[consumer.handler];
      if (!writer) throw ApplicationFailure.nonRetryable(`no batch writer named ${consumer.handler}`, 'UnknownHandler');
      return replayDeadLetters(deps.ds, consumer, writer, input, heartbeat);
    },
  };
}

export type ReplayActivities = ReturnType<typeof createReplayActivities>;
