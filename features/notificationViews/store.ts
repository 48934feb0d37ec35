import { ApplicationFailure } from '@temporalio/common';
import type { PoolClient } from 'pg';
import type { DataSource, EntityManager, QueryRunner } from 'typeorm';
import { pgArrayLiteral, pgQuotedContent } from '../../db/pgArrayLiteral';
import { redoOnConflict } from '../../db/transaction';
import type { NotificationView, Reject } from './parse';
import type { DayTotals } from './types';

/**
 * Every statement on the batch ingest's tables: `ingest_objects` (the day's plan and each object's checkpoint),
 * `notification_views` and `ingest_rejects`.
 */

type Queryable = Pick<DataSource | EntityManager | QueryRunner, 'query'>;

export interface ObjectCheckpoint {
  size_bytes: string;
  byte_offset: string;
  line_number: string;
  done: boolean;
}

export type ChunkCounts = Record<'chunks' | 'linesRead' | 'bytesRead' | 'rowsWritten' | 'duplicates' | 'rejected' | 'skipped', number>;

/**
 * Records the day's objects (sorted keys) in batches of `batchSize`. Checkpoints of the same run chain are kept, so a
 * retried attempt resumes; those of another chain, or of objects no longer listed, go.
 */
export async function recordPlan(
  ds: DataSource,
  p: { day: string; chainId: string; batchSize: number; keys: readonly string[]; sizes: readonly number[] },
): Promise<void> {
  await ds.transaction(async (tx) => {
    await tx.query(`DELETE FROM ingest_objects WHERE day = $1 AND (chain_id <> $2 OR NOT (object_key = ANY($3::text[])))`, [
      p.day,
      p.chainId,
      p.keys,
    ]);
    await tx.query(
      `INSERT INTO ingest_objects (day, object_key, chain_id, batch, size_bytes)
       SELECT $1, k, $2, (ord - 1) / $3, s FROM unnest($4::text[], $5::bigint[]) WITH ORDINALITY AS t(k, s, ord)
       ON CONFLICT (day, object_key) DO UPDATE SET batch = EXCLUDED.batch, size_bytes = EXCLUDED.size_bytes`,
      [p.day, p.chainId, p.batchSize, p.keys, p.sizes],
    );
  });
}

/** Keys of one batch that still have work to do. */
export async function pendingObjectKeys(q: Queryable, b: { day: string; chainId: string; batch: number }): Promise<string[]> {
  const rows: { object_key: string }[] = await q.query(
    `SELECT object_key FROM ingest_objects WHERE day = $1 AND chain_id = $2 AND batch = $3 AND NOT done ORDER BY object_key`,
    [b.day, b.chainId, b.batch],
  );
  return rows.map((r) => r.object_key);
}

export async function checkpointOf(q: Queryable, o: { day: string; chainId: string; key: string }): Promise<ObjectCheckpoint | undefined> {
  const rows: ObjectCheckpoint[] = await q.query(
    `SELECT size_bytes, byte_offset, line_number, done FROM ingest_objects WHERE day = $1 AND object_key = $2 AND chain_id = $3`,
    [o.day, o.key, o.chainId],
  );
  return rows[0];
}

/** Marks an object done; with `atLine`, only if its checkpoint is still there (no other attempt went on meanwhile). */
export async function markObjectDone(q: Queryable, o: { day: string; chainId: string; key: string }, atLine?: number): Promise<void> {
  await q.query(
    `UPDATE ingest_objects SET done = true, updated_at = now()
      WHERE day = $1 AND object_key = $2 AND chain_id = $3 AND ($4::bigint IS NULL OR line_number = $4)`,
    [o.day, o.key, o.chainId, atLine ?? null],
  );
}

/** A whole object quarantined as line 0 of its key, and marked done, in one transaction. */
export async function quarantineObject(ds: DataSource, o: { day: string; chainId: string; key: string }, reason: string, raw: string): Promise<void> {
  await ds.transaction(async (tx) => {
    await tx.query(
      `INSERT INTO ingest_rejects (day, object_key, line_number, reason, raw) VALUES ($1, $2, 0, $3, $4)
       ON CONFLICT (day, object_key, line_number) DO NOTHING`,
      [o.day, o.key, reason, raw],
    );
    await markObjectDone(tx, o);
  });
}

/** Run totals from the checkpoints: identical however many crashes and resumes it took. */
export async function dayTotals(q: Queryable, d: { day: string; chainId: string }): Promise<DayTotals> {
  const rows: Record<string, string>[] = await q.query(
    `SELECT count(*) AS objects, coalesce(sum(bytes_read),0) AS "bytesRead", coalesce(sum(lines_read),0) AS "linesRead",
            coalesce(sum(rows_written),0) AS "rowsWritten", coalesce(sum(duplicates),0) AS duplicates,
            coalesce(sum(skipped),0) AS skipped, coalesce(sum(rejected),0) AS rejected, coalesce(sum(blank),0) AS blank,
            coalesce(sum(chunks),0) AS chunks, count(*) FILTER (WHERE NOT done) AS "objectsPending"
       FROM ingest_objects WHERE day = $1 AND chain_id = $2`,
    [d.day, d.chainId],
  );
  return Object.fromEntries(Object.entries(rows[0]!).map(([k, v]) => [k, Number(v)])) as unknown as DayTotals;
}

/** The views of one notification on one day (the read API's). */
export async function viewsOf(q: Queryable, notificationId: string, day: string): Promise<{ platform: string; viewedAt: Date }[]> {
  const rows: { platform: string; viewed_at: Date }[] = await q.query(
    `SELECT platform, viewed_at FROM notification_views WHERE notification_id = $1 AND day = $2`,
    [notificationId, day],
  );
  return rows.map((r) => ({ platform: r.platform, viewedAt: r.viewed_at }));
}

export type RejectRow = { id: string; raw: string; reason: string };

/** One page of a day's rejects after `afterId`, optionally only reasons starting with `reason`. */
export async function rejectsPage(q: Queryable, p: { day: string; afterId: string; reason?: string; limit: number }): Promise<RejectRow[]> {
  return q.query(
    `SELECT id, raw, reason FROM ingest_rejects
      WHERE day = $1 AND id > $2 AND ($3::text IS NULL OR starts_with(reason, $3))
      ORDER BY id LIMIT $4`,
    [p.day, p.afterId, p.reason ?? null, p.limit],
  );
}

export interface RejectGroup {
  reason: string;
  count: number;
  /** The first lines quarantined for this reason. */
  samples: { objectKey: string; lineNumber: number; raw: string }[];
}

/** A day's rejects by reason, most frequent first: each reason's count and its first `samples` lines. */
export async function rejectsByReason(q: Queryable, p: { day: string; reasons: number; samples: number }): Promise<{ total: number; reasons: number; groups: RejectGroup[] }> {
  const rows: (RejectGroup & { total: number; reasons: number })[] = await q.query(
    `WITH g AS (SELECT reason, count(*)::int AS count FROM ingest_rejects WHERE day = $1 GROUP BY reason)
     SELECT g.reason, g.count, (SELECT sum(count)::int FROM g) AS total, (SELECT count(*)::int FROM g) AS reasons, coalesce(s.samples, '[]') AS samples
       FROM (SELECT * FROM g ORDER BY count DESC, reason LIMIT $2) g
       CROSS JOIN LATERAL (
         SELECT json_agg(json_build_object('objectKey', object_key, 'lineNumber', line_number, 'raw', raw) ORDER BY id) AS samples
           FROM (SELECT id, object_key, line_number, raw FROM ingest_rejects r WHERE r.day = $1 AND r.reason = g.reason ORDER BY id LIMIT $3) x) s
      ORDER BY g.count DESC, g.reason`,
    [p.day, p.reasons, p.samples],
  );
  return { total: rows[0]?.total ?? 0, reasons: rows[0]?.reasons ?? 0, groups: rows.map(({ total: _t, reasons: _r, ...g }) => g) };
}

/** Takes rejects out of quarantine; returns the ids this call deleted (a concurrent replay gets the others). */
export async function takeRejects(qr: QueryRunner, ids: readonly string[]): Promise<string[]> {
  const [gone]: [{ id: string }[], number] = await qr.query(`DELETE FROM ingest_rejects WHERE id = ANY($1::bigint[]) RETURNING id`, [ids]);
  return gone.map((g) => String(g.id));
}

export interface ChunkWrite {
  expectLine: number;
  offset: number;
  lineNumber: number;
  views: NotificationView[];
  rejects: Reject[];
  lines: number;
  bytes: number;
  skipped: number;
  blank: number;
  duplicatesInChunk: number;
}

/**
 * Epoch milliseconds to timestamptz, exact over the years 0001-9999: interval multiplication goes through a double,
 * and `v * interval '1 millisecond'` (v * 1000 microseconds) stops being exact past 2^53 microseconds (year 2255),
 * while 10^9 microseconds times at most 2.6 * 10^8 is exact (the factor 2^9 of 10^9 costs no mantissa bits).
 * Only time (no days) is added, so the session's time zone plays no part.
 */
const EPOCH_MS_TO_TIMESTAMPTZ = (v: string) =>
  `timestamptz 'epoch' + (${v} / 1000000) * interval '1000 seconds' + (${v} % 1000000) * interval '1 millisecond'`;

/**
 * The views of a chunk as one `INSERT ... SELECT unnest(...)`: the arrays in parameters `first` to `first + 4`, the
 * day in parameter `dayParam`. Sorted by key in SQL, so parallel objects sharing event_ids take row locks in one order and cannot deadlock.
 */
const VIEWS_INSERT = (dayParam: number, first: number, where = '') => {
  const p = (i: number) => `$${first + i}`;
  return `INSERT INTO notification_views (event_id, notification_id, user_id, platform, viewed_at, day)
  SELECT e, n, u, p, ${EPOCH_MS_TO_TIMESTAMPTZ('v')}, $${dayParam}::date
    FROM unnest(${p(0)}::uuid[], ${p(1)}::text[], ${p(2)}::text[], ${p(3)}::text[], ${p(4)}::bigint[]) AS t(e, n, u, p, v)
   ${where}
   ORDER BY e
  ON CONFLICT (event_id) DO NOTHING`;
};

/**
 * One chunk as one statement: one round trip instead of five (BEGIN, lock, insert, update, COMMIT), each of which
 * waited for the worker's main thread, busy with every object's parsing. A single statement is its own transaction,
 * so the chunk's rows, rejects and checkpoint still commit or vanish together.
 *
 * `ck` locks the checkpoint row first (the inserts read it through `ok`, so it runs before them) and proves no
 * other attempt (a zombie after a heartbeat timeout) moved it meanwhile: after waiting on such an attempt's lock it
 * sees the moved line, `ok` is empty, nothing is written, and the caller fails the attempt.
 */
const CHUNK_SQL = (withRejects: boolean) => `
WITH ck AS (
  SELECT line_number FROM ingest_objects WHERE day = $1 AND object_key = $2 AND chain_id = $3 FOR UPDATE
), ok AS (
  SELECT 1 FROM ck WHERE line_number = $4
), ins AS (
  ${VIEWS_INSERT(1, 13, 'WHERE EXISTS (SELECT 1 FROM ok)')}
  RETURNING 1
)${
  withRejects
    ? `, rej AS (
  INSERT INTO ingest_rejects (day, object_key, line_number, reason, raw)
  SELECT $1::date, $2, l, r, w FROM unnest($18::bigint[], $19::text[], $20::text[]) AS t(l, r, w)
   WHERE EXISTS (SELECT 1 FROM ok)
  ON CONFLICT (day, object_key, line_number) DO NOTHING
)`
    : ''
}, n AS (
  SELECT count(*) AS inserted FROM ins
), up AS (
  UPDATE ingest_objects SET byte_offset = $5, line_number = $6, chunks = chunks + 1, bytes_read = bytes_read + $7,
         lines_read = lines_read + $8, rows_written = rows_written + (SELECT inserted FROM n),
         duplicates = duplicates + $9 - (SELECT inserted FROM n), skipped = skipped + $10, rejected = rejected + $11,
         blank = blank + $12, updated_at = now()
   WHERE day = $1 AND object_key = $2 AND chain_id = $3 AND EXISTS (SELECT 1 FROM ok)
)
SELECT (SELECT line_number FROM ck) AS line_number, (SELECT inserted FROM n) AS inserted`;
// Named, so each connection parses and plans them once: planned afresh for every chunk, the statement cost Postgres up
// to 15 % more CPU (bench/chunkStatements.ts).
const CHUNK_WITH_REJECTS = { name: 'ingest_chunk_with_rejects', text: CHUNK_SQL(true) };
const CHUNK_WITHOUT_REJECTS = { name: 'ingest_chunk', text: CHUNK_SQL(false) };

type ChunkObject = { day: string; chainId: string; key: string };

/**
 * A chunk as its statement and parameters, plus the counts its result is reported with. The lines and parsed views
 * it was built from are not in it, so they are garbage while the write waits on Postgres: held across that wait in
 * every lane, they outlived the young generation and were promoted, and the worker spent about a quarter of its CPU
 * in major collections (BENCHMARKS.md, set G).
 */
export interface PreparedChunk {
  statement: { name: string; text: string };
  params: unknown[];
  expectLine: number;
  /** Where the object's checkpoint is once the chunk is written. */
  end: { offset: number; lineNumber: number };
  /** The chunk's view lines: the views sent plus the chunk's own repeats of them. */
  viewLines: number;
  counts: Omit<ChunkCounts, 'rowsWritten' | 'duplicates'>;
}

export function prepareChunk(obj: ChunkObject, c: ChunkWrite): PreparedChunk {
  const params: unknown[] = [
    obj.day,
    obj.key,
    obj.chainId,
    c.expectLine,
    c.offset,
    c.lineNumber,
    c.bytes,
    c.lines,
    // views sent plus the chunk's own repeats; the statement subtracts what it inserted
    c.views.length + c.duplicatesInChunk,
    c.skipped,
    c.rejects.length,
    c.blank,
    ...viewsParams(c.views),
  ];
  if (c.rejects.length) {
    params.push(
      pgArrayLiteral(c.rejects.map((r) => String(r.lineNumber))),
      pgArrayLiteral(c.rejects.map((r) => r.reason)),
      pgArrayLiteral(c.rejects.map((r) => r.raw)),
    );
  }
  return {
    statement: c.rejects.length ? CHUNK_WITH_REJECTS : CHUNK_WITHOUT_REJECTS,
    params,
    expectLine: c.expectLine,
    end: { offset: c.offset, lineNumber: c.lineNumber },
    viewLines: c.views.length + c.duplicatesInChunk,
    counts: { chunks: 1, linesRead: c.lines, bytesRead: c.bytes, rejected: c.rejects.length, skipped: c.skipped },
  };
}

/**
 * Writes one chunk and moves its object's checkpoint, if the checkpoint is still at `expectLine`; fails the attempt
 * (`CheckpointMoved`) when another attempt moved it.
 */
export async function writeChunk(client: PoolClient, obj: ChunkObject, c: PreparedChunk): Promise<ChunkCounts> {
  // The statement is its own transaction, so a deadlock leaves nothing of the chunk behind.
  const { rows } = await redoOnConflict(() => client.query<{ line_number: string | null; inserted: string }>({ ...c.statement, values: c.params }));
  const locked = rows[0]?.line_number;
  if (locked === null || locked === undefined || Number(locked) !== c.expectLine) {
    throw ApplicationFailure.retryable(
      `checkpoint of ${obj.key} moved from line ${c.expectLine} to ${locked}: another attempt wrote it`,
      'CheckpointMoved',
    );
  }
  const inserted = Number(rows[0]!.inserted);
  return { ...c.counts, rowsWritten: inserted, duplicates: c.viewLines - inserted };
}

/**
 * The five array literals of `VIEWS_INSERT`, in one pass over the views. Times go as epoch milliseconds (exact:
 * integers below 2^53, and the parser keeps milliseconds): `toISOString` and Postgres parsing it back were a
 * measurable part of both sides' CPU per row (see BENCHMARKS.md). Each column is joined once, every text element
 * quoted by the separator itself: appending element by element built a tree of a dozen short strings per row that
 * the worker then collected (BENCHMARKS.md, set G).
 */
function viewsParams(views: readonly NotificationView[]): string[] {
  const count = views.length;
  const e = new Array<string>(count);
  const n = new Array<string>(count);
  const u = new Array<string>(count);
  const p = new Array<string>(count);
  const ms = new Array<number>(count);
  for (let i = 0; i < count; i++) {
    const v = views[i]!;
    // event ids are checked UUIDs: nothing in them needs quoting
    e[i] = v.eventId;
    n[i] = pgQuotedContent(v.notificationId);
    u[i] = pgQuotedContent(v.userId);
    p[i] = pgQuotedContent(v.platform);
    ms[i] = v.viewedAt.getTime();
  }
  const quoted = (column: string[]) => (count === 0 ? '{}' : `{"${column.join('","')}"}`);
  return [`{${e.join(',')}}`, quoted(n), quoted(u), quoted(p), `{${ms.join(',')}}`];
}

/** One multi-row insert of views (the replay's); returns how many were new (the rest were already there). */
export async function insertViews(qr: QueryRunner, day: string, views: readonly NotificationView[]): Promise<number> {
  if (views.length === 0) return 0;
  const result = await qr.query(VIEWS_INSERT(6, 1), [...viewsParams(views), day], true);
  return result.affected ?? 0;
}
