import { env } from '../config/env';
import { isTransientPgError, pgAddress, untilReachable } from '../connections/untilReachable';
import { createDataSource, migrate } from '../db/dataSource';
import { setServiceName } from '../observability/dependencies';

/**
 * `scheduled-job migrate`: the numbered migrations not yet applied, each in its own transaction, under the same
 * advisory lock the worker and the API take at start; prints the names it applied (none when up to date).
 */
export async function runMigrate(): Promise<void> {
  setServiceName('scheduled-job-migrate');
  const e = env();
  const applied = await untilReachable(
    'postgres',
    pgAddress(e.DATABASE_URL),
    async () => {
      // Two connections: migrate() holds the advisory lock on one while the migrations run on the other.
      const ds = createDataSource(e.DATABASE_URL, 2, 'migrate');
      await ds.initialize();
      try {
        return await migrate(ds);
      } finally {
        await ds.destroy();
      }
    },
    isTransientPgError,
  );
  console.log(JSON.stringify({ applied }));
}
