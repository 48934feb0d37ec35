/**
 * `npm run bench [-- --quick] [--lines N] [--objects N] [--messages N] [--mix views|half|both] [--scaling]`: each path
 * measured against its limit on this machine in the same run (a raw `psql \copy` of the same rows for the ingest and
 * the Kafka drain, a bare `client.workflow.start` interleaved with the trigger), beside what a user would write
 * instead, plus worker memory, on the local stack. Prints tables, then one JSON line with the figures and the ratios.
 * `--mix` picks the ingest's day: the bench's own (views, about 82 % of the lines views), half other events, or both
 * (the default). `--scaling` repeats the ingest comparison at 1x, 2x and 4x the lines; `--only kafka` (or any
 * comma-separated subset of ingest, kafka, registry, trigger, starts) runs just those parts.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { Client as PgClient } from 'pg';
import { buildApi } from '../workers/http/server';
import { JobsClient } from '../client/jobsClient';
import { createS3Client } from '../connections/s3';
import { sampleRss } from '../test/support/rss';
import { uniqueTag, useStackEnv } from '../test/support/stack';
import { startWorker, TEST_MODULES } from '../test/support/workerProcess';
import { openRuntime } from '../workers/runtime';
import { round3, type BenchContext, type BenchRow } from './context';
import { describeCpu, type CpuSeconds } from './cpuTime';
import { benchIngest, INGEST_MIXES, ingestTable, ingestVsCopy, SCRATCH_TABLES, type IngestFigures, type IngestMix } from './ingestPaths';
import { benchConsumer, benchKafka, KAFKA_SCRATCH_TABLES, kafkaTable } from './kafkaPaths';
import { benchRegistry, registryBenchConsumers } from './registryDecode';
import { benchSustainedStarts } from './sustainedStarts';
import { benchTrigger } from './triggerLatency';
import { compileWorkerModules } from './workerModules';

const TOKEN = 'bench-token-123';

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      quick: { type: 'boolean', default: false },
      lines: { type: 'string' },
      objects: { type: 'string' },
      messages: { type: 'string' },
      scaling: { type: 'boolean', default: false },
      only: { type: 'string' },
      mix: { type: 'string', default: 'both' },
      'starts-seconds': { type: 'string' },
    },
  });
  const PARTS = ['ingest', 'kafka', 'registry', 'trigger', 'starts'] as const;
  type Part = (typeof PARTS)[number];
  const only = (values.only ?? PARTS.join(',')).split(',');
  for (const p of only) if (!PARTS.includes(p as Part)) throw new Error(`--only takes a comma-separated subset of ${PARTS.join(', ')}; got ${p}`);
  const runs = (p: Part) => only.includes(p);
  const lines = Number(values.lines ?? (values.quick ? 200_000 : 1_000_000));
  const objects = Number(values.objects ?? 8);
  const mixNames = Object.keys(INGEST_MIXES) as IngestMix[];
  if (values.mix !== 'both' && !mixNames.includes(values.mix as IngestMix)) throw new Error(`--mix takes ${mixNames.join(', ')} or both; got ${values.mix}`);
  const mixes = values.mix === 'both' ? mixNames : [values.mix as IngestMix];
  const messages = Number(values.messages ?? (values.quick ? 50_000 : 200_000));
  for (const [k, v] of Object.entries({ lines, objects, messages })) {
    if (!Number.isInteger(v) || v < 1) throw new Error(`--${k} must be a positive integer`);
  }
  const consumer = benchConsumer();
  const registryConsumers = registryBenchConsumers();
  // Its own task queue, so a worker of the developer's (or the demo's) never takes the bench's runs.
  useStackEnv({ API_TOKEN: TOKEN, TEMPORAL_TASK_QUEUE: uniqueTag('bench'), JOBS_MODULE: TEST_MODULES.JOBS_MODULE });
  const rt = await openRuntime();
  const s3 = createS3Client(rt.env);
  const pg = new PgClient({ connectionString: rt.env.DATABASE_URL });
  await pg.connect();
  const dir = await mkdtemp(path.join(tmpdir(), 'sj-bench-'));
  const worker = await startWorker({ ...consumer.env, ...(runs('registry') ? registryConsumers.env : {}), ...(await compileWorkerModules()) });
  const workerRss = sampleRss(worker.pid);
  const app = buildApi({ client: rt.client, token: TOKEN });
  const idleApp = buildApi({ client: new JobsClient(rt.temporal, rt.ds, rt.jobs, uniqueTag('bench-idle')), token: TOKEN });
  const url = async (a: typeof app) => {
    await a.listen({ host: '127.0.0.1', port: 0 });
    return `http://127.0.0.1:${(a.server.address() as AddressInfo).port}`;
  };
  const apis = { busy: await url(app), idle: await url(idleApp) };
  const ctx: BenchContext = { rt, s3, bucket: rt.env.S3_BUCKET, pg, worker, dir };
  try {
    const ormSample = values.quick ? 500 : 2000;
    const ingests: IngestFigures[] = [];
    for (const mix of runs('ingest') ? mixes : []) ingests.push(await benchIngest(ctx, { lines, objects, ormSample: ingests.length === 0 ? ormSample : 0, alternatives: true, mix }));
    const ingest = ingests[0];
    // Every ingest size before the Kafka part, so each ingest peak is the worker's own for that size.
    const scaling: IngestFigures[] = ingest ? [ingest] : [];
    if (ingest && values.scaling) {
      for (const m of [2, 4]) scaling.push(await benchIngest(ctx, { lines: lines * m, objects: objects * m, ormSample: 0, alternatives: true, mix: ingest.mix }));
    }
    const afterIngest = workerRss.peakMiB();
    const kafka = runs('kafka') ? await benchKafka(ctx, consumer, messages) : undefined;
    const registry = runs('registry') ? await benchRegistry(ctx, registryConsumers.drains, messages) : undefined;
    const afterKafka = workerRss.peakMiB();
    const trigger = runs('trigger') ? await benchTrigger(apis, TOKEN, values.quick ? 50 : 200, rt) : undefined;
    const startsSeconds = Number(values['starts-seconds'] ?? (values.quick ? 20 : 60));
    const starts = runs('starts') ? await benchSustainedStarts(apis.busy, TOKEN, { seconds: startsSeconds, concurrency: 8 }, rt) : undefined;
    // Which Temporal the figures come from: the dev server (SQLite, 1 shard) or the server (`stack up --temporal server`).
    const cluster = await rt.temporal.connection.workflowService.getClusterInfo({});
    const workerPeak = workerRss.stop();

    const table: BenchRow[] = [...ingests.flatMap(ingestTable), ...(kafka ? kafkaTable(kafka) : []), ...(registry?.rows ?? [])];
    if (table.length > 0) console.table(table);
    console.log(
      [
        ...ingests.map(
          (f) =>
            `${f.mix} day: ${f.objects} objects, ${f.lines} lines, ${f.mib.toFixed(1)} MiB, ${f.rows} rows; notification_views and the COPY table both start with ${f.views_table_rows_before} rows; ingest ${ingestVsCopy(f).toFixed(2)}x the COPY`,
        ),
        kafka &&
          `kafka: ${kafka.messages} messages, ${kafka.kafka_rows} rows: drain ${(kafka.kafka_copy_s / kafka.kafka_ingest_s).toFixed(2)}x the COPY; resume to first applied range ${(kafka.kafka_first_apply_s * 1000).toFixed(0)} ms`,
        registry &&
          `registry: Confluent + registry vs avro-raw on the same ${registry.figures.messages} messages, A B B A twice: ${registry.figures.registry_confluent_vs_raw.toFixed(3)} by the clock, ${registry.figures.registry_confluent_vs_raw_worker_cpu.toFixed(3)} by the worker's CPU (1 = as fast; others took ${registry.figures.registry_others_cpu_s.toFixed(0)} CPU s meanwhile)`,
        trigger &&
          `trigger p50 ${trigger.trigger_p50_ms.toFixed(1)} ms p99 ${trigger.trigger_p99_ms.toFixed(1)} ms against a bare start interleaved p50 ${trigger.bare_start_p50_ms.toFixed(1)} ms p99 ${trigger.bare_start_p99_ms.toFixed(1)} ms (+${(trigger.trigger_p50_ms - trigger.bare_start_p50_ms).toFixed(1)} ms at the median) (idle queue: p50 ${trigger.trigger_idle_p50_ms.toFixed(1)} p99 ${trigger.trigger_idle_p99_ms.toFixed(1)}) | conflict p50 ${trigger.conflict_p50_ms.toFixed(1)} ms p99 ${trigger.conflict_p99_ms.toFixed(1)} ms`,
        starts &&
          `sustained starts (8 callers, ${startsSeconds} s): ${starts.starts_per_s.toFixed(1)}/s, p50 ${starts.starts_p50_ms.toFixed(1)} ms p99 ${starts.starts_p99_ms.toFixed(1)} ms, ${starts.starts_finished_in_window} of ${starts.starts_total} runs finished in the window, the rest ${starts.starts_drain_s.toFixed(1)} s later`,
        `Temporal ${cluster.serverVersion} on ${cluster.persistenceStore}, ${cluster.historyShardCount} shard(s)`,
        `worker peak RSS ${afterIngest.toFixed(0)} MiB through ingest, ${afterKafka.toFixed(0)} MiB through Kafka, ${workerPeak.toFixed(0)} MiB overall`,
      ]
        .filter(Boolean)
        .join(' | '),
    );
    for (const f of ingests) {
      console.log(`CPU over the psql COPY (${f.mix} day): ${describeCpu(f.copy_cpu)}`);
      console.log(`CPU over the ingest (${f.mix} day): ${describeCpu(f.ingest_cpu)}`);
    }
    if (values.scaling) {
      console.table(
        scaling.map((f, i) => ({
          data: `${2 ** i}x`,
          lines: f.lines,
          rows: f.rows,
          'ingest s': f.ingest_s.toFixed(2),
          'ingest rows/s': Math.round(f.rows / f.ingest_s),
          'vs COPY': (f.copy_s / f.ingest_s).toFixed(2),
          'vs script': (f.script_s / f.ingest_s).toFixed(2),
          'worker peak RSS MiB': f.ingest_worker_peak_rss_mib.toFixed(0),
          'rows in table before': f.views_table_rows_before,
        })),
      );
    }
    const cpuFields = (prefix: string, c: CpuSeconds) => Object.fromEntries(Object.entries(c).map(([k, v]) => [`${prefix}_${k}_s`, v]));
    // The bench's own day keeps the names earlier runs used; another mix's figures are prefixed with its name.
    const ingestFields = (f: IngestFigures): Record<string, number> => {
      const { mix, copy_cpu, ingest_cpu, ...rest } = f;
      const p = mix === 'views' ? '' : `${mix}_`;
      return Object.fromEntries(
        Object.entries({
          ...rest,
          ...cpuFields('copy_cpu', copy_cpu),
          ...cpuFields('ingest_cpu', ingest_cpu),
          ingest_rows_per_s: Math.round(f.rows / f.ingest_s),
          ingest_lines_per_s: Math.round(f.lines / f.ingest_s),
          copy_rows_per_s: Math.round(f.rows / f.copy_s),
          parse_only_lines_per_s: Math.round(f.lines / f.parse_only_s),
          ingest_vs_copy: ingestVsCopy(f),
          ingest_vs_script: f.script_s / f.ingest_s,
        })
          .filter(([, v]) => !Number.isNaN(v))
          .map(([k, v]) => [`${p}${k}`, v]),
      );
    };
    const figures: Record<string, number> = {
      ...Object.assign({}, ...ingests.map(ingestFields)),
      ...kafka,
      ...registry?.figures,
      ...trigger,
      ...starts,
      temporal_history_shards: cluster.historyShardCount ?? 0,
      worker_peak_rss_through_ingest_mib: afterIngest,
      worker_peak_rss_through_kafka_mib: afterKafka,
      worker_peak_rss_mib: workerPeak,
    };
    console.log(
      JSON.stringify({
        ...Object.fromEntries(Object.entries(figures).map(([k, v]) => [k, round3(v)])),
        ...(kafka
          ? {
              kafka_msgs_per_s: Math.round(kafka.messages / kafka.kafka_ingest_s),
              kafka_rows_per_s: Math.round(kafka.kafka_rows / kafka.kafka_ingest_s),
              kafka_copy_rows_per_s: Math.round(kafka.kafka_rows / kafka.kafka_copy_s),
              kafka_vs_copy: round3(kafka.kafka_copy_s / kafka.kafka_ingest_s),
              kafka_vs_raw: round3(kafka.kafka_raw_s / kafka.kafka_ingest_s),
              kafka_vs_sink: round3(kafka.kafka_sink_s / kafka.kafka_ingest_s),
            }
          : {}),
        ...(values.scaling ? { scaling_rows_per_s: scaling.map((f) => Math.round(f.rows / f.ingest_s)) } : {}),
      }),
    );
  } finally {
    for (const t of [...SCRATCH_TABLES, ...KAFKA_SCRATCH_TABLES]) await pg.query(`DROP TABLE IF EXISTS ${t}`);
    await pg.end();
    await app.close();
    await idleApp.close();
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
