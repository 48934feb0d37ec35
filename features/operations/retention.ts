import { heartbeatOrStop } from '../../activities/heartbeat';
import type { DataSource } from 'typeorm';

/** The tables the `retention` job prunes, each with how its age is read and what it never deletes. */
export const RETENTION_TABLES = ['job_runs', 'ingest_rejects', 'kafka_dead_letters', 'ingest_objects', 'schedule_ticks'] as const;
export type RetentionTable = (typeof RETENTION_TABLES)[number];

/**
 * One batch of the oldest rows past the cutoff ($1), at most $2 of them. Each batch is its own short statement, so
 * retention never holds many row locks or one long transaction, and an index finds the batch (migration 0006).
 */
const DELETE_BATCH: Record<RetentionTable, string> = {
  // Finished attempts only, and never the newest succeeded run of a workflow ID: backfill reads it to skip the days
  // that already succeeded, and `status` of that run keeps working.
  job_runs: `
    DELETE FROM job_runs WHERE id IN (
      SELECT r.id FROM job_runs r
       WHERE r.status <> 'running' AND r.finished_at < $1
         AND (r.status <> 'succeeded' OR EXISTS (
               SELECT 1 FROM job_runs n WHERE n.workflow_id = r.workflow_id AND n.status = 'succeeded' AND n.id > r.id))
       ORDER BY r.finished_at LIMIT $2)`,
  ingest_rejects: `
    DELETE FROM ingest_rejects WHERE id IN (
      SELECT id FROM ingest_rejects WHERE created_at < $1 ORDER BY created_at LIMIT $2)`,
  kafka_dead_letters: `
    DELETE FROM kafka_dead_letters WHERE id IN (
      SELECT id FROM kafka_dead_letters WHERE created_at < $1 ORDER BY created_at LIMIT $2)`,
  // Checkpoints untouched for that long belong to finished or abandoned runs: a running ingest updates its objects'
  // rows with every chunk, and a new run of the day plans its objects again.
  ingest_objects: `
    DELETE FROM ingest_objects WHERE (day, object_key) IN (
      SELECT day, object_key FROM ingest_objects WHERE updated_at < $1 ORDER BY updated_at LIMIT $2)`,
  // What each tick of a schedule did; a tick still waiting for its lock (buffered) is kept.
  schedule_ticks: `
    DELETE FROM schedule_ticks WHERE tick_run_id IN (
      SELECT tick_run_id FROM schedule_ticks WHERE recorded_at < $1 AND outcome <> 'buffered' ORDER BY recorded_at LIMIT $2)`,
};

/** Deletes rows of `table` older than `keepDays`, batch after batch until none are left; returns how many. */
export async function pruneTable(
  ds: DataSource,
  input: { table: RetentionTable; keepDays: number; batchSize: number },
  onBatch: (deleted: number) => void = () => undefined,
): Promise<number> {
  const sql = DELETE_BATCH[input.table];
  if (!sql) throw new Error(`retention: unknown table ${String(input.table)}`);
  // One cutoff for the whole pass, so rows that age past it meanwhile wait for the next run instead of prolonging this one.
  const qr = ds.createQueryRunner();
  await qr.connect();
  try {
    const rows: { cutoff: Date }[] = await qr.query(`SELECT now() - make_interval(days => $1) AS cutoff`, [input.keepDays]);
    const cutoff = rows[0]!.cutoff;
    let total = 0;
    for (;;) {
      const res = await qr.query(sql, [cutoff, input.batchSize], true);
      const n = res.affected ?? 0;
      total += n;
      onBatch(total);
      if (n < input.batchSize) return total;
    }
  } finally {
    await qr.release();
  }
}

export function createRetentionActivities(ds: DataSource) {
  return {
    /** One table's pass, heartbeating after every batch; a retry starts over, which only finds what is left. */
    async applyRetention(input: { table: RetentionTable; keepDays: number; batchSize: number }): Promise<number> {
      return pruneTable(ds, input, (deleted) => heartbeatOrStop({ table: input.table, deleted }));
    },
  };
}

export type RetentionActivities = ReturnType<typeof createRetentionActivities>;
