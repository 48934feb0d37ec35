import type { Client } from '@temporalio/client';
import type { DataSource } from 'typeorm';
import { env, type Env } from '../config/env';
import { connectClient } from '../client/temporalConnection';
import { JobsClient } from '../client/jobsClient';
import { openDatabase } from '../db/dataSource';
import { loadJobRegistry } from '../jobs/load';
import type { JobRegistry } from '../jobs/registry';
import { initTracing, type Tracing } from '../observability/tracing';

/** What every process (worker, API, CLI) starts from: validated config, migrated database, jobs, Temporal client. */
export interface Runtime {
  env: Env;
  ds: DataSource;
  jobs: JobRegistry;
  temporal: Client;
  client: JobsClient;
  tracing: Tracing;
  close(): Promise<void>;
}

/** `service` names the process in traces unless OTEL_SERVICE_NAME does (scheduled-job-worker, -api, -cli). */
export async function openRuntime(opts: { poolSize?: number; service?: string } = {}): Promise<Runtime> {
  // First, so the Temporal client's tracing interceptor and every span after it see the tracer provider.
  const tracing = initTracing(opts.service ?? 'scheduled-job-cli');
  const e = env();
  const jobs = loadJobRegistry(e.JOBS_MODULE);
  const ds = await openDatabase(e.DATABASE_URL, opts.poolSize);
  const temporal = await connectClient(e);
  const client = new JobsClient(temporal, ds, jobs, e.TEMPORAL_TASK_QUEUE);
  return {
    env: e,
    ds,
    jobs,
    temporal,
    client,
    tracing,
    async close() {
      await temporal.connection.close();
      await ds.destroy();
      await tracing.flush(); // a CLI trigger exits right after: send its spans first
    },
  };
}
