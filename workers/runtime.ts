import type { Client } from '@temporalio/client';
import type { DataSource } from 'typeorm';
import { env, type Env } from '../config/env';
import { connectClient } from '../client/temporalConnection';
import { JobsClient } from '../client/jobsClient';
import { openDatabase } from '../db/dataSource';
import { loadJobRegistry } from '../jobs/load';
import type { JobRegistry } from '../jobs/registry';

/** What every process (worker, API, CLI) starts from: validated config, migrated database, jobs, Temporal client. */
export interface Runtime {
  env: Env;
  ds: DataSource;
  jobs: JobRegistry;
  temporal: Client;
  client: JobsClient;
  close(): Promise<void>;
}

export async function openRuntime(opts: { poolSize?: number } = {}): Promise<Runtime> {
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
    async close() {
      await temporal.connection.close();
      await ds.destroy();
    },
  };
}
