import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Indexes for the `retention` job's batched deletes (each batch finds its oldest rows by index instead of scanning
 * the table), and for keeping the newest succeeded run of each workflow ID (backfill reads it to skip done days).
 */
export class AddRetentionIndexes1700000000006 implements MigrationInterface {
  name = 'AddRetentionIndexes1700000000006';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE INDEX job_runs_finished ON job_runs (finished_at) WHERE status <> 'running'`);
    await q.query(`CREATE INDEX job_runs_succeeded_by_workflow ON job_runs (workflow_id, id) WHERE status = 'succeeded'`);
    await q.query(`CREATE INDEX ingest_rejects_created ON ingest_rejects (created_at)`);
    await q.query(`CREATE INDEX kafka_dead_letters_created ON kafka_dead_letters (created_at)`);
    await q.query(`CREATE INDEX ingest_objects_updated ON ingest_objects (updated_at)`);
  }

  async down(q: QueryRunner): Promise<void> {
    for (const i of ['job_runs_finished', 'job_runs_succeeded_by_workflow', 'ingest_rejects_created', 'kafka_dead_letters_created', 'ingest_objects_updated']) {
      await q.query(`DROP INDEX ${i}`);
    }
  }
}
