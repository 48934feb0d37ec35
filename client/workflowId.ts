import type { JobArgs } from '../workflows/types';

/**
 * The workflow-ID convention, and with it the lock: `<job>` or, for a job with a lock key, `<job>/<value>/...` with
 * the lock-key arguments' values in declared order (e.g. `ingest_notification_views/2024-05-01`). The Airflow
 * operator computes the same string (airflow/scheduled_job_airflow/workflow_id.py).
 */
export function workflowIdFor(job: string, lockKey: readonly string[] | undefined, args: JobArgs): string {
  const parts = (lockKey ?? []).map((k) => {
    const v = args[k];
    if (v === undefined || v === null || v === '') throw new Error(`lock key ${k} of ${job} has no value`);
    return String(v);
  });
  return [job, ...parts].join('/');
}
