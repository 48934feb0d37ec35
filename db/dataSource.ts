import 'reflect-metadata';
import { DataSource } from 'typeorm';
import { JobRunEntity } from './entities/jobRun';
import { migrations } from './migrations';

/** The one DataSource of a process; `synchronize` stays off: the schema is owned by numbered migrations. */
export function createDataSource(databaseUrl: string, poolSize = 10): DataSource {
  return new DataSource({
    type: 'postgres',
    url: databaseUrl,
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
  await migrate(ds);
  return ds;
}
