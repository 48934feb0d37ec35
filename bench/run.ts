/**
 * `npm run bench [-- --quick] [--lines N] [--objects N]`: the ingest measured side by side with the limits of this
 * machine and with what a user would write instead, all in one run on the local stack. Prints a table, then one
 * JSON line with the figures and ratios.
 */
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { parseArgs } from 'node:util';
import { createGunzip } from 'node:zlib';
import { GetObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { Client as PgClient } from 'pg';
import { DataSource, EntitySchema } from 'typeorm';
import { from as copyFrom } from 'pg-copy-streams';
import { freshDay } from '../test/support/days';
import { sampleRss } from '../test/support/rss';
import { uniqueTag, useStackEnv } from '../test/support/stack';
import { startWorker } from '../test/support/workerProcess';
import { buildApi } from '../client/httpApi';
import { createS3Client } from '../connections/s3';
import { readLineChunks } from '../domain/lineReader';
import { parseChunk, type NotificationView } from '../domain/notificationViews';
import { generateDay, type GeneratedFile } from '../scripts/generate-day';
import { uploadGeneratedFiles } from '../scripts/upload-day';
import { openRuntime, type Runtime } from '../workers/runtime';

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

const seconds = (since: bigint) => Number(process.hrtime.bigint() - since) / 1e9;
const tsv = (v: NotificationView) => `${v.eventId}\t${v.notificationId}\t${v.userId}\t${v.platform}\t${v.viewedAt.toISOString()}\t${v.day}\n`;

async function objectStream(s3: S3Client, bucket: string, f: GeneratedFile): Promise<Readable> {
  const body = (await s3.send(new GetObjectCommand({ Bucket: bucket, Key: f.key }))).Body as Readable;
  return f.gzip ? body.pipe(createGunzip()) : body;
}

/** Fresh table with the real one's columns, key and indexes, so every path pays the same index upkeep. */
async function scratchTable(pg: PgClient, name: string): Promise<void> {
  await pg.query(`DROP TABLE IF EXISTS ${name}`);
  await pg.query(`CREATE TABLE ${name} (LIKE notification_views INCLUDING ALL)`);
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { quick: { type: 'boolean', default: false }, lines: { type: 'string' }, objects: { type: 'string' } },
  });
  const lines = Number(values.lines ?? (values.quick ? 200_000 : 1_000_000));
  const objects = Number(values.objects ?? 8);
  useStackEnv({ API_TOKEN: 'bench-token-123' });
  const rt: Runtime = await openRuntime();
  const s3 = createS3Client(rt.env);
  const bucket = rt.env.S3_BUCKET;
  const pg = new PgClient({ connectionString: rt.env.DATABASE_URL });
  await pg.connect();
  const dir = await mkdtemp(join(tmpdir(), 'sj-bench-'));
  const worker = await startWorker();
  const app = buildApi({ client: rt.client, token: 'bench-token-123' });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const api = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
  const results: Record<string, number> = {};
  try {
    const day = freshDay();
    const gen = await generateDay({ day, objects, linesPerObject: Math.ceil(lines / objects), gzipFraction: 0.25, seed: 1 });
    await uploadGeneratedFiles(s3, bucket, gen.files);
    const logs = gen.files.filter((f) => f.role === 'log');
    const e = gen.expected;

    // The limit, part 1: the S3 server's raw read speed for the same objects.
    let t = process.hrtime.bigint();
    let bytes = 0;
    for (const f of logs) for await (const b of await objectStream(s3, bucket, f)) bytes += (b as Buffer).length;
    results['s3_read_s'] = seconds(t);

    // The limit, part 2: COPY of the same parsed rows from a local file.
    const views = new Map<string, NotificationView>();
    for (const f of logs) {
      for await (const chunk of readLineChunks(await objectStream(s3, bucket, f))) {
        for (const v of parseChunk(chunk, day).views) if (!views.has(v.eventId)) views.set(v.eventId, v);
      }
    }
    const file = join(dir, 'rows.tsv');
    await pipeline(Readable.from([...views.values()].map(tsv)), createWriteStream(file));
    await scratchTable(pg, 'bench_copy_views');
    t = process.hrtime.bigint();
    await pipeline(createReadStream(file), pg.query(copyFrom(`COPY bench_copy_views FROM STDIN`)));
    results['copy_s'] = seconds(t);

    // What a user would write instead (a): a streaming script, GetObject -> lines -> parse -> COPY, deduplicated
    // through a staging table because upstream repeats events.
    await scratchTable(pg, 'bench_script_views');
    t = process.hrtime.bigint();
    for (const f of logs) {
      await pg.query('BEGIN');
      await pg.query(`CREATE TEMP TABLE stage (LIKE notification_views) ON COMMIT DROP`);
      const rows = Readable.from(
        (async function* () {
          for await (const chunk of readLineChunks(await objectStream(s3, bucket, f))) {
            yield parseChunk(chunk, day).views.map(tsv).join('');
          }
        })(),
      );
      await pipeline(rows, pg.query(copyFrom(`COPY stage FROM STDIN`)));
      await pg.query(`INSERT INTO bench_script_views SELECT * FROM stage ON CONFLICT (event_id) DO NOTHING`);
      await pg.query('COMMIT');
    }
    results['script_s'] = seconds(t);

    // What a user would write instead (b): a TypeORM save() loop, on a sample.
    const sample = [...views.values()].slice(0, values.quick ? 500 : 2000);
    await scratchTable(pg, 'bench_orm_views');
    const ormDs = await new DataSource({ type: 'postgres', url: rt.env.DATABASE_URL, entities: [BenchView] }).initialize();
    t = process.hrtime.bigint();
    for (const v of sample) await ormDs.getRepository(BenchView).save({ ...v });
    results['orm_rows_per_s'] = sample.length / seconds(t);
    await ormDs.destroy();

    // The product: the ingest job end to end, trigger to succeeded, with the worker's memory watched.
    const rss = sampleRss(worker.pid);
    t = process.hrtime.bigint();
    const run = await rt.client.trigger('ingest_notification_views', { day });
    const done = await rt.client.waitFor('ingest_notification_views', run.runId, undefined, 100);
    results['ingest_s'] = seconds(t);
    results['worker_peak_rss_mib'] = rss.stop();
    if (done.status !== 'succeeded' || done.metrics['rowsWritten'] !== e.views) throw new Error(`ingest ${done.status}: ${done.error}`);

    // Trigger latency (POST -> 202 running) and lock-conflict latency (POST -> 409), over real HTTP.
    const post = async (args: object) => {
      const s = process.hrtime.bigint();
      const res = await fetch(`${api}/jobs/example_flaky/runs`, {
        method: 'POST',
        headers: { authorization: 'Bearer bench-token-123', 'content-type': 'application/json' },
        body: JSON.stringify({ args }),
      });
      await res.arrayBuffer();
      return { ms: seconds(s) * 1000, status: res.status };
    };
    const n = values.quick ? 50 : 200;
    const starts: number[] = [];
    for (let i = 0; i < n; i++) starts.push((await post({ failAttempts: 0, tag: uniqueTag('bench') })).ms);
    const held = uniqueTag('bench-held');
    await post({ failAttempts: 0, tag: held });
    const conflicts: number[] = [];
    for (let i = 0; i < n; i++) {
      const r = await post({ failAttempts: 0, tag: held });
      if (r.status === 409) conflicts.push(r.ms);
    }
    const pct = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))]!;
    Object.assign(results, {
      trigger_p50_ms: pct(starts, 50),
      trigger_p99_ms: pct(starts, 99),
      conflict_p50_ms: conflicts.length ? pct(conflicts, 50) : NaN,
      conflict_p99_ms: conflicts.length ? pct(conflicts, 99) : NaN,
    });

    const rowsPerS = (s: number) => Math.round(e.views / s);
    console.table([
      { path: 'S3 raw read of the objects', seconds: results['s3_read_s']!.toFixed(2), throughput: `${(bytes / 1024 ** 2 / results['s3_read_s']!).toFixed(1)} MiB/s` },
      { path: 'COPY of the parsed rows from a file (limit)', seconds: results['copy_s']!.toFixed(2), throughput: `${rowsPerS(results['copy_s']!)} rows/s` },
      { path: 'streaming script: S3 -> parse -> COPY', seconds: results['script_s']!.toFixed(2), throughput: `${rowsPerS(results['script_s']!)} rows/s` },
      { path: 'TypeORM save() loop, sample', seconds: '', throughput: `${Math.round(results['orm_rows_per_s']!)} rows/s` },
      { path: 'ingest_notification_views, trigger -> succeeded', seconds: results['ingest_s']!.toFixed(2), throughput: `${rowsPerS(results['ingest_s']!)} rows/s` },
    ]);
    console.log(
      `day: ${e.objects} objects, ${e.lines} lines, ${(e.bytes / 1024 ** 2).toFixed(1)} MiB, ${e.views} rows | trigger p50 ${results['trigger_p50_ms']!.toFixed(1)} ms p99 ${results['trigger_p99_ms']!.toFixed(1)} ms | conflict p50 ${results['conflict_p50_ms']!.toFixed(1)} ms p99 ${results['conflict_p99_ms']!.toFixed(1)} ms | worker peak RSS ${results['worker_peak_rss_mib']!.toFixed(0)} MiB`,
    );
    console.log(
      JSON.stringify({
        lines: e.lines,
        rows: e.views,
        objects: e.objects,
        ...Object.fromEntries(Object.entries(results).map(([k, v]) => [k, Math.round(v * 1000) / 1000])),
        ingest_rows_per_s: rowsPerS(results['ingest_s']!),
        ingest_vs_copy: Math.round((results['copy_s']! / results['ingest_s']!) * 1000) / 1000,
        ingest_vs_script: Math.round((results['script_s']! / results['ingest_s']!) * 1000) / 1000,
      }),
    );
  } finally {
    for (const t of ['bench_copy_views', 'bench_script_views', 'bench_orm_views']) await pg.query(`DROP TABLE IF EXISTS ${t}`);
    await pg.end();
    await app.close();
    await worker.stop();
    s3.destroy();
    await rt.close();
    await rm(dir, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
