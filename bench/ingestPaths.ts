/**
 * The ingest job measured against the limits of the machine (S3 raw read, COPY of the same rows from a file) and
 * against what a user would write instead (a streaming script, a TypeORM save() loop), over one generated day.
 */
import { createReadStream, createWriteStream } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import { DeleteObjectCommand, GetObjectCommand } from '@aws-sdk/client-s3';
import type { Client as PgClient } from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { DataSource, EntitySchema } from 'typeorm';
import { readLineChunks } from '../features/notificationViews/lineReader';
import { parseChunk, type NotificationView } from '../features/notificationViews/parse';
import { generateDay, type GeneratedFile } from '../scripts/generate-day';
import { uploadGeneratedFiles } from '../scripts/upload-day';
import { freshDay } from '../test/support/days';
import { sampleRss } from '../test/support/rss';
import { seconds, type BenchContext, type BenchRow } from './context';
import { filledLike, psqlCopy, scratchTableLike } from './copyLimit';
import { measureCpu, type CpuSeconds } from './cpuTime';

const BenchView = new EntitySchema<NotificationView>({
  name: 'BenchView',
  tableName: 'bench_orm_views',
  columns: {
    eventId: { name: 'event_id', type: 'uuid', primary: true },
    notificationId: { name: 'notification_id', type: 'text' },
    userId: { name: 'user_id', type: 'text' },
    platform: { type: 'text' },
    viewedAt: { name: 'viewed_at', type: 'timestamptz' },
    day: { type: 'date' },
  },
});

export const SCRATCH_TABLES = ['bench_copy_views', 'bench_script_views', 'bench_orm_views'];

/**
 * The two days the bench ingests: its own (about 82 % of the lines views, 8 % other events), and one where half the
 * lines are other events than `view`, as real notification logs carry. Every line is read and parsed whether it becomes
 * a row or not, so rows per second depend on the mix.
 */
export const INGEST_MIXES = { views: 8, half: 50 } as const;
export type IngestMix = keyof typeof INGEST_MIXES;

export interface IngestFigures {
  mix: IngestMix;
  lines: number;
  rows: number;
  objects: number;
  mib: number;
  s3_read_s: number;
  parse_only_s: number;
  /** `psql \copy` of the parsed rows from a CSV file: what a user types by hand, and the baseline of the ratio. */
  copy_s: number;
  /** The same rows through COPY FROM STDIN from this process (pg-copy-streams), for comparison with psql. */
  stream_copy_s: number;
  script_s: number;
  orm_rows_per_s: number;
  ingest_s: number;
  ingest_worker_peak_rss_mib: number;
  /**
   * Rows already in notification_views when the ingest starts; the COPY baseline's table is filled to the same count
   * first, so both pay for the same index size.
   */
  views_table_rows_before: number;
  /** CPU seconds per process over the psql COPY, and what the rest of the machine used meanwhile. */
  copy_cpu: CpuSeconds;
  /** The same over the ingest, trigger to succeeded. */
  ingest_cpu: CpuSeconds;
}

const tsv = (v: NotificationView) =>
  `${v.eventId}\t${v.notificationId}\t${v.userId}\t${v.platform}\t${v.viewedAt.toISOString()}\t${v.day}\n`;

const csvField = (s: string) => (/[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s);
const csv = (v: NotificationView) =>
  `${v.eventId},${csvField(v.notificationId)},${csvField(v.userId)},${csvField(v.platform)},${v.viewedAt.toISOString()},${v.day}\n`;

/** A scratch table holding as many rows as notification_views does, so a COPY into it pays the same index depth. */
const copyTarget = (pg: PgClient, name: string) => filledLike(pg, name, 'notification_views');

export async function benchIngest(
  ctx: BenchContext,
  opts: { lines: number; objects: number; ormSample: number; alternatives: boolean; mix: IngestMix },
): Promise<IngestFigures> {
  const { rt, s3, bucket, pg } = ctx;
  const objectStream = async (f: GeneratedFile): Promise<Readable> => {
    const body = (await s3.send(new GetObjectCommand({ Bucket: bucket, Key: f.key }))).Body as Readable;
    return f.gzip ? body.pipe(createGunzip()) : body;
  };
  const day = freshDay();
  const gen = await generateDay({ day, objects: opts.objects, linesPerObject: Math.ceil(opts.lines / opts.objects), gzipFraction: 0.25, seed: 1, otherEventsPercent: INGEST_MIXES[opts.mix] });
  await uploadGeneratedFiles(s3, bucket, gen.files);
  const logs = gen.files.filter((f) => f.role === 'log');
  const e = gen.expected;
  const fig: IngestFigures = {
    mix: opts.mix,
    lines: e.lines,
    rows: e.views,
    objects: e.objects,
    mib: e.bytes / 1024 ** 2,
    s3_read_s: NaN,
    parse_only_s: NaN,
    copy_s: NaN,
    stream_copy_s: NaN,
    script_s: NaN,
    orm_rows_per_s: NaN,
    ingest_s: NaN,
    ingest_worker_peak_rss_mib: NaN,
    views_table_rows_before: NaN,
    copy_cpu: {} as CpuSeconds,
    ingest_cpu: {} as CpuSeconds,
  };

  // The limit, part 1: the S3 server's raw read speed for the same objects.
  let t = process.hrtime.bigint();
  for (const f of logs) for await (const _ of await objectStream(f));
  fig.s3_read_s = seconds(t);

  // Read and parse without a database: the CPU every path pays before any row is written.
  const views = new Map<string, NotificationView>();
  t = process.hrtime.bigint();
  for (const f of logs) {
    for await (const chunk of readLineChunks(await objectStream(f))) {
      for (const v of parseChunk(chunk, day).views) if (!views.has(v.eventId)) views.set(v.eventId, v);
    }
  }
  fig.parse_only_s = seconds(t);

  // The limit, part 2: COPY of the same parsed, deduplicated rows from a local file, as a user runs it with psql,
  // into a table with the real one's key, indexes and row count.
  fig.views_table_rows_before = Number((await pg.query(`SELECT count(*) AS n FROM notification_views`)).rows[0].n);
  const file = join(ctx.dir, 'rows.csv');
  await pipeline(Readable.from([...views.values()].map(csv)), createWriteStream(file));
  await copyTarget(pg, 'bench_copy_views');
  let cpu = measureCpu(ctx.worker.pid);
  t = process.hrtime.bigint();
  await psqlCopy(rt.env.DATABASE_URL, 'bench_copy_views', 'FROM', file);
  fig.copy_s = seconds(t);
  // psql's backend exits after psql does; its CPU counts once the postmaster has reaped it
  await new Promise((r) => setTimeout(r, 300));
  fig.copy_cpu = cpu.stop();
  await copyTarget(pg, 'bench_copy_views');
  t = process.hrtime.bigint();
  await pipeline(createReadStream(file), pg.query(copyFrom(`COPY bench_copy_views FROM STDIN WITH (FORMAT csv)`)));
  fig.stream_copy_s = seconds(t);
  await pg.query(`DROP TABLE bench_copy_views`);

  if (opts.alternatives) {
    // What a user would write instead (a): a streaming script, GetObject -> lines -> parse -> COPY, deduplicated
    // through a staging table because upstream repeats events. Into a table as full as the ingest's, like COPY's.
    await copyTarget(pg, 'bench_script_views');
    t = process.hrtime.bigint();
    for (const f of logs) {
      await pg.query('BEGIN');
      await pg.query(`CREATE TEMP TABLE stage (LIKE notification_views) ON COMMIT DROP`);
      const rows = Readable.from(
        (async function* () {
          for await (const chunk of readLineChunks(await objectStream(f))) yield parseChunk(chunk, day).views.map(tsv).join('');
        })(),
      );
      await pipeline(rows, pg.query(copyFrom(`COPY stage FROM STDIN`)));
      await pg.query(`INSERT INTO bench_script_views SELECT * FROM stage ON CONFLICT (event_id) DO NOTHING`);
      await pg.query('COMMIT');
    }
    fig.script_s = seconds(t);
    await pg.query(`DROP TABLE bench_script_views`);

  }
  if (opts.ormSample > 0) {
    // What a user would write instead (b): a TypeORM save() loop, on a sample.
    const sample = [...views.values()].slice(0, opts.ormSample);
    await scratchTableLike(pg, 'bench_orm_views', 'notification_views');
    const ormDs = await new DataSource({ type: 'postgres', url: rt.env.DATABASE_URL, entities: [BenchView] }).initialize();
    t = process.hrtime.bigint();
    for (const v of sample) await ormDs.getRepository(BenchView).save({ ...v });
    fig.orm_rows_per_s = sample.length / seconds(t);
    await ormDs.destroy();
    await pg.query(`DROP TABLE bench_orm_views`);
  }
  views.clear();

  // The product: the ingest job end to end, trigger to succeeded, with the worker's memory watched.
  const rss = sampleRss(ctx.worker.pid);
  cpu = measureCpu(ctx.worker.pid);
  t = process.hrtime.bigint();
  const run = await rt.client.trigger('ingest_notification_views', { day });
  const done = await rt.client.waitFor('ingest_notification_views', run.runId, undefined, 100);
  fig.ingest_s = seconds(t);
  fig.ingest_cpu = cpu.stop();
  fig.ingest_worker_peak_rss_mib = rss.stop();
  if (done.status !== 'succeeded' || done.metrics['rowsWritten'] !== e.views) {
    throw new Error(`ingest ${done.status} with ${done.metrics['rowsWritten']} of ${e.views} rows: ${done.error}`);
  }
  await forgetDay(ctx, day, gen.files.map((f) => f.key));
  return fig;
}

/**
 * Takes the bench's day out of S3 and the service's tables again. Left in, every run would add its million rows to
 * `notification_views`, and each later run's ingest would pay for a bigger index than the empty COPY baseline.
 */
async function forgetDay({ pg, s3, bucket }: BenchContext, day: string, keys: string[]): Promise<void> {
  for (const Key of keys) await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key }));
  for (const table of ['notification_views', 'ingest_rejects', 'ingest_objects']) await pg.query(`DELETE FROM ${table} WHERE day = $1`, [day]);
  await pg.query('VACUUM ANALYZE notification_views');
}

/** The ingest's rows/s over the COPY's: 1 = as fast as a raw COPY of the same rows. */
export const ingestVsCopy = (f: IngestFigures): number => f.copy_s / f.ingest_s;

export function ingestTable(f: IngestFigures): BenchRow[] {
  const label = f.mix === 'views' ? '' : ` [${f.mix} mix]`;
  const rowsPerS = (s: number) => `${Math.round(f.rows / s)} rows/s, ${Math.round(f.lines / s)} lines/s`;
  const rows: BenchRow[] = [
    { path: 'S3 raw read of the objects', seconds: f.s3_read_s.toFixed(2), throughput: `${(f.mib / f.s3_read_s).toFixed(1)} MiB/s` },
    { path: 'S3 read + parse, no database', seconds: f.parse_only_s.toFixed(2), throughput: rowsPerS(f.parse_only_s) },
    { path: 'psql \\copy of the parsed rows from a CSV file (limit)', seconds: f.copy_s.toFixed(2), throughput: rowsPerS(f.copy_s) },
    { path: 'COPY FROM STDIN of the same file (pg-copy-streams)', seconds: f.stream_copy_s.toFixed(2), throughput: rowsPerS(f.stream_copy_s) },
  ];
  if (!Number.isNaN(f.script_s)) rows.push({ path: 'streaming script: S3 -> parse -> COPY', seconds: f.script_s.toFixed(2), throughput: rowsPerS(f.script_s) });
  if (!Number.isNaN(f.orm_rows_per_s)) rows.push({ path: 'TypeORM save() loop, sample', seconds: '', throughput: `${Math.round(f.orm_rows_per_s)} rows/s` });
  rows.push({
    path: 'ingest_notification_views, trigger -> succeeded',
    seconds: f.ingest_s.toFixed(2),
    throughput: rowsPerS(f.ingest_s),
    vs_copy: ingestVsCopy(f).toFixed(2),
    ...(Number.isNaN(f.script_s) ? {} : { vs_script: (f.script_s / f.ingest_s).toFixed(2) }),
  });
  return rows.map((r) => ({ ...r, path: `${r.path}${label}` }));
}
