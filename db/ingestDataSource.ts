import type { DataSource } from 'typeorm';
import type { Env } from '../config/env';
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
  const ds = createDataSource(e.INGEST_DATABASE_URL, poolSize);
  await ds.initialize();
  return { ds, close: () => ds.destroy() };
}
