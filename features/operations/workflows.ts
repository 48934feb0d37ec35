import { patched, proxyActivities } from '@temporalio/workflow';
import type { DeadLetterReplayActivities } from './deadLetterReplay';
import type { RetentionActivities, RetentionTable } from './retention';
import { activityOptions } from '../../workflows/activityOptions';
import type { ArgsOf } from '../../jobs/definition';
import type { JobHandler } from '../../workflows/jobHandler';
import type { replayDeadLetters as ReplayDeadLettersJob, retention as RetentionJob } from './jobs';

type RetentionArgs = ArgsOf<typeof RetentionJob>;

/** The job arguments that hold each table's keepDays. */
const KEEP_DAYS_ARG: Record<RetentionTable, keyof RetentionArgs> = {
  job_runs: 'jobRunsKeepDays',
  ingest_rejects: 'ingestRejectsKeepDays',
  kafka_dead_letters: 'deadLettersKeepDays',
  ingest_objects: 'ingestObjectsKeepDays',
  schedule_ticks: 'scheduleTicksKeepDays',
};

const METRIC: Record<RetentionTable, string> = {
  job_runs: 'jobRunsDeleted',
  ingest_rejects: 'ingestRejectsDeleted',
  kafka_dead_letters: 'deadLettersDeleted',
  ingest_objects: 'ingestObjectsDeleted',
  schedule_ticks: 'scheduleTicksDeleted',
};

/** Prunes each table in turn, in batches; the metrics say how many rows each lost. */
export const retention: JobHandler<RetentionArgs> = async (args, ctx) => {
  const { applyRetention } = proxyActivities<RetentionActivities>(activityOptions(ctx.policy));
  const metrics: Record<string, number> = {};
  for (const table of Object.keys(KEEP_DAYS_ARG) as RetentionTable[]) {
    // A run begun before schedule_ticks was pruned goes on without it; its default reaches runs begun after.
    if (table === 'schedule_ticks' && (args.scheduleTicksKeepDays === undefined || !patched('retention-schedule-ticks'))) continue;
    ctx.progress(`pruning ${table}`, metrics);
    metrics[METRIC[table]] = await applyRetention({ table, keepDays: args[KEEP_DAYS_ARG[table]], batchSize: args.batchSize });
  }
  return metrics;
};

export const replayDeadLetters: JobHandler<ArgsOf<typeof ReplayDeadLettersJob>> = async (args, ctx) => {
  const acts = proxyActivities<DeadLetterReplayActivities>(activityOptions(ctx.policy));
  ctx.progress('replaying', {});
  const totals = await acts.replayDeadLetters({
    consumer: args.consumer,
    ...(args.topic !== undefined ? { topic: args.topic } : {}),
    ...(args.reason !== undefined ? { reason: args.reason } : {}),
    ...(args.reasonClass !== undefined ? { reasonClass: args.reasonClass } : {}),
    batchSize: args.batchSize,
  });
  return { ...totals };
};
