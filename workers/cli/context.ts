import type { Client } from '@temporalio/client';
import type pg from 'pg';
import type { JobsClient } from '../../client/jobsClient';
import type { Env } from '../../config/env';
import type { Queryable } from '../../db/jobRuns';
import type { JobRegistry } from '../../jobs/registry';

const SERVICE = 'scheduled-job-cli';

// Required on first use: a command pays only for what it touches (`status` of a finished run: pg and one query; the
// Temporal client with gRPC and its protobuf definitions is most of what a call used to spend before its answer).
const load = {
  env: () => require('../../config/env') as typeof import('../../config/env'),
  pg: () => require('pg') as typeof import('pg'),
  guardPool: () => (require('../../db/guardedPg') as typeof import('../../db/guardedPg')).guardPool,
  pgQueryable: () => (require('../../db/pgQueryable') as typeof import('../../db/pgQueryable')).pgQueryable,
  reachable: () => {
    // Names this process in the outage lines the wait logs.
    (require('../../observability/dependencies') as typeof import('../../observability/dependencies')).setServiceName(SERVICE);
    return require('../../connections/untilReachable') as typeof import('../../connections/untilReachable');
  },
  jobs: () => require('../../app/jobs') as typeof import('../../app/jobs'),
  loadJobs: () => require('../../jobs/load') as typeof import('../../jobs/load'),
  temporalConnection: () => require('../../client/temporalConnection') as typeof import('../../client/temporalConnection'),
  jobsClient: () => require('../../client/jobsClient') as typeof import('../../client/jobsClient'),
  tracingEnabled: () => require('../../observability/tracingEnabled') as typeof import('../../observability/tracingEnabled'),
  tracing: () => require('../../observability/tracing') as typeof import('../../observability/tracing'),
};

/**
 * What a CLI command works with, each part opened when the command first asks for it. The CLI never migrates and
 * never loads TypeORM: the worker and the API migrate at start, and `scheduled-job migrate` does it for deployers who
 * run migrations as a step of their own.
 */
export interface CliContext {
  env: Env;
  /** The run log's database: a pool of two connections, the first opened by the first statement. */
  db: Queryable;
  jobs(): JobRegistry;
  temporal(): Promise<Client>;
  /** Starting, cancelling and rerunning runs: needs Temporal, so it connects it. */
  jobsClient(): Promise<JobsClient>;
  /** Runs `fn` in a span when an exporter is configured (OTEL_EXPORTER_OTLP_*), else just runs it. */
  traced<T>(name: string, attributes: Record<string, string>, fn: () => Promise<T>): Promise<T>;
}

/** Opens a context for one command, and closes what the command opened when it is done. */
export async function withCli<T>(fn: (cx: CliContext) => Promise<T>): Promise<T> {
  const e = load.env().env();
  let postgres: { pool: pg.Pool; rows: Queryable; ready: Promise<void> } | undefined;
  let temporal: Promise<Client> | undefined;
  let jobs: JobRegistry | undefined;
  const tracing = load.tracingEnabled().tracingEnabled() ? load.tracing().initTracing(SERVICE) : undefined;

  const openPostgres = () => {
    const pool = new (load.pg().Pool)({ connectionString: e.DATABASE_URL, max: 2, application_name: SERVICE });
    load.guardPool()(pool, 'cli');
    // A call made while Postgres restarts (or before it is up) waits for it, as the worker and the API do.
    const r = load.reachable();
    const ready = r.untilReachable('postgres', r.pgAddress(e.DATABASE_URL), async () => (await pool.connect()).release(), r.isTransientPgError);
    return { pool, rows: load.pgQueryable()(pool), ready };
  };
  const db: Queryable = {
    async query(sql, parameters) {
      postgres ??= openPostgres();
      await postgres.ready;
      return postgres.rows.query(sql, parameters);
    },
  };
  const cx: CliContext = {
    env: e,
    db,
    jobs: () => (jobs ??= load.loadJobs().loadJobRegistry(e.JOBS_MODULE, { jobs: load.jobs().builtinJobs, handlers: load.jobs().JOB_HANDLER_NAMES })),
    temporal: () =>
      (temporal ??= load.reachable().untilReachable('temporal', e.TEMPORAL_ADDRESS, () => load.temporalConnection().connectClient(e))),
    async jobsClient() {
      return new (load.jobsClient().JobsClient)(await cx.temporal(), db, cx.jobs(), e.TEMPORAL_TASK_QUEUE);
    },
    traced: (name, attributes, fn) => (tracing ? load.tracing().withSpan(name, { attributes }, fn) : fn()),
  };
  try {
    return await fn(cx);
  } finally {
    if (temporal) await (await temporal.catch(() => undefined))?.connection.close();
    await postgres?.pool.end();
    await tracing?.flush(); // a trigger exits right after: send its spans first
  }
}
