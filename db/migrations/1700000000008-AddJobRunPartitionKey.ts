import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Each run's partition (the value of the argument its definition declares as `partition`, such as its day), written
 * by the run log, so the days view and backfills find a job's runs per partition by index instead of reading `args`.
 * Runs recorded before are filled in by the workers from their definitions (db/jobRuns.ts fillPartitionKeys).
 */
export class AddJobRunPartitionKey1700000000008 implements MigrationInterface {
  name = 'AddJobRunPartitionKey1700000000008';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE job_runs ADD COLUMN partition_key text`);
    // The days view's DISTINCT ON (partition_key) ... ORDER BY partition_key, id DESC, and "did this day succeed".
    await q.query(`CREATE INDEX job_runs_partition ON job_runs (job_name, partition_key, id DESC) WHERE partition_key IS NOT NULL`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX job_runs_partition`);
    await q.query(`ALTER TABLE job_runs DROP COLUMN partition_key`);
  }
}
