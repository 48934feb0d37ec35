import type { Client } from '@temporalio/client';
import pg from 'pg';
import type { Probes } from '../observability/dependencies';

const PROBE_TIMEOUT_MS = 3_000;
// The client retries UNAVAILABLE calls until their deadline, so a long deadline would ride out a whole restart and
// report nothing; a second is plenty for a server that is up.
const TEMPORAL_DEADLINE_MS = 1_000;

/**
 * One round trip to each dependency. Postgres is asked on a connection of its own, not the pool's: a pool busy with
 * ingest writes would make a healthy server look down, and a connection's error must never go unheard.
 */
export function dependencyProbes(databaseUrl: string, temporal: Client): Probes {
  return {
    postgres: async () => {
      const client = new pg.Client({
        connectionString: databaseUrl,
        connectionTimeoutMillis: PROBE_TIMEOUT_MS,
        application_name: 'scheduled-job-probe',
      });
      client.on('error', () => undefined); // the query below rejects with the same error
      try {
        await client.connect();
        await client.query('SELECT 1');
      } finally {
        await client.end().catch(() => undefined);
      }
    },
    temporal: () =>
      temporal.connection.withDeadline(Date.now() + TEMPORAL_DEADLINE_MS, () => temporal.connection.workflowService.getSystemInfo({})),
  };
}
