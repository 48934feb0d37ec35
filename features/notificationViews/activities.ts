import { availableParallelism } from 'node:os';
import { createGunzip } from 'node:zlib';
import { Readable } from 'node:stream';
import { GetObjectCommand, HeadObjectCommand, ListObjectsV2Command, NotFound, type S3Client } from '@aws-sdk/client-s3';
import { Context } from '@temporalio/activity';
import { heartbeatOrStop } from '../../activities/heartbeat';
import { ApplicationFailure } from '@temporalio/common';
import type { PoolClient } from 'pg';
import type { DataSource, QueryRunner } from 'typeorm';
import { dayPrefix, decodeListedKey, isGzipKey, isLogObjectKey, successMarkerKey } from '../../domain/day';
import { dropBytes, readLineChunks } from './lineReader';
import { parseChunk, truncateRaw, type NotificationView, type Reject } from './parse';
import { addProgress } from '../../db/jobRuns';
import { pgArrayElement, pgArrayLiteral } from '../../db/pgArrayLiteral';
import { ingestCounters } from '../../observability/metrics';
import type { IngestTotals } from './types';
import { defaultIngestParallelism } from './parallelism';

export const CHUNK_LINES = 1000;

interface Deps {
  ds: DataSource;
  s3: S3Client;
  bucket: string;
  /** Connections `ds` keeps: the default parallelism must not ask for more. */
  poolSize: number;
}

interface ObjectRow {
  size_bytes: string;
  byte_offset: string;
  line_number: string;
  done: boolean;
}

/** The talk's ingest job as Temporal activities: readiness, the day's plan, and one resumable activity per object. */
export function createNotificationIngestActivities({ ds, s3, bucket, poolSize }: Deps) {
  return {
    /** The upstream writes `_SUCCESS` last; until then the day is incomplete and ingest must wait, not guess. */
    async checkDayReady(input: { day: string }): Promise<void> {
      const key = successMarkerKey(input.day);
      try {
        await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
      } catch (err) {
        if (err instanceof NotFound || (err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode === 404) {
          throw ApplicationFailure.retryable(
            `day ${input.day} is not ready: s3://${bucket}/${key} does not exist yet (the upstream writes it when the day is complete)`,
            'UpstreamNotReady',
          );
        }
        throw err;
      }
    },

    /**
     * Lists the day's log objects (every page) and records them in `ingest_objects`, in batches the workflow fans out
     * over. Checkpoints of the same run chain are kept, so a retried attempt resumes instead of starting over.
     */
    async planDay(input: {
      day: string;
      chainId: string;
      batchSize: number;
    }): Promise<{ objects: number; batches: number; bytes: number; parallelism: number }> {
      const keys: string[] = [];
      const sizes: number[] = [];
      let token: string | undefined;
      do {
        const page = await s3.send(
          new ListObjectsV2Command({ Bucket: bucket, Prefix: dayPrefix(input.day), ContinuationToken: token, EncodingType: 'url' }),
        );
        for (const o of page.Contents ?? []) {
          const key = o.Key === undefined ? undefined : decodeListedKey(o.Key, page.EncodingType);
          if (key && isLogObjectKey(key)) {
            keys.push(key);
            sizes.push(o.Size ?? 0);
          }
        }
        token = page.IsTruncated ? page.NextContinuationToken : undefined;
        Context.current().heartbeat({ listed: keys.length });
      } while (token);
      const order = keys.map((_, i) => i).sort((a, b) => (keys[a]! < keys[b]! ? -1 : 1));
      const sortedKeys = order.map((i) => keys[i]!);
      const sortedSizes = order.map((i) => sizes[i]!);
      await ds.transaction(async (tx) => {
        await tx.query(`DELETE FROM ingest_objects WHERE day = $1 AND (chain_id <> $2 OR NOT (object_key = ANY($3::text[])))`, [
          input.day,
          input.chainId,
          sortedKeys,
        ]);
        await tx.query(
          `INSERT INTO ingest_objects (day, object_key, chain_id, batch, size_bytes)
           SELECT $1, k, $2, (ord - 1) / $3, s FROM unnest($4::text[], $5::bigint[]) WITH ORDINALITY AS t(k, s, ord)
           ON CONFLICT (day, object_key) DO UPDATE SET batch = EXCLUDED.batch, size_bytes = EXCLUDED.size_bytes`,
          [input.day, input.chainId, input.batchSize, sortedKeys, sortedSizes],
        );
      });
      return {
        objects: sortedKeys.length,
        batches: Math.ceil(sortedKeys.length / input.batchSize),
        bytes: sortedSizes.reduce((a, b) => a + b, 0),
        parallelism: defaultIngestParallelism(availableParallelism(), poolSize),
      };
    },

    /** Keys of one batch that still have work to do. */
    async pendingObjects(input: { day: string; chainId: string; batch: number }): Promise<string[]> {
      const rows: { object_key: string }[] = await ds.query(
        `SELECT object_key FROM ingest_objects WHERE day = $1 AND chain_id = $2 AND batch = $3 AND NOT done ORDER BY object_key`,
        [input.day, input.chainId, input.batch],
      );
      return rows.map((r) => r.object_key);
    },

    /**
     * Streams one object in 1000-line chunks from its durable checkpoint. Each chunk's rows, rejects and the new
     * checkpoint commit in one transaction, then the checkpoint is heartbeated (a hint only: the last heartbeat can
     * be lost in a crash, the row in Postgres cannot).
     */
    async ingestObject(input: { day: string; chainId: string; key: string; runId: string }): Promise<void> {
      const ctx = Context.current();
      const start = await checkpointOf(ds, input);
      if (!start || start.done) return;
      let offset = Number(start.byte_offset);
      let lineNumber = Number(start.line_number);
      let source: Readable;
      try {
        source = await openFrom(s3, bucket, input.key, offset, Number(start.size_bytes));
      } catch (err) {
        if (!isNoSuchKey(err)) throw err;
        await quarantineMissingObject(ds, input);
        return;
      }
      const qr = ds.createQueryRunner();
      // The chunk statement goes through the driver's client itself, as a named (prepared) statement: see writeChunk.
      const client = (await qr.connect()) as PoolClient;
      // Safe to relax: rows and checkpoint commit atomically, so a Postgres crash can only lose both together, and
      // the resume then re-reads from the older checkpoint. It saves an fsync wait per chunk.
      await qr.query(`SET synchronous_commit = off`);
      const progress = new ProgressFlusher(ds, input.runId);
      try {
        for await (const lines of readLineChunks(source, { startOffset: offset, startLineNumber: lineNumber + 1, size: CHUNK_LINES })) {
          const last = lines[lines.length - 1]!;
          const parsed = parseChunk(lines, input.day);
          const counts = await writeChunk(client, input, {
            expectLine: lineNumber,
            offset: last.endOffset,
            lineNumber: last.lineNumber,
            views: parsed.views,
            rejects: parsed.rejects,
            lines: lines.length,
            bytes: last.endOffset - offset,
            skipped: parsed.skipped,
            blank: parsed.blank,
            duplicatesInChunk: parsed.duplicatesInChunk,
          });
          await progress.add(counts);
          offset = last.endOffset;
          lineNumber = last.lineNumber;
          heartbeatOrStop({ key: input.key, offset, lineNumber });
        }
        await qr.query(
          `UPDATE ingest_objects SET done = true, updated_at = now()
            WHERE day = $1 AND object_key = $2 AND chain_id = $3 AND line_number = $4`,
          [input.day, input.key, input.chainId, lineNumber],
        );
        await progress.flush();
      } finally {
        source.destroy();
        await qr.query(`RESET synchronous_commit`).catch(() => undefined);
        await qr.release();
      }
    },

    /** Run totals from the checkpoints: identical however many crashes and resumes it took. */
    async summarizeDay(input: { day: string; chainId: string }): Promise<IngestTotals> {
      const rows: Record<string, string>[] = await ds.query(
        `SELECT count(*) AS objects, coalesce(sum(bytes_read),0) AS "bytesRead", coalesce(sum(lines_read),0) AS "linesRead",
                coalesce(sum(rows_written),0) AS "rowsWritten", coalesce(sum(duplicates),0) AS duplicates,
                coalesce(sum(skipped),0) AS skipped, coalesce(sum(rejected),0) AS rejected, coalesce(sum(blank),0) AS blank,
                coalesce(sum(chunks),0) AS chunks, count(*) FILTER (WHERE NOT done) AS "objectsPending"
           FROM ingest_objects WHERE day = $1 AND chain_id = $2`,
        [input.day, input.chainId],
      );
      return Object.fromEntries(Object.entries(rows[0]!).map(([k, v]) => [k, Number(v)])) as unknown as IngestTotals;
    },
  };
}

export type NotificationIngestActivities = ReturnType<typeof createNotificationIngestActivities>;

async function checkpointOf(ds: DataSource, input: { day: string; chainId: string; key: string }): Promise<ObjectRow | undefined> {
  const rows: ObjectRow[] = await ds.query(
    `SELECT size_bytes, byte_offset, line_number, done FROM ingest_objects WHERE day = $1 AND object_key = $2 AND chain_id = $3`,
    [input.day, input.key, input.chainId],
  );
  if (!rows[0]) {
    throw ApplicationFailure.nonRetryable(`${input.key} is not in the plan of ${input.day} for this run`, 'PlanMissing');
  }
  return rows[0];
}

/** The key only: a missing bucket (also a 404) is a configuration fault that must fail the run, not empty it. */
function isNoSuchKey(err: unknown): boolean {
  return (err as { name?: string })?.name === 'NoSuchKey';
}

/**
 * A listed object that GetObject does not find: deleted after the listing, or a key the listing could not carry (an
 * S3-compatible server that ignores `EncodingType=url` mangles control characters). Retrying cannot bring it back, and
 * failing would hold up the whole day, so it is quarantined as line 0 of its key, for a human to look at.
 */
async function quarantineMissingObject(ds: DataSource, input: { day: string; chainId: string; key: string }): Promise<void> {
  await ds.transaction(async (tx) => {
    await tx.query(
      // raw holds the key, the only text there is of the object (and never a line a replay could take for blank).
      `INSERT INTO ingest_rejects (day, object_key, line_number, reason, raw) VALUES ($1, $2, 0, $3, $4)
       ON CONFLICT (day, object_key, line_number) DO NOTHING`,
      [
        input.day,
        input.key,
        'object not found: listed under this key, but GetObject answers NoSuchKey (deleted after the listing, or a key with characters the S3 listing could not carry)',
        truncateRaw(input.key),
      ],
    );
    await tx.query(`UPDATE ingest_objects SET done = true, updated_at = now() WHERE day = $1 AND object_key = $2 AND chain_id = $3`, [
      input.day,
      input.key,
      input.chainId,
    ]);
  });
}

/** Plain objects resume with a Range GET; gzip cannot be entered mid-stream, so it is re-read and skipped. */
async function openFrom(s3: S3Client, bucket: string, key: string, offset: number, size: number): Promise<Readable> {
  const gz = isGzipKey(key);
  // A crash between the last chunk and `done` leaves the checkpoint at the end, where a Range GET would get a 416.
  if (!gz && offset >= size) return Readable.from([]);
  const res = await s3.send(
    new GetObjectCommand({ Bucket: bucket, Key: key, ...(offset > 0 && !gz ? { Range: `bytes=${offset}-` } : {}) }),
  );
  const body = res.Body as Readable;
  if (!gz) return body;
  const gunzip = body.pipe(createGunzip());
  body.once('error', (err) => gunzip.destroy(err));
  if (offset === 0) return gunzip;
  const skipped = Readable.from(dropBytes(gunzip, offset));
  skipped.once('close', () => gunzip.destroy());
  return skipped;
}

type ChunkCounts = Record<'chunks' | 'linesRead' | 'bytesRead' | 'rowsWritten' | 'duplicates' | 'rejected' | 'skipped', number>;

/**
 * Live progress of the attempt in `job_runs.metrics`, at most once a second and outside the chunk transactions:
 * one hot row updated inside every chunk's transaction would serialize the parallel objects on its lock. A crash
 * loses only unflushed progress; the run's final metrics come from the checkpoints (summarizeDay).
 */
class ProgressFlusher {
  private pending: Partial<ChunkCounts> = {};
  private last = Date.now();

  constructor(
    private readonly ds: DataSource,
    private readonly runId: string,
  ) {}

  async add(c: ChunkCounts): Promise<void> {
    for (const [k, v] of Object.entries(c) as [keyof ChunkCounts, number][]) this.pending[k] = (this.pending[k] ?? 0) + v;
    if (Date.now() - this.last >= 1000) await this.flush();
  }

  async flush(): Promise<void> {
    if (Object.keys(this.pending).length === 0) return;
    const deltas = this.pending;
    this.pending = {};
    this.last = Date.now();
    await addProgress(this.ds, this.runId, deltas);
  }
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

/** Exported for the test of the zombie guard and of the times' round trip. */
export async function writeChunk(
  client: PoolClient,
  obj: { day: string; chainId: string; key: string; runId: string },
  c: ChunkWrite,
): Promise<ChunkCounts> {
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
  for (let attempt = 1; ; attempt++) {
    let rows: { line_number: string | null; inserted: string }[];
    try {
      rows = (await client.query({ ...(c.rejects.length ? CHUNK_WITH_REJECTS : CHUNK_WITHOUT_REJECTS), values: params })).rows;
    } catch (err) {
      // Deadlock or serialization failure: safe to replay, nothing of the chunk committed.
      const code = (err as { code?: string }).code;
      if ((code === '40P01' || code === '40001') && attempt < 5) continue;
      throw err;
    }
    const locked = rows[0]?.line_number;
    if (locked === null || locked === undefined || Number(locked) !== c.expectLine) {
      throw ApplicationFailure.retryable(
        `checkpoint of ${obj.key} moved from line ${c.expectLine} to ${locked}: another attempt wrote it`,
        'CheckpointMoved',
      );
    }
    const inserted = Number(rows[0]!.inserted);
    const duplicates = c.views.length - inserted + c.duplicatesInChunk;
    ingestCounters.inc({ kind: 'rows_written' }, inserted);
    ingestCounters.inc({ kind: 'duplicates' }, duplicates);
    ingestCounters.inc({ kind: 'rejected' }, c.rejects.length);
    ingestCounters.inc({ kind: 'skipped' }, c.skipped);
    ingestCounters.inc({ kind: 'lines_read' }, c.lines);
    return {
      chunks: 1,
      linesRead: c.lines,
      bytesRead: c.bytes,
      rowsWritten: inserted,
      duplicates,
      rejected: c.rejects.length,
      skipped: c.skipped,
    };
  }
}

/**
 * The five array literals of `VIEWS_INSERT`, in one pass over the views. Times go as epoch milliseconds (exact:
 * integers below 2^53, and the parser keeps milliseconds): `toISOString` and Postgres parsing it back were a
 * measurable part of both sides' CPU per row (see BENCHMARKS.md).
 */
function viewsParams(views: readonly NotificationView[]): string[] {
  let e = '{';
  let n = '{';
  let u = '{';
  let p = '{';
  let ms = '{';
  for (let i = 0; i < views.length; i++) {
    const v = views[i]!;
    const sep = i > 0 ? ',' : '';
    // event ids are checked UUIDs: nothing in them needs quoting
    e += sep + v.eventId;
    n += sep + pgArrayElement(v.notificationId);
    u += sep + pgArrayElement(v.userId);
    p += sep + pgArrayElement(v.platform);
    ms += sep + v.viewedAt.getTime();
  }
  return [e + '}', n + '}', u + '}', p + '}', ms + '}'];
}

/** One multi-row insert of views (the replay's); returns how many were new (the rest were already there). */
export async function insertViews(qr: QueryRunner, day: string, views: readonly NotificationView[]): Promise<number> {
  if (views.length === 0) return 0;
  const result = await qr.query(VIEWS_INSERT(6, 1), [...viewsParams(views), day], true);
  return result.affected ?? 0;
}
