// The durable backfill's shared shapes and names: pure, so the worker, the clients and workflow code agree on them.
import type { JobArgs, PartitionKind } from './types';

/** The backfill's workflow ID, which is also its lock: one backfill of a job's range at a time. */
export function backfillWorkflowId(job: string, from: string, to: string): string {
  return `${backfillWorkflowIdPrefix(job)}${from}/${to}`;
}

/** What every backfill workflow ID of `job` begins with. */
export function backfillWorkflowIdPrefix(job: string): string {
  return `backfill/${job}/`;
}

/** The job and range a backfill's workflow ID names, or undefined for any other ID. */
export function parseBackfillWorkflowId(workflowId: string): { job: string; from: string; to: string } | undefined {
  const m = /^backfill\/([^/]+)\/([^/]+)\/([^/]+)$/.exec(workflowId);
  return m ? { job: m[1]!, from: m[2]!, to: m[3]! } : undefined;
}

/** How operators name a backfill in commands and URLs (`2024-05-01..2024-05-31`): its range, one path segment. */
export function backfillIdOf(from: string, to: string): string {
  return `${from}..${to}`;
}

/** The range a backfill ID names, or undefined when it is not `<from>..<to>`. */
export function parseBackfillId(id: string): { from: string; to: string } | undefined {
  const m = /^([^./][^/]*)\.\.([^./][^/]*)$/.exec(id);
  return m ? { from: m[1]!, to: m[2]! } : undefined;
}

/** How a partition of a backfill ended. */
export type DayOutcome = 'skipped' | 'succeeded' | 'failed' | 'cancelled' | 'timed_out';

export interface BackfillInput {
  job: string;
  from: string;
  to: string;
  kind: PartitionKind;
  /** Partitions in flight at once. */
  concurrency: number;
  /** Run partitions that already succeeded too. */
  force: boolean;
  /** Arguments for every partition beside the partition's own. */
  extraArgs?: JobArgs;
  /** Further runs of a partition whose run failed or timed out, after the others; 0 runs each once. */
  retries: number;
  /** Partitions begun per workflow run before it continues as new, so the history stays short for any range. */
  partitionsPerRun?: number;
  /** Set by the workflow itself when it continues as new. */
  state?: BackfillState;
}

export interface FailedDay {
  day: string;
  outcome: DayOutcome;
  runId: string | null;
  error: string | null;
}

/** What a backfill carries from one run to the next: bounded by its range, never by its history. */
export interface BackfillState {
  /** Index in the range of the next partition not begun yet. */
  next: number;
  /** Failed partitions waiting for another run, with the runs they have left. */
  retryQueue: { day: string; runsLeft: number }[];
  /** Final outcomes so far, per partition. */
  counts: Record<DayOutcome, number>;
  /** Partitions that ended without success for good (no runs left). */
  failed: FailedDay[];
  /** Runs started again after a failure. */
  retried: number;
  startedAt: string;
  /** Workflow runs before this one (each continue-as-new adds one). */
  continuedRuns: number;
}

export interface BackfillProgress {
  job: string;
  from: string;
  to: string;
  total: number;
  /** Partitions with a final outcome. */
  done: number;
  counts: Record<DayOutcome, number>;
  inFlight: { day: string; runId: string | null; attached: boolean }[];
  failed: FailedDay[];
  retried: number;
  concurrency: number;
  force: boolean;
  startedAt: string;
  continuedRuns: number;
  phase: 'running' | 'continuing as new' | 'finished';
}

export const BACKFILL_PROGRESS_QUERY = 'progress';

export const EMPTY_COUNTS: Record<DayOutcome, number> = { skipped: 0, succeeded: 0, failed: 0, cancelled: 0, timed_out: 0 };
