// The schedule ticks' shared shapes and names: pure, so the worker, the clients and workflow code agree on them.
import type { JobArgs } from './types';

/** A job's declared Temporal Schedule. */
export function scheduleIdOf(job: string): string {
  return `schedule/${job}`;
}

/** The ID a job's schedule gives its tick workflows; Temporal appends each tick's nominal time (`-2026-05-01T11:00:00Z`). */
export function tickWorkflowIdOf(job: string): string {
  return `tick/${job}`;
}

/** Marks the schedules the workers created (a memo on the schedule), so they never touch anyone else's. */
export const SCHEDULE_MEMO_KEY = 'scheduledJob';
export interface ScheduleMemo {
  job: string;
}

export interface ScheduleTickInput {
  job: string;
}

/**
 * What a tick does, as the workers' definitions say at the moment it fires; `alertOnSkip` when the job's alerts include
 * `tick_skipped` (absent in older histories).
 */
export type TickPlan = (
  | { run: true; workflowId: string; args: JobArgs; partitionKey: string | null; overlap: 'skip' | 'buffer_one' }
  | { run: false; reason: string }
) & { alertOnSkip?: boolean };

export interface TickResult {
  outcome: 'started' | 'skipped';
  reason: string | null;
  partitionKey: string | null;
  workflowId: string | null;
  /** The run the tick started, or the one that held the lock. */
  runId: string | null;
}

/** The run holding a lock, when one does: the first run ID of its chain (what `status` takes). */
export interface LockHolder {
  running: boolean;
  runId: string | null;
}

/** A tick started by hand (without a schedule's scheduled time) cannot know its partition. */
export const NOT_SCHEDULED = 'NotScheduled';
