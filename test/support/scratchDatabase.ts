import { DataSource } from 'typeorm';
import { migrations } from '../../db/migrations';

/** A database of its own on the stack's Postgres, for tests that need an empty or an old schema. */
export interface ScratchDatabase {
  name: string;
  url: string;
  drop(): Promise<void>;
}

export async function createScratchDatabase(ownerUrl: string, tag: string): Promise<ScratchDatabase> {
  const name = `sj_${tag.replace(/[^a-z0-9]/gi, '_').toLowerCase()}`.slice(0, 63);
  const admin = new DataSource({ type: 'postgres', url: ownerUrl, extra: { max: 1 } });
  await admin.initialize();
  await admin.query(`CREATE DATABASE "${name}"`);
  const url = new URL(ownerUrl);
  url.pathname = `/${name}`;
  return {
    name,
    url: url.toString(),
    async drop() {
      // FORCE ends the connections of processes the test started, even one that failed half-way.
      await admin.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
      await admin.destroy();
    },
  };
}

/** A DataSource that knows only the first `count` shipped migrations: the schema of an older release. */
export function dataSourceUpTo(url: string, count: number): DataSource {
  return new DataSource({
    type: 'postgres',
    url,
    migrations: migrations.slice(0, count),
    migrationsTableName: 'schema_migrations',
    extra: { max: 2 },
  });
}

/**
 * The schema as Postgres reports it: columns, constraints, indexes and the privileges of every role, in a stable
 * order, so two databases can be compared for equality.
 */
export async function describeSchema(ds: DataSource): Promise<Record<string, unknown[]>> {
  const q = (sql: string) => ds.query(sql) as Promise<unknown[]>;
  return {
    columns: await q(`SELECT table_name, column_name, data_type, is_nullable, column_default FROM information_schema.columns
                       WHERE table_schema = current_schema() ORDER BY table_name, column_name`),
    constraints: await q(`SELECT conrelid::regclass::text AS tbl, conname, pg_get_constraintdef(oid) AS def FROM pg_constraint
                           WHERE connamespace = current_schema()::regnamespace ORDER BY 1, 2`),
    indexes: await q(`SELECT tablename, indexname, indexdef FROM pg_indexes WHERE schemaname = current_schema() ORDER BY 1, 2`),
    tableGrants: await q(`SELECT grantee, table_name, privilege_type FROM information_schema.role_table_grants
                           WHERE table_schema = current_schema() ORDER BY 1, 2, 3`),
    columnGrants: await q(`SELECT grantee, table_name, column_name, privilege_type FROM information_schema.column_privileges
                            WHERE table_schema = current_schema() AND grantee <> current_user ORDER BY 1, 2, 3, 4`),
  };
}
