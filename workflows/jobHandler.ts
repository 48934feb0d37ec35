import type { ActivityPolicy, JobArgs, JobMetrics } from './types';

export interface JobContext {
  job: string;
  attempt: number;
  /** The job's declared activity retry policy and timeouts, for the handler's proxyActivities. */
  policy: ActivityPolicy;
  /** Publishes progress to the `progress` query while the attempt runs. */
  progress(phase: string, metrics: JobMetrics): void;
}

/**
 * Deterministic workflow code for one attempt of a job; returns the attempt's metrics. `Args` is what the job's
 * definition resolves (validated, defaults filled in): `ArgsOf<typeof definition>`.
 */
export type JobHandler<Args = JobArgs> = (args: Args, ctx: JobContext) => Promise<JobMetrics>;

// Filled by the workflow bundle's entry, which is where the features meet the framework: the ScheduledJob workflow
// knows handlers only by the name a definition gives.
const handlers = new Map<string, JobHandler<never>>();

export function registerJobHandlers(byName: Record<string, JobHandler<never>>): void {
  for (const [name, handler] of Object.entries(byName)) handlers.set(name, handler);
}

/** The handler registered under `name`; its arguments were resolved by the definition the same name came from. */
export function jobHandlerNamed(name: string): JobHandler | undefined {
  return handlers.get(name) as JobHandler | undefined;
}
