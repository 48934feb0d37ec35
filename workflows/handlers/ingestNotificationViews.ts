import { ApplicationFailure, executeChild, proxyActivities, workflowInfo } from '@temporalio/workflow';
import type { NotificationIngestActivities } from '../../activities/notificationIngest';
import { activityOptions } from '../activityOptions';
import { forEachBounded } from '../concurrency';
import type { JobHandler } from '../jobHandler';
import type { ActivityPolicy } from '../types';

export interface IngestBatchInput {
  day: string;
  chainId: string;
  runId: string;
  batch: number;
  parallelism: number;
  policy: ActivityPolicy;
}

/**
 * The talk's `run(conn, scheduled_at)`: wait for the upstream, plan the day's objects, ingest them in batches of
 * child workflows (so a day of any size stays far inside one history's limits), then total the run from the
 * checkpoints.
 */
export const ingestNotificationViews: JobHandler = async (args, ctx) => {
  const info = workflowInfo();
  const day = String(args['day']);
  const batchSize = Number(args['batchSize'] ?? 100);
  const started = Date.now();
  // One checkpoint set per run chain: whole-job retries resume it, a new trigger of the day starts over.
  const chainId = info.firstExecutionRunId;
  const acts = proxyActivities<NotificationIngestActivities>(activityOptions(ctx.policy));

  ctx.progress('waiting for upstream', {});
  await acts.checkDayReady({ day });
  const plan = await acts.planDay({ day, chainId, batchSize });
  // The planning worker's suggestion (from its cores and pool); 4 for a plan recorded before it made one.
  const parallelism = Number(args['parallelism'] ?? plan.parallelism ?? 4);
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
export async function ingestObjectBatch(input: IngestBatchInput): Promise<number> {
  const acts = proxyActivities<NotificationIngestActivities>(activityOptions(input.policy));
  const keys = await acts.pendingObjects({ day: input.day, chainId: input.chainId, batch: input.batch });
  await forEachBounded(keys, input.parallelism, (key) =>
    acts.ingestObject({ day: input.day, chainId: input.chainId, key, runId: input.runId }),
  );
  return keys.length;
}
