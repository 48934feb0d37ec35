import type { JobArgs } from '../workflows/types';
import { permitQueueOf } from '../workflows/permitTypes';

/**
 * How many runs of a job may run at once, across every worker and lock key: a run over the limit waits (`queued`) in
 * the order it came, instead of failing, until a permit is free. With `groupBy`, each group of runs (the runs with the
 * same values of those arguments, such as one `source`) has a limit of its own.
 */
export interface ConcurrencyDeclaration {
  /** At least 1. A change takes effect when the workers restart with it; runs already running are left alone. */
  limit: number;
  /** Arguments whose values make the groups (each with `limit` permits); without it the whole job shares them. */
  groupBy?: string[];
}

/** The first thing wrong with a declaration, as `field: problem`, or undefined when it is valid. */
export function concurrencyProblem(c: ConcurrencyDeclaration, argNames: readonly string[] | undefined): string | undefined {
  if (typeof c !== 'object' || c === null) return 'concurrency: must be an object such as { limit: 2 }';
  if (!Number.isInteger(c.limit) || c.limit < 1) return `concurrency.limit: must be a whole number of at least 1, got ${JSON.stringify(c.limit)}`;
  if (c.limit > MAX_LIMIT) return `concurrency.limit: at most ${MAX_LIMIT} (each waiting run looks at every permit), got ${c.limit}`;
  if (c.groupBy !== undefined) {
    if (!Array.isArray(c.groupBy) || c.groupBy.length === 0) return 'concurrency.groupBy: must be a non-empty list of argument names';
    for (const arg of c.groupBy) {
      if (typeof arg !== 'string' || arg === '') return 'concurrency.groupBy: must be a non-empty list of argument names';
      if (argNames && !argNames.includes(arg)) return `concurrency.groupBy: ${arg} is not an argument of the job`;
    }
  }
  const extra = Object.keys(c).filter((k) => k !== 'limit' && k !== 'groupBy');
  if (extra.length > 0) return `concurrency.${extra[0]}: unknown field (a limit takes limit and groupBy)`;
  return undefined;
}

/** The permits a waiting run looks at on each poll: one describe each, so the limit is kept to what that allows. */
export const MAX_LIMIT = 100;

/** The queue a run of `job` with these (resolved) arguments waits in: the job's, or its group's. */
export function concurrencyQueueOf(job: string, c: ConcurrencyDeclaration, args: JobArgs): string {
  const values = (c.groupBy ?? []).map((arg) => {
    const v = args[arg];
    return v === undefined || v === null || v === '' ? '-' : String(v);
  });
  return permitQueueOf(job, values);
}

/** How a limit reads in listings: `2` or `2 per source`. */
export function describeConcurrency(c: ConcurrencyDeclaration): { limit: number; groupBy: string[] } {
  return { limit: c.limit, groupBy: c.groupBy ?? [] };
}
