import { latestPerPartition, type PartitionRow, type Queryable, type RunStatus } from '../db/jobRuns';
import { partitionRange } from '../jobs/partition';
import type { JobRegistry } from '../jobs/registry';

/** One day of a partitioned job as a data engineer checks it: its latest run, or `missing` when none exists. */
export interface DayRow {
  day: string;
  status: RunStatus | 'missing';
  /** Attempts recorded for the day, over all its runs (whole-job retries, reruns, backfills). */
  attempts: number;
  /** The latest run: the ID its trigger returned (what `status` takes) and its workflow ID. */
  runId: string | null;
  workflowId: string | null;
  /** Rows written and rejects of the latest attempt, from the metrics its definition names (`keyMetrics`). */
  rows: number | null;
  rejects: number | null;
  /** Wall time of the latest attempt, once it ended. */
  durationMs: number | null;
  startedAt: string | null;
  finishedAt: string | null;
  error: string | null;
}

/**
 * Each day from `from` to `to` of `job`: what the API's `GET /jobs/{job}/days`, the CLI's `days` and the console all
 * render. Throws UnknownJobError or InvalidRequestError (a job without a partition, a bad or too wide range).
 */
export async function jobDays(db: Queryable, jobs: JobRegistry, job: string, from: string, to: string): Promise<DayRow[]> {
  const def = jobs.get(job);
  const { values } = partitionRange(def, from, to);
  const found = new Map((await latestPerPartition(db, job, from, to)).map((r) => [r.partition_key, r]));
  const metric = (r: PartitionRow, name: string | undefined) => {
    const v = name === undefined ? undefined : r.metrics[name];
    return typeof v === 'number' ? v : v === undefined ? null : Number(v);
  };
  return values.map((day): DayRow => {
    const r = found.get(day);
    if (!r) {
      return { day, status: 'missing', attempts: 0, runId: null, workflowId: null, rows: null, rejects: null, durationMs: null, startedAt: null, finishedAt: null, error: null };
    }
    return {
      day,
      status: r.status,
      attempts: r.attempts,
      runId: r.first_run_id,
      workflowId: r.workflow_id,
      rows: metric(r, def.keyMetrics?.rows),
      rejects: metric(r, def.keyMetrics?.rejects),
      durationMs: r.finished_at ? r.finished_at.getTime() - r.started_at.getTime() : null,
      startedAt: r.started_at.toISOString(),
      finishedAt: r.finished_at ? r.finished_at.toISOString() : null,
      error: r.error,
    };
  });
}
