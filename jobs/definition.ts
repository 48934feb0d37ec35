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
  /** The name its workflow handler is registered under (the shipped ones: `app/jobHandlers.ts`); jobs may share one. */
  handler: string;
  args: Schema;
  /** Filled in under the caller's arguments before validation; the one place a job's defaults are declared. */
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

/** What a handler receives: the schema's output, where every argument `defaultArgs` fills in is present. */
export type ResolvedArgs<Schema extends z.ZodType<JobArgs>, Defaults> = z.output<Schema> & {
  [K in keyof Defaults & keyof z.output<Schema>]-?: Exclude<z.output<Schema>[K], undefined>;
};

/** A definition that remembers its handler's argument type (for `ArgsOf`); at run time a plain definition. */
export interface TypedJobDefinition<Args> extends JobDefinition {
  /** Never set: carries the type only. */
  readonly __args?: Args;
}

/** The arguments the handler of `Def` receives, e.g. `JobHandler<ArgsOf<typeof ingestNotificationViews>>`. */
export type ArgsOf<Def> = Def extends TypedJobDefinition<infer Args> ? Args : never;

export function defineJob<Schema extends z.ZodType<JobArgs>, const Defaults extends Partial<z.input<Schema>> = Record<never, never>>(
  def: JobDefinition<Schema> & { defaultArgs?: Defaults },
): TypedJobDefinition<ResolvedArgs<Schema, Defaults>> {
  return def as unknown as TypedJobDefinition<ResolvedArgs<Schema, Defaults>>;
}
