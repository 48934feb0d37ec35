import {
  condition,
  defineSignal,
  ParentClosePolicy,
  proxyActivities,
  proxyLocalActivities,
  setHandler,
  startChild,
  upsertMemo,
  workflowInfo,
  type ChildWorkflowHandle,
} from '@temporalio/workflow';
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/common';
import type { PermitActivities } from '../activities/permits';
import { LOCAL_STEP_OPTIONS } from './activityOptions';
import { requireOwnWorkflowId } from './ownWorkflowId';
import { permitWorkflowId, RELEASE_PERMIT_SIGNAL, RUN_STATE_MEMO, type PermitInput, type RunStateMemo } from './permitTypes';

export const releasePermitSignal = defineSignal(RELEASE_PERMIT_SIGNAL);

// Waiting takes as long as the runs ahead take: a heartbeating activity, resumed on another worker within the
// heartbeat timeout when its worker dies, and retried without limit.
const waiting = proxyActivities<Pick<PermitActivities, 'awaitPermitSlot'>>({
  startToCloseTimeout: '1 day',
  heartbeatTimeout: '10s',
  retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '10s' },
});
const local = proxyLocalActivities<Pick<PermitActivities, 'admitRun'>>(LOCAL_STEP_OPTIONS);

/**
 * A permit of a limited job: a workflow whose ID (`permit/<queue>/<slot>`) is the slot, open while a run holds it. Its
 * holder starts it as a child with the parent-close policy TERMINATE, so the server itself ends it however the holder
 * ends (completed, failed, cancelled, timed out, terminated from the `temporal` CLI, reset), with no worker needed; a
 * holder that retries releases it for the backoff with a signal.
 */
export async function concurrencyPermit(input: PermitInput): Promise<{ releasedBy: string }> {
  requireOwnWorkflowId('a concurrency permit', 'permit/<job>[/<group>]/<slot>', (id) => /^permit\/.+\/\d+$/.test(id));
  let released = false;
  setHandler(releasePermitSignal, () => {
    released = true;
  });
  await condition(() => released);
  return { releasedBy: input.holder };
}

/** A permit this run holds. */
export interface HeldPermit {
  slot: number;
  /** Ends the permit now (before a retry's backoff); the run's own end would end it anyway. */
  release(): Promise<void>;
}

const setRunState = (state: RunStateMemo) => upsertMemo({ [RUN_STATE_MEMO]: state });

/**
 * Waits, queued, for a permit of `queue` and takes it: the waiting activity names a free slot in the run's turn, and
 * starting the permit under that slot's ID is the acquire (a start that meets a held permit waits again). Returns null
 * when the job no longer declares a limit. The run's row turns `running` only once it holds the permit, and its end
 * is written before the permit goes, so the runs `job_runs` shows running never outnumber the permits.
 */
export async function acquirePermit(job: string, queue: string): Promise<HeldPermit | null> {
  const info = workflowInfo();
  setRunState('queued');
  for (;;) {
    const { slot } = await waiting.awaitPermitSlot({ job, queue, runId: info.runId });
    if (slot === null) {
      setRunState('running');
      return null;
    }
    let permit: ChildWorkflowHandle<typeof concurrencyPermit>;
    try {
      permit = await startChild(concurrencyPermit, {
        workflowId: permitWorkflowId(queue, slot),
        args: [{ holder: info.workflowId }],
        parentClosePolicy: ParentClosePolicy.TERMINATE,
        workflowIdReusePolicy: 'ALLOW_DUPLICATE',
      });
    } catch (err) {
      if (err instanceof WorkflowExecutionAlreadyStartedError) continue;
      throw err;
    }
    await local.admitRun({ runId: info.runId, slot });
    setRunState('running');
    return {
      slot,
      async release() {
        // A permit terminated by hand has already gone: nothing to release.
        await permit.signal(releasePermitSignal).catch(() => undefined);
      },
    };
  }
}
