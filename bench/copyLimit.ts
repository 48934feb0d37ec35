/**
 * The limit of every path that writes rows: a raw `COPY` of the same rows, as a user runs it with `psql \copy` from a
 * CSV file, into a scratch table with the real table's columns, key, indexes and row count, so it pays the same index
 * upkeep as the path it is compared with.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import type { Client as PgClient } from 'pg';

/** A fresh scratch table with `like`'s columns, key and indexes. */
export async function scratchTableLike(pg: PgClient, name: string, like: string): Promise<void> {
  await pg.query(`DROP TABLE IF EXISTS ${name}`);
  await pg.query(`CREATE TABLE ${name} (LIKE ${like} INCLUDING ALL)`);
}

/** A scratch table like `like` holding as many rows as it does, analysed. */
export async function filledLike(pg: PgClient, name: string, like: string): Promise<void> {
  await scratchTableLike(pg, name, like);
  await pg.query(`INSERT INTO ${name} SELECT * FROM ${like}`);
  await pg.query(`VACUUM ANALYZE ${name}`);
}

/** `psql -c "\copy <table> FROM|TO '<file>' WITH (FORMAT csv)"`, as a user types it. */
export async function psqlCopy(databaseUrl: string, table: string, direction: 'FROM' | 'TO', file: string): Promise<void> {
  await promisify(execFile)('psql', [databaseUrl, '-X', '-q', '-v', 'ON_ERROR_STOP=1', '-c', `\\copy ${table} ${direction} '${file}' WITH (FORMAT csv)`]);
}
