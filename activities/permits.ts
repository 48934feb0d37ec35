import { ApplicationFailure, CancelledFailure, Context } from '@temporalio/activity';
import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import type { DataSource } from 'typeorm';
import type { JobsClient } from '../client/jobsClient';
import { isDependencyOutage } from '../connections/untilReachable';
import * as jobRuns from '../db/jobRuns';
import type { JobRegistry } from '../jobs/registry';
import { logger } from '../observability/logger';
import { permitWorkflowId, type PermitSlot } from '../workflows/permitTypes';
import { heartbeatOrStop } from './heartbeat';

/**
 * How often a run among the first `limit` in its queue looks at the permits (1 s); runs further back look less often,
 * a quarter second more per place behind, up to 5 s, so a long queue costs Postgres little.
 */
const pollMs = (ahead: number, limit: number): number => (ahead < limit ? 1_000 : Math.min(5_000, 1_000 + (ahead - limit + 1) * 250));

/** The permits of a limited job: waiting in its queue for a free slot, then recording that the run runs. */
export function createPermitActivities(deps: { ds: DataSource; temporal: Client; jobs: JobRegistry; client: JobsClient; shutdownSignal?: AbortSignal }) {
  const { ds, temporal, jobs, client, shutdownSignal } = deps;
  const stopping = new Promise<void>((resolve) => shutdownSignal?.addEventListener('abort', () => resolve(), { once: true }));
  /** The slots under `limit` whose permit workflow is open now (Temporal's describe: as current as the start). */
  const heldSlots = async (queue: string, limit: number): Promise<Set<number>> => {
    const open = await Promise.all(
      Array.from({ length: limit }, async (_, slot) => {
        try {
          return (await temporal.workflow.getHandle(permitWorkflowId(queue, slot)).describe()).status.name === 'RUNNING';
        } catch (err) {
          if (err instanceof WorkflowNotFoundError) return false;
          throw err;
        }
      }),
    );
    return new Set(open.flatMap((held, slot) => (held ? [slot] : [])));
  };

  return {
    /**
     * Waits until this queued run may take a permit, and returns the slot to take: the run `ahead` places from the
     * front of its queue takes the `ahead`-th free slot, so runs leave the queue in the order they entered it (those
     * that find slots free in the same look may start in either order). The slot is only a candidate: the workflow's
     * start of the permit is the acquire, and a start that meets a held permit comes back here. The limit is read from
     * this worker's definition, so a changed limit applies once the workers restart with it: a worker that is stopping
     * hands the wait over at once (a retryable failure, tried again on another worker) instead of waiting out its grace
     * time with the old limit. Heartbeats on every look: a cancel reaches it, and when its worker dies another takes
     * over after the heartbeat timeout.
     */
    async awaitPermitSlot(input: { job: string; queue: string; runId: string }): Promise<PermitSlot> {
      const ctx = Context.current();
      for (;;) {
        if (shutdownSignal?.aborted) throw ApplicationFailure.retryable('this worker is stopping: another one takes the wait over', 'WorkerStopping');
        const limit = jobs.has(input.job) ? jobs.get(input.job).concurrency?.limit : undefined;
        if (limit === undefined) return { slot: null };
        let ahead = 0;
        try {
          // A row that is not queued (written by an older client, or already closed by hand) waits as if at the front.
          const place = (await jobRuns.queuePlace(ds, input.queue, input.runId, limit)) ?? { ahead: 0, aboveLimit: 0 };
          ahead = place.ahead;
          heartbeatOrStop({ ahead });
          if (ahead < limit) {
            const held = await heldSlots(input.queue, limit);
            const free = Array.from({ length: limit }, (_, s) => s).filter((s) => !held.has(s));
            // Runs still holding slots above a lowered limit count against it until they end.
            if (ahead < free.length - place.aboveLimit) {
              const slot = free[ahead]!;
              // The slot's last holder ended without its code (terminated, timed out): its row still says running until
              // the reconciler looks. Close it first, so job_runs never shows more running than the limit.
              for (const row of await jobRuns.runningInSlot(ds, input.queue, slot)) await client.closeIfEnded(row);
              return { slot };
            }
          }
        } catch (err) {
          if (err instanceof CancelledFailure) throw err;
          // Postgres or Temporal away: keep the place and look again; anything else fails this try (and is retried).
          if (!isDependencyOutage(err)) throw err;
          logger.debug({ err, job: input.job }, 'cannot look at the permits now; waiting');
          heartbeatOrStop({ ahead, waiting: 'for Postgres or Temporal' });
        }
        await Promise.race([ctx.sleep(pollMs(ahead, limit)), stopping]);
      }
    },

    /** The run took permit `slot`: from now it is `running` (a local activity). */
    async admitRun(input: { runId: string; slot: number }): Promise<void> {
      await jobRuns.admitRun(ds, input.runId, input.slot);
    },
  };
}

export type PermitActivities = ReturnType<typeof createPermitActivities>;
