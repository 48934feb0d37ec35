import type pg from 'pg';
import type { Queryable } from './jobRuns';

/**
 * A pg pool as a Queryable, for a process that needs a few statements and no TypeORM (the CLI): the rows come back
 * as TypeORM's DataSource.query gives them, an array of rows, and `[rows, rowCount]` for UPDATE and DELETE, so the
 * statement modules run on either unchanged.
 */
export function pgQueryable(pool: pg.Pool): Queryable {
  return {
    async query(sql: string, parameters?: unknown[]): Promise<unknown> {
      const r = await pool.query(sql, parameters);
      return r.command === 'UPDATE' || r.command === 'DELETE' ? [r.rows, r.rowCount ?? 0] : r.rows;
    },
  };
}
