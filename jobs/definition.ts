import type { Duration } from '@temporalio/common';
import type { z } from 'zod';
import type { JobHandler } from '../workflows/jobHandler';
import type { JobArgs } from '../workflows/types';
import type { AlertsDeclaration } from './alerts';
import type { ConcurrencyDeclaration } from './concurrency';
import type { PartitionDeclaration } from './partition';
import type { ScheduleDeclaration } from './schedule';

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

/** The arguments of `Args` whose values are text: the ones a partition may be (any name while `Args` is untyped). */
export type TextArgOf<Args> = string extends keyof Args
  ? string
  : { [K in keyof Args]-?: Exclude<Args[K], undefined> extends string ? K : never }[keyof Args] & string;

/** Which of a job's metrics the days view shows as its rows and its rejects (e.g. `{ rows: 'rowsWritten' }`). */
export interface KeyMetrics {
  rows?: string;
  rejects?: string;
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
  /**
   * The argument that partitions the job (`{ arg: 'day', kind: 'day' }`): one of `lockKey`, so each partition has a
   * lock of its own. Runs carry it as a search attribute and in `job_runs.partition_key`; schedules, backfills and the
   * days view work on it. Without it the job runs as a whole.
   */
  partition?: PartitionDeclaration<TextArgOf<z.output<Schema>>>;
  /** When the workers' Temporal Schedule `schedule/<job>` starts it; for a partitioned job, also which partition. */
  schedule?: ScheduleDeclaration;
  keyMetrics?: KeyMetrics;
  /**
   * At most `limit` runs at once across every worker and lock key (or per group of runs with `groupBy`); a run over
   * the limit waits, `queued`, in the order it came.
   */
  concurrency?: ConcurrencyDeclaration;
  /** A webhook for a run that finally failed, a day late past `expectedBy`, a schedule tick skipped or missed. */
  alerts?: AlertsDeclaration;
}

/** What a handler receives: the schema's output, where every argument `defaultArgs` fills in is present. */
export type ResolvedArgs<Schema extends z.ZodType<JobArgs>, Defaults> = z.output<Schema> & {
  [K in keyof Defaults & keyof z.output<Schema>]-?: Exclude<z.output<Schema>[K], undefined>;
};

/**
 * A definition that remembers its handler's name and argument type (for `ArgsOf` and the handler map's check in
 * `app/jobHandlers.ts`); at run time a plain definition.
 */
export interface TypedJobDefinition<Args, Handler extends string = string> extends JobDefinition {
  readonly handler: Handler;
  /** Never set: carries the type only. */
  readonly __args?: Args;
}

/** The arguments the handler of `Def` receives, e.g. `JobHandler<ArgsOf<typeof ingestNotificationViews>>`. */
export type ArgsOf<Def> = Def extends TypedJobDefinition<infer Args> ? Args : never;

/** The handler map a list of definitions needs: under each handler name, a handler of every argument type using it. */
export type HandlersFor<Defs extends readonly TypedJobDefinition<unknown>[]> = {
  [H in Defs[number]['handler']]: JobHandler<ArgsOf<Extract<Defs[number], { handler: H }>>>;
};

export function defineJob<
  Schema extends z.ZodType<JobArgs>,
  const Handler extends string,
  const Defaults extends Partial<z.input<Schema>> = Record<never, never>,
>(def: JobDefinition<Schema> & { handler: Handler; defaultArgs?: Defaults }): TypedJobDefinition<ResolvedArgs<Schema, Defaults>, Handler> {
  return def as unknown as TypedJobDefinition<ResolvedArgs<Schema, Defaults>, Handler>;
}
