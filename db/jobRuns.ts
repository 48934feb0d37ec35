import type { JobArgs, JobMetrics } from '../workflows/types';

/**
 * Every statement on `job_runs`, the run log: one row per attempt, keyed by its Temporal run ID, chained by the first
 * run ID of the chain. The attempt itself (through the run-log activities) writes its status; the client only opens
 * the first row so that a status call right after a trigger finds it, and the reconciler only closes rows whose runs
 * Temporal ended without their code. Reads never write.
 */

/** `queued`: a run of a job with a concurrency limit, waiting for a permit (it has not started its work). */
export type RunStatus = 'queued' | 'running' | 'succeeded' | 'failed' | 'cancelled' | 'timed_out';
export const TERMINAL_STATUSES: readonly RunStatus[] = ['succeeded', 'failed', 'cancelled', 'timed_out'];
export type TerminalStatus = Exclude<RunStatus, 'queued' | 'running'>;
/** A run that has not ended: waiting for a permit, or running. */
export const OPEN_STATUSES: readonly RunStatus[] = ['queued', 'running'];

/**
 * A DataSource, a QueryRunner or a plain pg pool (db/pgQueryable.ts, the CLI's): the statements run on whichever
 * connection the caller holds, and get rows back as TypeORM returns them.
 */
export interface Queryable {
  query(sql: string, parameters?: unknown[]): Promise<unknown>;
}

export interface JobRunRow {
  job_name: string;
  workflow_id: string;
  run_id: string;
  first_run_id: string;
  attempt: number;
  status: RunStatus;
  args: JobArgs;
  started_at: Date;
  finished_at: Date | null;
  error: string | null;
  metrics: JobMetrics;
  partition_key: string | null;
  /** For a job with a concurrency limit: the queue the run waits in, when it entered it, the permit slot it holds. */
  concurrency_queue: string | null;
  queued_at: Date | null;
  permit_slot: number | null;
}

const rowsOf = async <T>(db: Queryable, sql: string, params: unknown[]): Promise<T[]> => (await db.query(sql, params)) as T[];

/**
 * The first attempt's row, opened by the trigger; the attempt's own upsert completes it. A run of a limited job opens
 * `queued` in its queue: its place there dates from the trigger.
 */
export async function openRun(
  db: Queryable,
  r: { job: string; workflowId: string; runId: string; args: JobArgs; partitionKey: string | null; concurrencyQueue: string | null },
): Promise<void> {
  await db.query(
    `INSERT INTO job_runs (job_name, workflow_id, run_id, first_run_id, attempt, status, args, partition_key, concurrency_queue, queued_at)
     VALUES ($1, $2, $3, $3, 1, CASE WHEN $6::text IS NULL THEN 'running' ELSE 'queued' END, $4, $5, $6,
             CASE WHEN $6::text IS NULL THEN NULL ELSE now() END)
     ON CONFLICT (run_id) DO NOTHING`,
    [r.job, r.workflowId, r.runId, r.args, r.partitionKey, r.concurrencyQueue],
  );
}

/**
 * An attempt's row, running, queued for a permit (`concurrencyQueue` set) or already refused: an upsert, so a retried
 * activity never adds a second one, and a queued run keeps the place its trigger gave it.
 */
export async function openAttempt(
  db: Queryable,
  a: {
    job: string;
    workflowId: string;
    runId: string;
    firstRunId: string;
    attempt: number;
    args: JobArgs;
    partitionKey: string | null;
    concurrencyQueue: string | null;
    refusal: string | null;
  },
): Promise<void> {
  const status = a.refusal ? 'failed' : a.concurrencyQueue ? 'queued' : 'running';
  await db.query(
    `INSERT INTO job_runs (job_name, workflow_id, run_id, first_run_id, attempt, status, args, error, finished_at, partition_key, concurrency_queue, queued_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, CASE WHEN $6 IN ('running', 'queued') THEN NULL ELSE now() END, $9, $10,
             CASE WHEN $6 = 'queued' THEN now() END)
     ON CONFLICT (run_id) DO UPDATE
       SET attempt = EXCLUDED.attempt, status = EXCLUDED.status, args = EXCLUDED.args, error = EXCLUDED.error,
           finished_at = EXCLUDED.finished_at, partition_key = EXCLUDED.partition_key,
           concurrency_queue = EXCLUDED.concurrency_queue,
           queued_at = CASE WHEN EXCLUDED.status = 'queued' THEN COALESCE(job_runs.queued_at, EXCLUDED.queued_at) END,
           updated_at = now()`,
    [a.job, a.workflowId, a.runId, a.firstRunId, a.attempt, status, a.args, a.refusal, a.partitionKey, a.concurrencyQueue],
  );
}

/** A queued run that took permit `slot`: it runs from now. */
export async function admitRun(db: Queryable, runId: string, slot: number): Promise<void> {
  await db.query(
    `UPDATE job_runs SET status = 'running', permit_slot = $2, started_at = now(), updated_at = now() WHERE run_id = $1 AND status = 'queued'`,
    [runId, slot],
  );
}

/**
 * Where a queued run stands in its queue: how many queued runs entered it before (its place is that plus one), and
 * how many running runs hold a slot at or above `limit` (after a lowered limit, they count against it until they end).
 * Null when the run is not queued.
 */
export async function queuePlace(db: Queryable, queue: string, runId: string, limit: number): Promise<{ ahead: number; aboveLimit: number } | null> {
  const rows = await rowsOf<{ ahead: number; above_limit: number }>(
    db,
    `SELECT (SELECT count(*) FROM job_runs r
              WHERE r.concurrency_queue = $1 AND r.status = 'queued' AND (r.queued_at, r.id) < (me.queued_at, me.id))::int AS ahead,
            (SELECT count(*) FROM job_runs r
              WHERE r.concurrency_queue = $1 AND r.status = 'running' AND r.permit_slot >= $3)::int AS above_limit
       FROM job_runs me WHERE me.run_id = $2 AND me.status = 'queued'`,
    [queue, runId, limit],
  );
  return rows[0] ? { ahead: rows[0].ahead, aboveLimit: rows[0].above_limit } : null;
}

/** The rows that say a run of `queue` holds `slot` (the run log's view; the permit workflow is the truth). */
export async function runningInSlot(db: Queryable, queue: string, slot: number): Promise<{ workflow_id: string; run_id: string }[]> {
  return rowsOf(db, `SELECT workflow_id, run_id FROM job_runs WHERE concurrency_queue = $1 AND status = 'running' AND permit_slot = $2`, [queue, slot]);
}

/** The place (1 = next) of each of these queued runs in its queue, by run ID. */
export async function queuePositions(db: Queryable, runIds: readonly string[]): Promise<Map<string, number>> {
  if (runIds.length === 0) return new Map();
  const rows = await rowsOf<{ run_id: string; place: number }>(
    db,
    `SELECT me.run_id, 1 + (SELECT count(*) FROM job_runs r
                             WHERE r.concurrency_queue = me.concurrency_queue AND r.status = 'queued'
                               AND (r.queued_at, r.id) < (me.queued_at, me.id))::int AS place
       FROM job_runs me WHERE me.run_id = ANY($1::text[]) AND me.status = 'queued'`,
    [runIds],
  );
  return new Map(rows.map((r) => [r.run_id, r.place]));
}

/** How many runs of each job are running and queued now, as the run log has them. */
export async function openCounts(db: Queryable, jobs: readonly string[]): Promise<Map<string, { running: number; queued: number }>> {
  const rows = await rowsOf<{ job_name: string; running: number; queued: number }>(
    db,
    `SELECT job_name, count(*) FILTER (WHERE status = 'running')::int AS running, count(*) FILTER (WHERE status = 'queued')::int AS queued
       FROM job_runs WHERE status IN ('queued', 'running') AND job_name = ANY($1::text[]) GROUP BY job_name`,
    [jobs],
  );
  return new Map(rows.map((r) => [r.job_name, { running: r.running, queued: r.queued }]));
}

/** The attempt's end, as its own code saw it; returns what the caller needs for the duration metric. */
export async function finishAttempt(
  db: Queryable,
  f: { runId: string; status: TerminalStatus; error: string | null; metrics: JobMetrics },
): Promise<{ job_name: string; started_at: Date } | undefined> {
  // TypeORM returns [rows, affectedCount] for an UPDATE ... RETURNING.
  const [rows] = (await db.query(
    `UPDATE job_runs SET status = $2, error = $3, metrics = metrics || $4::jsonb, finished_at = now(), updated_at = now()
     WHERE run_id = $1 RETURNING job_name, started_at`,
    [f.runId, f.status, f.error, f.metrics],
  )) as [{ job_name: string; started_at: Date }[], number];
  return rows[0];
}

/** Adds counter deltas to a running attempt's live metrics. */
export async function addProgress(db: Queryable, runId: string, deltas: Record<string, number>): Promise<void> {
  await db.query(
    `UPDATE job_runs SET updated_at = now(), metrics = metrics || (
        SELECT jsonb_object_agg(k, coalesce((metrics->>k)::bigint, 0) + v::bigint) FROM jsonb_each_text($2::jsonb) AS d(k, v))
      WHERE run_id = $1`,
    [runId, deltas],
  );
}

/** The latest attempt of the chain that `runId` (any of its runs) belongs to. */
export async function latestOfChain(db: Queryable, job: string, runId: string): Promise<JobRunRow | undefined> {
  const rows = await rowsOf<JobRunRow>(
    db,
    `SELECT r.* FROM job_runs r
      WHERE r.first_run_id = (SELECT first_run_id FROM job_runs WHERE run_id = $1 AND job_name = $2)
      ORDER BY r.attempt DESC LIMIT 1`,
    [runId, job],
  );
  return rows[0];
}

/** Each chain's latest attempt, for one job. */
export async function latestPerChain(db: Queryable, job: string): Promise<JobRunRow[]> {
  return rowsOf<JobRunRow>(db, `SELECT DISTINCT ON (first_run_id) * FROM job_runs WHERE job_name = $1 ORDER BY first_run_id, attempt DESC`, [job]);
}

/** Whether the job has a succeeded run of this partition (a backfill skips it). */
export async function partitionSucceeded(db: Queryable, job: string, partitionKey: string): Promise<boolean> {
  const rows = await rowsOf<unknown>(
    db,
    `SELECT 1 FROM job_runs WHERE job_name = $1 AND partition_key = $2 AND status = 'succeeded' LIMIT 1`,
    [job, partitionKey],
  );
  return rows.length > 0;
}

/** The latest attempt of one partition (for its freshness deadline), or undefined when it never ran. */
export async function latestOfPartition(db: Queryable, job: string, partitionKey: string): Promise<JobRunRow | undefined> {
  const rows = await rowsOf<JobRunRow>(db, `SELECT * FROM job_runs WHERE job_name = $1 AND partition_key = $2 ORDER BY id DESC LIMIT 1`, [job, partitionKey]);
  return rows[0];
}

/** The latest attempt of each partition from `from` to `to` (values sort as text in their order), with its count. */
export interface PartitionRow {
  partition_key: string;
  first_run_id: string;
  workflow_id: string;
  status: RunStatus;
  started_at: Date;
  finished_at: Date | null;
  error: string | null;
  metrics: JobMetrics;
  /** Attempts recorded for the partition, over all its runs. */
  attempts: number;
}

export async function latestPerPartition(db: Queryable, job: string, from: string, to: string): Promise<PartitionRow[]> {
  const rows = await rowsOf<PartitionRow & { attempts: string }>(
    db,
    `SELECT DISTINCT ON (partition_key) partition_key, first_run_id, workflow_id, status, started_at, finished_at, error, metrics,
            count(*) OVER (PARTITION BY partition_key) AS attempts
       FROM job_runs WHERE job_name = $1 AND partition_key BETWEEN $2 AND $3
      ORDER BY partition_key, id DESC`,
    [job, from, to],
  );
  return rows.map((r) => ({ ...r, attempts: Number(r.attempts) }));
}

/**
 * Sets the partition of runs recorded before the column existed (or before their job declared one) from their
 * arguments, in batches; returns how many it set. The workers call it at start-up for each partitioned job.
 */
export async function fillPartitionKeys(db: Queryable, job: string, arg: string, batch = 5000): Promise<number> {
  let total = 0;
  for (;;) {
    const [, n] = (await db.query(
      `UPDATE job_runs SET partition_key = args->>$2
        WHERE id IN (SELECT id FROM job_runs WHERE job_name = $1 AND partition_key IS NULL AND jsonb_typeof(args->$2) = 'string' LIMIT $3)`,
      [job, arg, batch],
    )) as [unknown, number];
    total += n;
    if (n < batch) return total;
  }
}

/** Open rows (running or queued) nobody has touched for `olderThanMs`, oldest first: the reconciler's queue. */
export async function staleRunning(db: Queryable, olderThanMs: number, limit: number): Promise<JobRunRow[]> {
  return rowsOf<JobRunRow>(
    db,
    `(SELECT * FROM job_runs WHERE status = 'running' AND updated_at < now() - make_interval(secs => $1) ORDER BY updated_at LIMIT $2)
     UNION ALL
     (SELECT * FROM job_runs WHERE status = 'queued' AND updated_at < now() - make_interval(secs => $1) ORDER BY updated_at LIMIT $2)
     ORDER BY updated_at LIMIT $2`,
    [olderThanMs / 1000, limit],
  );
}

/** Sends a row to the back of the reconciler's queue. */
export async function touch(db: Queryable, runId: string): Promise<void> {
  await db.query(`UPDATE job_runs SET updated_at = now() WHERE run_id = $1`, [runId]);
}

/** Records the end Temporal saw for a run whose code could not record it (terminate, timeout, deleted). */
export async function closeFromTemporal(db: Queryable, c: { runId: string; status: RunStatus; error: string | null; closedAt: string }): Promise<void> {
  await db.query(
    `UPDATE job_runs SET status = $2, error = COALESCE(error, $3), finished_at = $4, updated_at = now()
      WHERE run_id = $1 AND status IN ('running', 'queued')`,
    [c.runId, c.status, c.error, c.closedAt],
  );
}

/** Every attempt of the chain that `runId` (any of its runs) belongs to, first attempt first. */
export async function attemptsOfChain(db: Queryable, job: string, runId: string): Promise<JobRunRow[]> {
  return rowsOf<JobRunRow>(
    db,
    `SELECT r.* FROM job_runs r
      WHERE r.first_run_id = (SELECT first_run_id FROM job_runs WHERE run_id = $1 AND job_name = $2)
      ORDER BY r.attempt`,
    [runId, job],
  );
}

export interface JobRecord {
  job: string;
  /** The latest attempt of the job's most recently started run. */
  last: JobRunRow | null;
  /** Runs started in the window whose latest attempt succeeded, and those that ended at all. */
  succeeded: number;
  finished: number;
}

/** Per job: its latest run and how its runs started in the last `days` days ended (each run by its latest attempt). */
export async function jobRecords(db: Queryable, jobs: readonly string[], days: number): Promise<JobRecord[]> {
  const counts = await rowsOf<{ job: string; succeeded: number; finished: number; last_chain: string | null }>(
    db,
    `WITH chains AS (
       SELECT DISTINCT ON (first_run_id) job_name, status FROM job_runs
        WHERE job_name = ANY($1::text[]) AND started_at >= now() - make_interval(days => $2) ORDER BY first_run_id, attempt DESC)
     SELECT j.job,
            (SELECT count(*) FROM chains c WHERE c.job_name = j.job AND c.status = 'succeeded')::int AS succeeded,
            (SELECT count(*) FROM chains c WHERE c.job_name = j.job AND c.status NOT IN ('running', 'queued'))::int AS finished,
            (SELECT first_run_id FROM job_runs r WHERE r.job_name = j.job ORDER BY started_at DESC LIMIT 1) AS last_chain
       FROM unnest($1::text[]) AS j(job)`,
    [jobs, days],
  );
  const chains = counts.flatMap((c) => (c.last_chain ? [c.last_chain] : []));
  const latest = await rowsOf<JobRunRow>(
    db,
    `SELECT DISTINCT ON (first_run_id) * FROM job_runs WHERE first_run_id = ANY($1::text[]) ORDER BY first_run_id, attempt DESC`,
    [chains],
  );
  const byChain = new Map(latest.map((r) => [r.first_run_id, r]));
  return counts.map((c) => ({ job: c.job, succeeded: c.succeeded, finished: c.finished, last: (c.last_chain && byChain.get(c.last_chain)) || null }));
}
