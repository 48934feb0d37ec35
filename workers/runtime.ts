import type { Client } from '@temporalio/client';
import type { DataSource } from 'typeorm';
import { env, type Env } from '../config/env';
import { connectClient } from '../client/temporalConnection';
import { JobsClient } from '../client/jobsClient';
import { openDatabase } from '../db/dataSource';
import { builtinJobs, JOB_HANDLER_NAMES } from '../app/jobs';
import { loadJobRegistry } from '../jobs/load';
import type { JobRegistry } from '../jobs/registry';
import { setServiceName, type Probes } from '../observability/dependencies';
import { initTracing, type Tracing } from '../observability/tracing';
import { dependencyProbes } from './dependencyProbes';
import { isTransientPgError, pgAddress, untilReachable } from '../connections/untilReachable';

/** What every process (worker, API, CLI) starts from: validated config, migrated database, jobs, Temporal client. */
export interface Runtime {
  env: Env;
  ds: DataSource;
  jobs: JobRegistry;
  temporal: Client;
  client: JobsClient;
  tracing: Tracing;
  /** A round trip to Postgres and to Temporal: the API's /readyz, the worker's dependency gauge. */
  probes: Probes;
  close(): Promise<void>;
}

/** `service` names the process in traces unless OTEL_SERVICE_NAME does (scheduled-job-worker, -api, -cli). */
export async function openRuntime(opts: { poolSize?: number; service?: string } = {}): Promise<Runtime> {
  // First, so the Temporal client's tracing interceptor and every span after it see the tracer provider.
  const service = opts.service ?? 'scheduled-job-cli';
  const tracing = initTracing(service);
  setServiceName(service);
  const e = env();
  const jobs = loadJobRegistry(e.JOBS_MODULE, { jobs: builtinJobs, handlers: JOB_HANDLER_NAMES });
  // A process started while a dependency restarts (or before it is up) waits for it rather than exiting.
  const ds = await untilReachable('postgres', pgAddress(e.DATABASE_URL), () => openDatabase(e.DATABASE_URL, opts.poolSize), isTransientPgError);
  const temporal = await untilReachable('temporal', e.TEMPORAL_ADDRESS, () => connectClient(e));
  const client = new JobsClient(temporal, ds, jobs, e.TEMPORAL_TASK_QUEUE);
  return {
    env: e,
    ds,
    jobs,
    temporal,
    client,
    tracing,
    probes: dependencyProbes(e.DATABASE_URL, temporal),
    async close() {
      await temporal.connection.close();
      await ds.destroy();
      await tracing.flush(); // a CLI trigger exits right after: send its spans first
    },
  };
}
