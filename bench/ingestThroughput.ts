/**
 * End-to-end ingest throughput against the floor of what Postgres can take: a raw `COPY` of the same rows into a
 * table of the same shape, measured in the same run on the same machine.
 *
 *   eval "$(bash stack/stack.sh env)"; node --import tsx bench/ingestThroughput.ts [--objects 8] [--lines 50000]
 */
import { parseArgs } from 'node:util';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { gunzipSync } from 'node:zlib';
import { from as copyFrom } from 'pg-copy-streams';
import { Client as PgClient } from 'pg';
import { freshDay } from '../test/support/days';
import { useStackEnv } from '../test/support/stack';
import { startWorker } from '../test/support/workerProcess';
import { createS3Client } from '../connections/s3';
import { readLineChunks } from '../domain/lineReader';
import { parseChunk, type NotificationView } from '../domain/notificationViews';
import { generateDay } from '../scripts/generate-day';
import { uploadGeneratedFiles } from '../scripts/upload-day';
import { openRuntime } from '../workers/runtime';

async function viewsOf(files: { key: string; gzip: boolean; body?: Buffer }[], day: string): Promise<NotificationView[]> {
  const seen = new Map<string, NotificationView>();
  for (const f of files) {
    if (!f.body || f.key.endsWith('_SUCCESS') || !/\.jsonl(\.gz)?$/.test(f.key)) continue;
    const bytes = f.gzip ? gunzipSync(f.body) : f.body;
    for await (const lines of readLineChunks(Readable.from([bytes]))) {
      for (const v of parseChunk(lines, day).views) if (!seen.has(v.eventId)) seen.set(v.eventId, v);
    }
  }
  return [...seen.values()];
}

async function copyBaseline(databaseUrl: string, views: NotificationView[]): Promise<number> {
  const pg = new PgClient({ connectionString: databaseUrl });
  await pg.connect();
  try {
    await pg.query(`DROP TABLE IF EXISTS bench_copy_views`);
    // Same columns, primary key and indexes as the real table, so the baseline pays the same index upkeep.
    await pg.query(`CREATE TABLE bench_copy_views (LIKE notification_views INCLUDING ALL)`);
    const csv = views.map((v) => `${v.eventId}\t${v.notificationId}\t${v.userId}\t${v.platform}\t${v.viewedAt.toISOString()}\t${v.day}\n`);
    const started = process.hrtime.bigint();
    await pipeline(Readable.from(csv), pg.query(copyFrom(`COPY bench_copy_views FROM STDIN`)));
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    await pg.query(`DROP TABLE bench_copy_views`);
    return seconds;
  } finally {
    await pg.end();
  }
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { objects: { type: 'string', default: '8' }, lines: { type: 'string', default: '50000' } } });
  useStackEnv();
  const rt = await openRuntime();
  const s3 = createS3Client(rt.env);
  const worker = await startWorker();
  try {
    const day = freshDay();
    const generated = await generateDay({ day, objects: Number(values.objects), linesPerObject: Number(values.lines), gzipFraction: 0.25, seed: 1 });
    await uploadGeneratedFiles(s3, rt.env.S3_BUCKET, generated.files);
    const views = await viewsOf(generated.files, day);
    const copySeconds = await copyBaseline(rt.env.DATABASE_URL, views);

    const started = Date.now();
    const run = await rt.client.trigger('ingest_notification_views', { day });
    const view = await rt.client.waitFor('ingest_notification_views', run.runId, undefined, 200);
    const ingestSeconds = (Date.now() - started) / 1000;
    if (view.status !== 'succeeded') throw new Error(`ingest ${view.status}: ${view.error}`);

    const e = generated.expected;
    console.log(`day: ${e.objects} objects, ${e.lines} lines, ${(e.bytes / 1024 ** 2).toFixed(1)} MiB, ${e.views} distinct views`);
    console.log(`raw COPY of the ${views.length} rows:        ${copySeconds.toFixed(2)} s  (${Math.round(views.length / copySeconds)} rows/s)`);
    console.log(`ingest job, trigger to succeeded:    ${ingestSeconds.toFixed(2)} s  (${Math.round(e.views / ingestSeconds)} rows/s, ${Math.round(e.lines / ingestSeconds)} lines/s)`);
    console.log(`ratio ingest / COPY: ${(ingestSeconds / copySeconds).toFixed(2)}x`);
  } finally {
    await worker.stop();
    s3.destroy();
    await rt.close();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
