import { createGunzip } from 'node:zlib';
import { Readable } from 'node:stream';
import { GetObjectCommand, HeadObjectCommand, ListObjectsV2Command, NotFound, type S3Client } from '@aws-sdk/client-s3';
import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import type { DataSource, QueryRunner } from 'typeorm';
import { dayPrefix, decodeListedKey, isGzipKey, isLogObjectKey, successMarkerKey } from '../domain/day';
import { dropBytes, readLineChunks } from '../domain/lineReader';
import { parseChunk, truncateRaw, type NotificationView, type Reject } from '../domain/notificationViews';
import { pgArrayLiteral } from '../db/pgArrayLiteral';
import { ingestCounters } from '../observability/metrics';
import type { IngestTotals } from '../workflows/ingestTypes';

export const CHUNK_LINES = 1000;

interface Deps {
  ds: DataSource;
  s3: S3Client;
  bucket: string;
}

interface ObjectRow {
  size_bytes: string;
  byte_offset: string;
  line_number: string;
  done: boolean;
}

/** The talk's ingest job as Temporal activities: readiness, the day's plan, and one resumable activity per object. */
export function createNotificationIngestActivities({ ds, s3, bucket }: Deps) {
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
    async planDay(input: { day: string; chainId: string; batchSize: number }): Promise<{ objects: number; batches: number; bytes: number }> {
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
      await qr.connect();
      // Safe to relax: rows and checkpoint commit atomically, so a Postgres crash can only lose both together, and
      // the resume then re-reads from the older checkpoint. It saves an fsync wait per chunk.
      await qr.query(`SET synchronous_commit = off`);
      const progress = new ProgressFlusher(ds, input.runId);
      try {
        for await (const lines of readLineChunks(source, { startOffset: offset, startLineNumber: lineNumber + 1, size: CHUNK_LINES })) {
          const last = lines[lines.length - 1]!;
          const parsed = parseChunk(lines, input.day);
          const counts = await writeChunk(qr, input, {
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
          ctx.heartbeat({ key: input.key, offset, lineNumber });
          if (ctx.cancellationSignal.aborted) throw ctx.cancellationSignal.reason ?? new Error('cancelled');
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
    await this.ds.query(
      `UPDATE job_runs SET updated_at = now(), metrics = metrics || (
          SELECT jsonb_object_agg(k, coalesce((metrics->>k)::bigint, 0) + v::bigint) FROM jsonb_each_text($2::jsonb) AS d(k, v))
        WHERE run_id = $1`,
      [this.runId, deltas],
    );
  }
}

interface ChunkWrite {
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

async function writeChunk(
  qr: QueryRunner,
  obj: { day: string; chainId: string; key: string; runId: string },
  c: ChunkWrite,
): Promise<ChunkCounts> {
  for (let attempt = 1; ; attempt++) {
    await qr.startTransaction();
    try {
      // Locks the checkpoint and proves no other attempt (a zombie after a heartbeat timeout) moved it meanwhile.
      const locked: { line_number: string }[] = await qr.query(
        `SELECT line_number FROM ingest_objects WHERE day = $1 AND object_key = $2 AND chain_id = $3 FOR UPDATE`,
        [obj.day, obj.key, obj.chainId],
      );
      if (Number(locked[0]?.line_number) !== c.expectLine) {
        throw ApplicationFailure.retryable(
          `checkpoint of ${obj.key} moved from line ${c.expectLine} to ${locked[0]?.line_number}: another attempt wrote it`,
          'CheckpointMoved',
        );
      }
      const inserted = await insertViews(qr, obj.day, c.views);
      if (c.rejects.length) {
        await qr.query(
          `INSERT INTO ingest_rejects (day, object_key, line_number, reason, raw)
           SELECT $1::date, $2, l, r, w FROM unnest($3::bigint[], $4::text[], $5::text[]) AS t(l, r, w)
           ON CONFLICT (day, object_key, line_number) DO NOTHING`,
          [
            obj.day,
            obj.key,
            pgArrayLiteral(c.rejects.map((r) => String(r.lineNumber))),
            pgArrayLiteral(c.rejects.map((r) => r.reason)),
            pgArrayLiteral(c.rejects.map((r) => r.raw)),
          ],
        );
      }
      const duplicates = c.views.length - inserted + c.duplicatesInChunk;
      await qr.query(
        `UPDATE ingest_objects SET byte_offset = $4, line_number = $5, chunks = chunks + 1, bytes_read = bytes_read + $6,
                lines_read = lines_read + $7, rows_written = rows_written + $8, duplicates = duplicates + $9,
                skipped = skipped + $10, rejected = rejected + $11, blank = blank + $12, updated_at = now()
          WHERE day = $1 AND object_key = $2 AND chain_id = $3`,
        [obj.day, obj.key, obj.chainId, c.offset, c.lineNumber, c.bytes, c.lines, inserted, duplicates, c.skipped, c.rejects.length, c.blank],
      );
      await qr.commitTransaction();
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
    } catch (err) {
      await qr.rollbackTransaction().catch(() => undefined);
      // Deadlock or serialization failure: safe to replay, nothing of the chunk committed.
      const code = (err as { code?: string }).code;
      if ((code === '40P01' || code === '40001') && attempt < 5) continue;
      throw err;
    }
  }
}

/**
 * One multi-row insert per chunk; returns how many were new (the rest were already there: upstream repeats).
 * Sorted by key in SQL, so parallel objects sharing event_ids take row locks in one order and cannot deadlock.
 */
export async function insertViews(qr: QueryRunner, day: string, views: readonly NotificationView[]): Promise<number> {
  if (views.length === 0) return 0;
  const result = await qr.query(
    `INSERT INTO notification_views (event_id, notification_id, user_id, platform, viewed_at, day)
     SELECT e, n, u, p, v, $6::date
       FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::timestamptz[]) AS t(e, n, u, p, v)
      ORDER BY e
     ON CONFLICT (event_id) DO NOTHING`,
    [
      pgArrayLiteral(views.map((v) => v.eventId)),
      pgArrayLiteral(views.map((v) => v.notificationId)),
      pgArrayLiteral(views.map((v) => v.userId)),
      pgArrayLiteral(views.map((v) => v.platform)),
      pgArrayLiteral(views.map((v) => v.viewedAt.toISOString())),
      day,
    ],
    true,
  );
  return result.affected ?? 0;
}
