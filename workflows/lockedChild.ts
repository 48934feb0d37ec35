import { ParentClosePolicy, proxyActivities, proxyLocalActivities, startChild, type ChildWorkflowHandle } from '@temporalio/workflow';
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/common';
import type { LockActivities } from '../activities/locks';
import { LOCAL_STEP_OPTIONS } from './activityOptions';
import { scheduledJob } from './scheduledJob';
import type { JobArgs } from './types';

const lock = proxyLocalActivities<Pick<LockActivities, 'lockHolder'>>(LOCAL_STEP_OPTIONS);
// Waiting for another starter's run takes as long as that run: a heartbeating activity, resumed on any worker.
const waiting = proxyActivities<Pick<LockActivities, 'awaitRunEnd'>>({
  startToCloseTimeout: '1 day',
  heartbeatTimeout: '30s',
  retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '1m' },
});

/** Starts that meet a lock whose holder has just ended before giving up (the lock changing hands that often). */
const MAX_START_TRIES = 3;

export type LockedStart =
  | { started: ChildWorkflowHandle<typeof scheduledJob> }
  /** A run holds the lock: the first run ID of its chain. */
  | { heldBy: string }
  | { unsettled: string };

/**
 * Starts one run of `job` as a child under its lock `workflowId`, abandoned when this workflow closes, or names the
 * run that holds the lock. The start is a command in this workflow's history, so however often a worker dies it
 * starts at most one run, where an activity calling the client could start one, die before reporting it, and meet
 * its own run as the holder on its retry.
 */
export async function startUnderLock(job: string, workflowId: string, args: JobArgs): Promise<LockedStart> {
  for (let tries = 1; ; tries++) {
    try {
      return {
        started: await startChild(scheduledJob, {
          workflowId,
          args: [{ job, args }],
          parentClosePolicy: ParentClosePolicy.ABANDON,
          workflowIdReusePolicy: 'ALLOW_DUPLICATE',
        }),
      };
    } catch (err) {
      if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
    }
    const holder = await lock.lockHolder({ workflowId });
    if (holder.running && holder.runId) return { heldBy: holder.runId };
    // It ended between our start and our look: try again.
    if (tries >= MAX_START_TRIES) return { unsettled: `the lock ${workflowId} changed hands ${tries} times while starting` };
  }
}

/** Waits for the run chain `runId` of `job` (another starter's) to end; returns how it ended. */
export function awaitRunEnd(job: string, runId: string): Promise<{ status: string; attempt: number; error: string | null }> {
  return waiting.awaitRunEnd({ job, runId });
}
