// Pure types shared by workflow code, activities and the client; no runtime imports so the workflow bundle stays small.

export type JobArgs = Record<string, unknown>;
export type JobMetrics = Record<string, number>;

export interface ActivityPolicy {
  /** How many times an activity may be tried for transient faults (0 = unlimited). */
  maximumAttempts: number;
  initialIntervalMs: number;
  backoffCoefficient: number;
  maximumIntervalMs: number;
  nonRetryable: string[];
  startToCloseTimeoutMs: number;
  heartbeatTimeoutMs: number;
}

/**
 * What every starter passes: the TypeScript client, the Airflow operator, `temporal workflow start`. The job's
 * definition (handler, policies, defaults) is resolved by the worker, so all starters get the same behaviour.
 */
export interface ScheduledJobInput {
  job: string;
  args?: JobArgs;
  /** Set by the workflow itself when it continues as new to retry; starters leave it out. */
  attempt?: number;
}

/** Whole-job retries, in milliseconds, as the worker resolved them from the job definition. */
export interface JobRetry {
  retries: number;
  initialIntervalMs: number;
  backoffCoefficient: number;
  maximumIntervalMs: number;
  nonRetryable: string[];
}

/** The kinds of value a job may be partitioned by (jobs/partition.ts has their rules). */
export type PartitionKind = 'day';

/** The job definition as one attempt needs it, returned by the run log when the attempt opens. */
export interface ResolvedJob {
  args: JobArgs;
  /** The run's partition, from the definition's declaration; absent for a job without one (and in older histories). */
  partition?: { kind: PartitionKind; key: string };
  handler: string;
  activity: ActivityPolicy;
  retry: JobRetry;
  attemptTimeoutMs: number | null;
  /**
   * For a job with a concurrency limit, the queue its runs wait in for a permit (the limit itself is read by the
   * waiting activity, so a changed limit applies from the next worker start). Absent without a limit and in older
   * histories.
   */
  concurrencyQueue?: string;
  /** Whether a final failure sends the job's `failed` alert (the webhook itself stays with the workers). */
  alertOnFailure?: boolean;
}

export interface ScheduledJobResult {
  status: 'succeeded';
  attempt: number;
  metrics: JobMetrics;
}

export interface JobProgress {
  job: string;
  attempt: number;
  phase: string;
  metrics: JobMetrics;
}

/** Error types that no retry can fix. */
export const INVALID_ARGUMENTS = 'InvalidArguments';
export const UNKNOWN_JOB = 'UnknownJob';
export const UNKNOWN_HANDLER = 'UnknownHandler';
/** A lock workflow started under another ID than its convention's: it would not exclude the runs it must exclude. */
export const WRONG_WORKFLOW_ID = 'WrongWorkflowId';
/** The failure type of an attempt that ran past the job's `timeouts.attempt`. */
export const ATTEMPT_TIMED_OUT = 'AttemptTimedOut';
