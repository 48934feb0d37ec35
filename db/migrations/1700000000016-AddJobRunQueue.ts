import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Runs of a job with a concurrency limit wait for a permit as `queued`: the status joins the others, and each such
 * run keeps the queue it waits in (the job's, or its group's), when it entered it (its place is its order by that
 * time) and, once it runs, the permit slot it holds. The index serves the waiting runs' "how many are ahead of me"
 * and the listings' running and queued counts.
 */
export class AddJobRunQueue1700000000016 implements MigrationInterface {
  name = 'AddJobRunQueue1700000000016';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE job_runs DROP CONSTRAINT job_runs_status_check`);
    await q.query(`ALTER TABLE job_runs ADD CONSTRAINT job_runs_status_check CHECK (status IN ('queued','running','succeeded','failed','cancelled','timed_out'))`);
    await q.query(`ALTER TABLE job_runs ADD COLUMN concurrency_queue text, ADD COLUMN queued_at timestamptz, ADD COLUMN permit_slot integer`);
    await q.query(`CREATE INDEX job_runs_concurrency_queue ON job_runs (concurrency_queue, status, queued_at, id) WHERE status IN ('queued', 'running')`);
    // The reconciler's queue of open runs to look at in Temporal (job_runs_running covers only `running`).
    await q.query(`CREATE INDEX job_runs_queued ON job_runs (updated_at) WHERE status = 'queued'`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX job_runs_queued`);
    await q.query(`DROP INDEX job_runs_concurrency_queue`);
    await q.query(`ALTER TABLE job_runs DROP COLUMN concurrency_queue, DROP COLUMN queued_at, DROP COLUMN permit_slot`);
    await q.query(`ALTER TABLE job_runs DROP CONSTRAINT job_runs_status_check`);
    await q.query(`ALTER TABLE job_runs ADD CONSTRAINT job_runs_status_check CHECK (status IN ('running','succeeded','failed','cancelled','timed_out'))`);
  }
}
