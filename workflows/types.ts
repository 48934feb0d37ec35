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

export interface ScheduledJobInput {
  job: string;
  handler: string;
  args: JobArgs;
  /** Omitted when started by hand (e.g. `temporal workflow start`): the workflow then uses DEFAULT_ACTIVITY_POLICY. */
  activity?: ActivityPolicy;
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

export const DEFAULT_ACTIVITY_POLICY: ActivityPolicy = {
  maximumAttempts: 10,
  initialIntervalMs: 1_000,
  backoffCoefficient: 2,
  maximumIntervalMs: 60_000,
  nonRetryable: [],
  startToCloseTimeoutMs: 10 * 60_000,
  heartbeatTimeoutMs: 30_000,
};

/** Error types our activities throw that no retry can fix. */
export const INVALID_ARGUMENTS = 'InvalidArguments';
