import type { ActivityPolicy, JobArgs, JobMetrics } from './types';

export interface JobContext {
  job: string;
  attempt: number;
  /** The job's declared activity retry policy and timeouts, for the handler's proxyActivities. */
  policy: ActivityPolicy;
  /** Publishes progress to the `progress` query while the attempt runs. */
  progress(phase: string, metrics: JobMetrics): void;
}

/** Deterministic workflow code for one attempt of a job; returns the attempt's metrics. */
export type JobHandler = (args: JobArgs, ctx: JobContext) => Promise<JobMetrics>;
