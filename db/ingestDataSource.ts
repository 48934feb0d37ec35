import type { DataSource } from 'typeorm';
import type { Env } from '../config/env';
import { isTransientPgError, pgAddress, untilReachable } from '../connections/untilReachable';
import { createDataSource } from './dataSource';

/**
 * The connection the ingest writes through: INGEST_DATABASE_URL (a LOGIN member of the `scheduled_job_ingest` role,
 * which may write only the ingest tables) when set, else the owner's `ds`. Never migrates: the owner does that.
 */
export async function openIngestDatabase(
  e: Pick<Env, 'INGEST_DATABASE_URL'>,
  ownerDs: DataSource,
  poolSize?: number,
): Promise<{ ds: DataSource; close(): Promise<void> }> {
  if (!e.INGEST_DATABASE_URL) return { ds: ownerDs, close: async () => undefined };
  const url = e.INGEST_DATABASE_URL;
  const ds = await untilReachable('postgres', pgAddress(url), async () => {
    const ds = createDataSource(url, poolSize, 'ingest');
    await ds.initialize();
    return ds;
  }, isTransientPgError);
  return { ds, close: () => ds.destroy() };
}
