import { Context } from '@temporalio/activity';
import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import { TERMINAL_STATUSES } from '../db/jobRuns';
import type { JobsClient } from '../client/jobsClient';
import { RunNotFoundError } from '../client/runViews';
import { heartbeatOrStop } from './heartbeat';
import type { LockHolder } from '../workflows/tickTypes';

const POLL_MS = 3_000;

/** Looking at a job's lock from workflow code that must not start a second run under it (ticks, backfills). */
export function createLockActivities(temporal: Client, client: JobsClient) {
  return {
    /** The run holding `workflowId` now, if any (a local activity: one describe). */
    async lockHolder(input: { workflowId: string }): Promise<LockHolder> {
      try {
        const d = await temporal.workflow.getHandle(input.workflowId).describe();
        return { running: d.status.name === 'RUNNING', runId: d.raw.workflowExecutionInfo?.firstRunId || d.runId };
      } catch (err) {
        if (err instanceof WorkflowNotFoundError) return { running: false, runId: null };
        throw err;
      }
    },

    /**
     * Waits until the run chain `runId` of `job` has ended (whole-job retries included) and returns how it ended, as
     * `status` reports it. Heartbeats while it waits, so a cancel reaches it and another worker takes over if this
     * one dies.
     */
    async awaitRunEnd(input: { job: string; runId: string }): Promise<{ status: string; attempt: number; error: string | null }> {
      for (;;) {
        try {
          const view = await client.status(input.job, input.runId);
          if (TERMINAL_STATUSES.includes(view.status)) return { status: view.status, attempt: view.attempt, error: view.error };
          heartbeatOrStop({ status: view.status, attempt: view.attempt });
        } catch (err) {
          // A run started outside the client has no row until its first step writes one.
          if (!(err instanceof RunNotFoundError)) throw err;
          heartbeatOrStop({ status: 'not yet logged' });
        }
        await Context.current().sleep(POLL_MS);
      }
    },
  };
}

export type LockActivities = ReturnType<typeof createLockActivities>;
