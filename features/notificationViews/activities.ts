import { availableParallelism } from 'node:os';
import { createGunzip } from 'node:zlib';
import { Readable } from 'node:stream';
import { GetObjectCommand, HeadObjectCommand, ListObjectsV2Command, NotFound, type S3Client } from '@aws-sdk/client-s3';
import { Context } from '@temporalio/activity';
import { heartbeatOrStop } from '../../activities/heartbeat';
import { ApplicationFailure } from '@temporalio/common';
import type { PoolClient } from 'pg';
import type { DataSource } from 'typeorm';
import { dayPrefix, decodeListedKey, isGzipKey, isLogObjectKey, successMarkerKey } from '../../domain/day';
import { dropBytes, readLineChunks, resumeOptions, type Line } from './lineReader';
import { parseChunk, truncateRaw } from './parse';
import { addProgress } from '../../db/jobRuns';
import { events } from '../../observability/events';
import { checkpointOf, dayTotals, markObjectDone, pendingObjectKeys, quarantineObject, prepareChunk, recordPlan, writeChunk, type ChunkCounts, type PreparedChunk } from './store';
import type { DayTotals } from './types';
import { defaultIngestParallelism } from './parallelism';

export const CHUNK_LINES = 1000;

interface Deps {
  ds: DataSource;
  s3: S3Client;
  bucket: string;
  /** Connections `ds` keeps: the default parallelism must not ask for more. */
  poolSize: number;
}

/** The batch ingest's activities: readiness, the day's plan, one resumable activity per object, the totals. */
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
      await recordPlan(ds, { day: input.day, chainId: input.chainId, batchSize: input.batchSize, keys: sortedKeys, sizes: sortedSizes });
      return {
        objects: sortedKeys.length,
        batches: Math.ceil(sortedKeys.length / input.batchSize),
        bytes: sortedSizes.reduce((a, b) => a + b, 0),
        parallelism: defaultIngestParallelism(availableParallelism(), poolSize),
      };
    },

    /** Keys of one batch that still have work to do. */
    async pendingObjects(input: { day: string; chainId: string; batch: number }): Promise<string[]> {
      return pendingObjectKeys(ds, input);
    },

    /**
     * Streams one object in 1000-line chunks from its durable checkpoint. Each chunk's rows, rejects and the new
     * checkpoint commit in one transaction, then the checkpoint is heartbeated (a hint only: the last heartbeat can
     * be lost in a crash, the row in Postgres cannot).
     */
    async ingestObject(input: { day: string; chainId: string; key: string; runId: string }): Promise<void> {
      const start = await checkpointOf(ds, input);
      if (!start) throw ApplicationFailure.nonRetryable(`${input.key} is not in the plan of ${input.day} for this run`, 'PlanMissing');
      if (start.done) return;
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
      // the resume then re-reads from the older checkpoint. It saves an fsync wait per chunk; the object's last
      // commit (done) is synchronous again.
      await qr.query(`SET synchronous_commit = off`);
      const progress = new ProgressFlusher(ds, input.runId);
      try {
        const chunks = readLineChunks(source, { ...resumeOptions({ endOffset: offset, lineNumber }), size: CHUNK_LINES });
        for (let chunk = await nextChunk(chunks, input, { offset, lineNumber }); chunk; chunk = await nextChunk(chunks, input, chunk.end)) {
          const counts = await writeChunk(client, input, chunk);
          events.ingestChunk(counts);
          await progress.add(counts);
          ({ offset, lineNumber } = chunk.end);
          heartbeatOrStop({ key: input.key, offset, lineNumber });
        }
        // A synchronous commit waits until the WAL is flushed up to it, so every chunk committed before it is
        // durable by the time the activity reports the object done.
        await qr.query(`RESET synchronous_commit`);
        await markObjectDone(qr, input, lineNumber);
        await progress.flush();
      } finally {
        source.destroy();
        await qr.query(`RESET synchronous_commit`).catch(() => undefined);
        await qr.release();
      }
    },

    /** Run totals from the checkpoints: identical however many crashes and resumes it took. */
    async summarizeDay(input: { day: string; chainId: string }): Promise<DayTotals> {
      return dayTotals(ds, input);
    },
  };
}

export type NotificationIngestActivities = ReturnType<typeof createNotificationIngestActivities>;

/**
 * Reads, parses and prepares the next chunk after checkpoint `at`. A function of its own because an async function
 * keeps every local of its frame alive across each await: in the loop's body, the lines and parsed views would live
 * until the write returned.
 */
async function nextChunk(
  chunks: AsyncIterator<Line[]>,
  obj: { day: string; chainId: string; key: string },
  at: { offset: number; lineNumber: number },
): Promise<PreparedChunk | undefined> {
  const next = await chunks.next();
  if (next.done) return undefined;
  const lines = next.value;
  const last = lines[lines.length - 1]!;
  const parsed = parseChunk(lines, obj.day);
  return prepareChunk(obj, {
    expectLine: at.lineNumber,
    offset: last.endOffset,
    lineNumber: last.lineNumber,
    views: parsed.views,
    rejects: parsed.rejects,
    lines: lines.length,
    bytes: last.endOffset - at.offset,
    skipped: parsed.skipped,
    blank: parsed.blank,
    duplicatesInChunk: parsed.duplicatesInChunk,
  });
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
  // raw holds the key, the only text there is of the object (and never a line a replay could take for blank).
  await quarantineObject(
    ds,
    input,
    'object not found: listed under this key, but GetObject answers NoSuchKey (deleted after the listing, or a key with characters the S3 listing could not carry)',
    truncateRaw(input.key),
  );
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

