import type { Queryable } from './jobRuns';

/** Every statement on `schedule_ticks`: what each tick of a job's schedule did. */

export type TickOutcome = 'started' | 'skipped' | 'buffered';

export interface TickRecord {
  tickRunId: string;
  tickWorkflowId: string;
  job: string;
  scheduleId: string;
  scheduledAt: string;
  partitionKey: string | null;
  outcome: TickOutcome;
  reason: string | null;
  /** The lock the tick went for, and the run it started or that held the lock. */
  workflowId: string | null;
  runId: string | null;
}

export interface TickRow {
  tick_run_id: string;
  tick_workflow_id: string;
  job_name: string;
  schedule_id: string;
  scheduled_at: Date;
  partition_key: string | null;
  outcome: TickOutcome;
  reason: string | null;
  workflow_id: string | null;
  run_id: string | null;
  recorded_at: Date;
  updated_at: Date;
}

const COLUMNS = `(tick_run_id, tick_workflow_id, job_name, schedule_id, scheduled_at, partition_key, outcome, reason, workflow_id, run_id)`;
const values = (t: TickRecord) => [t.tickRunId, t.tickWorkflowId, t.job, t.scheduleId, t.scheduledAt, t.partitionKey, t.outcome, t.reason, t.workflowId, t.runId];

/** The tick's outcome; an upsert, so a retried write (or a waiting tick that starts at last) keeps one row. */
export async function recordTick(db: Queryable, t: TickRecord): Promise<void> {
  await db.query(
    `INSERT INTO schedule_ticks ${COLUMNS} VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
     ON CONFLICT (tick_run_id) DO UPDATE
       SET outcome = EXCLUDED.outcome, reason = EXCLUDED.reason, workflow_id = EXCLUDED.workflow_id,
           run_id = EXCLUDED.run_id, partition_key = EXCLUDED.partition_key, updated_at = now()`,
    values(t),
  );
}

/**
 * Records the tick as waiting for its lock unless another tick already waits for it (one waiting tick per lock);
 * true when this tick is the one waiting, also when a retried call finds its own row.
 */
export async function claimWait(db: Queryable, t: TickRecord & { outcome: 'buffered' }): Promise<boolean> {
  await db.query(`INSERT INTO schedule_ticks ${COLUMNS} VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) ON CONFLICT DO NOTHING`, values(t));
  const rows = (await db.query(`SELECT outcome FROM schedule_ticks WHERE tick_run_id = $1`, [t.tickRunId])) as { outcome: TickOutcome }[];
  return rows[0]?.outcome === 'buffered';
}

/** A job's ticks, latest scheduled first. */
export async function ticksOf(db: Queryable, job: string, limit: number): Promise<TickRow[]> {
  return (await db.query(`SELECT * FROM schedule_ticks WHERE job_name = $1 ORDER BY scheduled_at DESC, recorded_at DESC LIMIT $2`, [job, limit])) as TickRow[];
}

/** The latest tick of each of these jobs. */
export async function lastTicks(db: Queryable, jobs: string[]): Promise<Map<string, TickRow>> {
  const rows = (await db.query(
    `SELECT DISTINCT ON (job_name) * FROM schedule_ticks WHERE job_name = ANY($1) ORDER BY job_name, scheduled_at DESC, recorded_at DESC`,
    [jobs],
  )) as TickRow[];
  return new Map(rows.map((r) => [r.job_name, r]));
}
