import type { Duration } from '@temporalio/common';
import type { z } from 'zod';
import type { JobArgs } from '../workflows/types';

/** Whole-job attempts: a failed attempt is retried `retries` times, each as a new run under the same lock. */
export interface JobRetryPolicy {
  retries: number;
  initialInterval?: Duration;
  backoffCoefficient?: number;
  maximumInterval?: Duration;
  /** Error types (ApplicationFailure type or Error name) that fail the job at once. */
  nonRetryable?: string[];
}

/** Retries of single activities for transient faults (S3 5xx, a dropped connection), inside one attempt. */
export interface ActivityRetryPolicy {
  maximumAttempts?: number;
  initialInterval?: Duration;
  backoffCoefficient?: number;
  maximumInterval?: Duration;
  nonRetryable?: string[];
}

export interface JobTimeouts {
  /** Upper bound for one attempt; a run past it ends as timed_out. */
  attempt?: Duration;
  activityStartToClose?: Duration;
  activityHeartbeat?: Duration;
}

/** A job: its arguments, policies and lock key, and the workflow handler that runs it. */
export interface JobDefinition<Schema extends z.ZodType<JobArgs> = z.ZodType<JobArgs>> {
  name: string;
  description: string;
  /** One of `workflows/jobHandlerNames.ts` (the handlers are in `workflows/jobHandlers.ts`); jobs may share one. */
  handler: string;
  args: Schema;
  defaultArgs?: Partial<z.input<Schema>>;
  retry: JobRetryPolicy;
  activityRetry?: ActivityRetryPolicy;
  timeouts?: JobTimeouts;
  /**
   * Argument names whose values join the job name in the workflow ID, so runs with different values (days) may run
   * at once while the same values stay locked. Without it the job name alone is the lock.
   */
  lockKey?: string[];
}

export function defineJob<Schema extends z.ZodType<JobArgs>>(def: JobDefinition<Schema>): JobDefinition {
  return def as unknown as JobDefinition;
}
