// The concurrency permits' shared shapes and names: pure, so the worker, the clients and workflow code agree on them.

/** The queue runs of a limited job wait in: `<job>`, or `<job>/<group values>` for a limit per group. */
export function permitQueueOf(job: string, groupValues: readonly string[]): string {
  return [job, ...groupValues].join('/');
}

/**
 * A permit is a workflow under this ID (`permit/<queue>/<slot>`, slots 0 to limit - 1): starting it is the atomic
 * acquire, as starting a job under its lock ID is, and the server refuses a second start while one runs.
 */
export function permitWorkflowId(queue: string, slot: number): string {
  return `permit/${queue}/${slot}`;
}

export interface PermitInput {
  /** The run holding it (its workflow ID), for whoever looks at the permit in the Web UI. */
  holder: string;
}

/** Sent by the holder when its attempt has ended: the permit workflow then completes and the slot is free. */
export const RELEASE_PERMIT_SIGNAL = 'release';

/** The memo key a limited run keeps its state under (`queued`, then `running`), for starters that only see Temporal. */
export const RUN_STATE_MEMO = 'runState';
export type RunStateMemo = 'queued' | 'running';

/** What the waiting activity hands back: the free slot to take, or null when the job no longer declares a limit. */
export interface PermitSlot {
  slot: number | null;
}
