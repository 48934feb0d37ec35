import type { DataSource } from 'typeorm';
import { heartbeatOrStop } from '../../activities/heartbeat';
import { inTransaction } from '../../db/transaction';
import { insertViews, rejectsPage, takeRejects, type RejectRow } from './store';
import { MAX_RAW_CHARS, parseLogLine, type NotificationView } from './parse';

/**
 * The replay of a day's quarantined lines (`ingest_rejects`) after a parser fix, with the parser the worker runs
 * now. Per batch, in one transaction: the rejects that now pass are deleted and their views written idempotently
 * (ON CONFLICT DO NOTHING), so a replay run twice, or a view that is already there, writes nothing twice. What still
 * fails stays, with its reason.
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
    const rows: RejectRow[] = await rejectsPage(ds, { day: input.day, afterId, ...(input.reason !== undefined ? { reason: input.reason } : {}), limit: input.batchSize });
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
        const gone = await takeRejects(qr, resolved);
        const mine = gone.flatMap((id) => views.get(id) ?? []);
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

/** The replay job's activity; `ds` is the ingest's connection (INGEST_DATABASE_URL when set). */
export function createRejectReplayActivities(ds: DataSource) {
  return {
    async replayIngestRejects(input: { day: string; reason?: string; batchSize: number }): Promise<RejectReplayTotals> {
      return replayIngestRejects(ds, input, heartbeatOrStop);
    },
  };
}

export type RejectReplayActivities = ReturnType<typeof createRejectReplayActivities>;
