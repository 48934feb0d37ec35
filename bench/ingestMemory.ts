/**
 * Peak RSS of a worker while it ingests one large object: proves the ingest streams (memory does not grow with
 * object size). Generates a day with a single object of --bytes, uploads it, runs the ingest job on a fresh worker.
 *
 *   eval "$(bash stack/stack.sh env)"; node --import tsx bench/ingestMemory.ts --bytes 1073741824
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { freshDay } from '../test/support/days';
import { sampleRss } from '../test/support/rss';
import { useStackEnv } from '../test/support/stack';
import { startWorker } from '../test/support/workerProcess';
import { compileWorkerModules } from './workerModules';
import { createS3Client } from '../connections/s3';
import { generateDay } from '../scripts/generate-day';
import { uploadGeneratedFiles } from '../scripts/upload-day';
import { openRuntime } from '../workers/runtime';

export interface MemoryRun {
  bytes: number;
  lines: number;
  rowsWritten: number;
  peakRssMiB: number;
  idleRssMiB: number;
  seconds: number;
}

export async function measureIngestMemory(bytes: number): Promise<MemoryRun> {
  useStackEnv();
  const rt = await openRuntime();
  const s3 = createS3Client(rt.env);
  const dir = await mkdtemp(join(tmpdir(), 'sj-memory-'));
  const worker = await startWorker(await compileWorkerModules());
  try {
    const day = freshDay();
    const generated = await generateDay({ day, objects: 1, targetBytes: bytes, gzipFraction: 0, seed: 5, out: dir });
    await uploadGeneratedFiles(s3, rt.env.S3_BUCKET, generated.files);
    await rm(dir, { recursive: true, force: true });
    const rss = sampleRss(worker.pid);
    const idleRssMiB = rss.peakMiB();
    const started = Date.now();
    const run = await rt.client.trigger('ingest_notification_views', { day });
    const view = await rt.client.waitFor('ingest_notification_views', run.runId);
    const peakRssMiB = rss.stop();
    if (view.status !== 'succeeded') throw new Error(`ingest ${view.status}: ${view.error}`);
    return {
      bytes: generated.expected.bytes,
      lines: Number(view.metrics['linesRead']),
      rowsWritten: Number(view.metrics['rowsWritten']),
      peakRssMiB,
      idleRssMiB,
      seconds: (Date.now() - started) / 1000,
    };
  } finally {
    await worker.stop();
    s3.destroy();
    await rt.close();
    await rm(dir, { recursive: true, force: true });
  }
}

if (require.main === module) {
  const { values } = parseArgs({ options: { bytes: { type: 'string', default: String(1024 ** 3) } } });
  measureIngestMemory(Number(values.bytes))
    .then((r) => {
      console.log(
        `object ${(r.bytes / 1024 ** 2).toFixed(0)} MiB, ${r.lines} lines, ${r.rowsWritten} rows in ${r.seconds.toFixed(1)} s ` +
          `(${Math.round(r.lines / r.seconds)} lines/s); worker RSS idle ${r.idleRssMiB.toFixed(0)} MiB, peak ${r.peakRssMiB.toFixed(0)} MiB`,
      );
    })
    .catch((err: unknown) => {
      console.error(err);
      process.exit(1);
    });
}
