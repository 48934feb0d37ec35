import 'reflect-metadata';
import { DataSource } from 'typeorm';
import { JobRunEntity } from './entities/jobRun';
import { guardedPg } from './guardedPg';
import { migrations } from './migrations';

/**
 * The one DataSource of a process (plus the ingest's, `label` names which in logs); `synchronize` stays off: the
 * schema is owned by numbered migrations.
 */
export function createDataSource(databaseUrl: string, poolSize = 10, label = 'owner'): DataSource {
  return new DataSource({
    type: 'postgres',
    url: databaseUrl,
    driver: guardedPg(label),
    // The guarded pool reports pool errors itself, once per outage; TypeORM's default handler would log each one.
    poolErrorHandler: () => undefined,
    entities: [JobRunEntity],
    migrations,
    migrationsTableName: 'schema_migrations',
    synchronize: false,
    logging: ['error'],
    extra: { max: poolSize, application_name: 'scheduled-job' },
  });
}

// Every process migrates on start; the advisory lock makes concurrent starts (several workers, the API) take turns.
const MIGRATION_LOCK = 0x5c4ed_10b;

export async function migrate(ds: DataSource): Promise<string[]> {
  const runner = ds.createQueryRunner();
  await runner.connect();
  try {
    await runner.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK]);
    const applied = await ds.runMigrations({ transaction: 'each' });
    return applied.map((m) => m.name);
  } finally {
    await runner.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK]).catch(() => undefined);
    await runner.release();
  }
}

export async function openDatabase(databaseUrl: string, poolSize?: number): Promise<DataSource> {
  const ds = createDataSource(databaseUrl, poolSize);
  await ds.initialize();
  try {
    await migrate(ds);
  } catch (err) {
    // A caller that retries (the server went away mid-migration) opens a fresh pool; this one must not linger.
    await ds.destroy().catch(() => undefined);
    throw err;
  }
  return ds;
}
