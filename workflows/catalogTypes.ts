// The job catalog's shared shapes and names: pure, so the worker, the clients and workflow code agree on them.

/** What a starter needs to know of a job to start it under its lock: published by the workers that run it. */
export interface JobDescription {
  name: string;
  description: string;
  /** The arguments whose values join the job name in the workflow ID, in order. */
  lockKey: string[];
  retries: number;
  defaultArgs: Record<string, unknown>;
  /** JSON Schema (draft 2020-12) of the arguments; refinements it cannot express are checked by the worker. */
  argsSchema: unknown;
  /** The argument that partitions the job (its days view and backfills), or null. Absent in catalogs published before. */
  partition?: { arg: string; kind: string } | null;
  /** The declared schedule, as `cron 0 11 * * * (UTC)` or `every 1h`, or null. */
  schedule?: string | null;
  /** The concurrency limit (per group of runs with the same `groupBy` values, when there are any), or null. */
  concurrency?: { limit: number; groupBy: string[] } | null;
  /** Which alerts it sends and where the webhook comes from (never its URL or secret), or null. */
  alerts?: {
    on: string[];
    webhook: string;
    signed: boolean;
    expectedBy: string | null;
  } | null;
}

export interface JobCatalog {
  taskQueue: string;
  jobs: JobDescription[];
  publishedAt: string;
  /** The worker that published it (`<host>/<pid>`): the newest worker's definitions win. */
  publishedBy: string;
}

export interface JobCatalogInput {
  taskQueue: string;
  /** Set by the workflow itself when it continues as new. */
  catalog?: JobCatalog;
}

export const PUBLISH_CATALOG_SIGNAL = 'publish';
export const CATALOG_QUERY = 'jobs';

/** One catalog per task queue: the workers polling a queue are the ones whose definitions count for it. */
export function catalogWorkflowId(taskQueue: string): string {
  return `catalog/${taskQueue}`;
}
