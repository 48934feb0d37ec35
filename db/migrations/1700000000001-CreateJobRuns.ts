import type { MigrationInterface, QueryRunner } from 'typeorm';

export class CreateJobRuns1700000000001 implements MigrationInterface {
  name = 'CreateJobRuns1700000000001';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE job_runs (
        id            bigserial PRIMARY KEY,
        job_name      text        NOT NULL,
        workflow_id   text        NOT NULL,
        run_id        text        NOT NULL UNIQUE,
        -- whole-job retries start new runs; the first run's ID is what a trigger returns, so status follows it
        first_run_id  text        NOT NULL,
        attempt       integer     NOT NULL,
        status        text        NOT NULL CHECK (status IN ('running','succeeded','failed','cancelled','timed_out')),
        args          jsonb       NOT NULL DEFAULT '{}'::jsonb,
        started_at    timestamptz NOT NULL DEFAULT now(),
        finished_at   timestamptz,
        error         text,
        metrics       jsonb       NOT NULL DEFAULT '{}'::jsonb,
        updated_at    timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`CREATE INDEX job_runs_job_started ON job_runs (job_name, started_at DESC)`);
    await q.query(`CREATE INDEX job_runs_first_run ON job_runs (first_run_id, attempt DESC)`);
    await q.query(`CREATE INDEX job_runs_running ON job_runs (updated_at) WHERE status = 'running'`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE job_runs`);
  }
}
