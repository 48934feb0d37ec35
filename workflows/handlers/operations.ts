import { proxyActivities } from '@temporalio/workflow';
import type { ReplayActivities } from '../../activities/replay';
import type { RetentionActivities, RetentionTable } from '../../activities/retention';
import { activityOptions } from '../activityOptions';
import type { JobHandler } from '../jobHandler';

/** The job arguments that hold each table's keepDays (jobs/operations.ts). */
const KEEP_DAYS_ARG: Record<RetentionTable, string> = {
  job_runs: 'jobRunsKeepDays',
  ingest_rejects: 'ingestRejectsKeepDays',
  kafka_dead_letters: 'deadLettersKeepDays',
  ingest_objects: 'ingestObjectsKeepDays',
};

const METRIC: Record<RetentionTable, string> = {
  job_runs: 'jobRunsDeleted',
  ingest_rejects: 'ingestRejectsDeleted',
  kafka_dead_letters: 'deadLettersDeleted',
  ingest_objects: 'ingestObjectsDeleted',
};

/** Prunes each table in turn, in batches; the metrics say how many rows each lost. */
export const retention: JobHandler = async (args, ctx) => {
  const { applyRetention } = proxyActivities<RetentionActivities>(activityOptions(ctx.policy));
  const metrics: Record<string, number> = {};
  for (const table of Object.keys(KEEP_DAYS_ARG) as RetentionTable[]) {
    ctx.progress(`pruning ${table}`, metrics);
    metrics[METRIC[table]] = await applyRetention({ table, keepDays: Number(args[KEEP_DAYS_ARG[table]]), batchSize: Number(args['batchSize']) });
  }
  return metrics;
};

export const replayIngestRejects: JobHandler = async (args, ctx) => {
  const acts = proxyActivities<ReplayActivities>(activityOptions(ctx.policy));
  ctx.progress('replaying', {});
  const totals = await acts.replayIngestRejects({
    day: String(args['day']),
    ...(args['reason'] !== undefined ? { reason: String(args['reason']) } : {}),
    batchSize: Number(args['batchSize']),
  });
  return { ...totals };
};

export const replayDeadLetters: JobHandler = async (args, ctx) => {
  const acts = proxyActivities<ReplayActivities>(activityOptions(ctx.policy));
  ctx.progress('replaying', {});
  const totals = await acts.replayDeadLetters({
    consumer: String(args['consumer']),
    ...(args['topic'] !== undefined ? { topic: String(args['topic']) } : {}),
    ...(args['reason'] !== undefined ? { reason: String(args['reason']) } : {}),
    batchSize: Number(args['batchSize']),
  });
  return { ...totals };
};
