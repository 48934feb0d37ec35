import { ApplicationFailure, executeChild, proxyActivities, workflowInfo } from '@temporalio/workflow';
import type { NotificationIngestActivities } from './activities';
import { activityOptions } from '../../workflows/activityOptions';
import { forEachBounded } from '../../workflows/concurrency';
import type { ArgsOf } from '../../jobs/definition';
import type { JobHandler } from '../../workflows/jobHandler';
import type { ingestNotificationViews as IngestNotificationViewsJob, replayIngestRejects as ReplayIngestRejectsJob } from './jobs';
import type { RejectReplayActivities } from './replayRejects';
import type { ActivityPolicy } from '../../workflows/types';

export interface ObjectBatchInput {
  day: string;
  chainId: string;
  runId: string;
  batch: number;
  parallelism: number;
  policy: ActivityPolicy;
}

/**
 * Waits for the upstream, plans the day's objects, ingests them in batches of child workflows (so a day of any size
 * stays far inside one history's limits), then totals the run from the checkpoints.
 */
export const ingestNotificationViews: JobHandler<ArgsOf<typeof IngestNotificationViewsJob>> = async (args, ctx) => {
  const info = workflowInfo();
  // Runs started before `batchSize` had its default in the definition carry none.
  const { day, batchSize = 100 } = args;
  const started = Date.now();
  // One checkpoint set per run chain: whole-job retries resume it, a new trigger of the day starts over.
  const chainId = info.firstExecutionRunId;
  const acts = proxyActivities<NotificationIngestActivities>(activityOptions(ctx.policy));

  ctx.progress('waiting for upstream', {});
  await acts.checkDayReady({ day });
  const plan = await acts.planDay({ day, chainId, batchSize });
  // The planning worker's suggestion (from its cores and pool); 4 for a plan recorded before it made one.
  const parallelism = args.parallelism ?? plan.parallelism ?? 4;
  let batchesDone = 0;
  ctx.progress('ingesting', { objects: plan.objects, bytes: plan.bytes, batches: plan.batches, batchesDone });

  const batches = Array.from({ length: plan.batches }, (_, i) => i);
  // Two batches at once keeps up to 2 × parallelism objects in flight without letting one batch's tail idle workers.
  await forEachBounded(batches, 2, async (batch) => {
    await executeChild(ingestObjectBatch, {
      workflowId: `${info.workflowId}/attempt-${info.attempt}/batch-${batch}`,
      args: [{ day, chainId, runId: info.runId, batch, parallelism, policy: ctx.policy }],
    });
    batchesDone++;
    ctx.progress('ingesting', { objects: plan.objects, bytes: plan.bytes, batches: plan.batches, batchesDone });
  });

  const totals = await acts.summarizeDay({ day, chainId });
  if (totals.objectsPending > 0) {
    throw ApplicationFailure.retryable(`${totals.objectsPending} objects of ${day} are not finished`, 'IngestIncomplete');
  }
  const { objectsPending: _pending, ...metrics } = totals;
  return { ...metrics, durationMs: Date.now() - started };
};

/** One batch of a day's objects, `parallelism` objects at a time, each a resumable heartbeating activity. */
export async function ingestObjectBatch(input: ObjectBatchInput): Promise<number> {
  const acts = proxyActivities<NotificationIngestActivities>(activityOptions(input.policy));
  const keys = await acts.pendingObjects({ day: input.day, chainId: input.chainId, batch: input.batch });
  await forEachBounded(keys, input.parallelism, (key) =>
    acts.ingestObject({ day: input.day, chainId: input.chainId, key, runId: input.runId }),
  );
  return keys.length;
}

/** Re-parses one day's quarantined lines with the parser this worker runs now. */
export const replayIngestRejects: JobHandler<ArgsOf<typeof ReplayIngestRejectsJob>> = async (args, ctx) => {
  const acts = proxyActivities<RejectReplayActivities>(activityOptions(ctx.policy));
  ctx.progress('replaying', {});
  const totals = await acts.replayIngestRejects({
    day: args.day,
    ...(args.reason !== undefined ? { reason: args.reason } : {}),
    batchSize: args.batchSize,
  });
  return { ...totals };
};
