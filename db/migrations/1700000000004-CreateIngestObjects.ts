import type { MigrationInterface, QueryRunner } from 'typeorm';

export class CreateIngestObjects1700000000004 implements MigrationInterface {
  name = 'CreateIngestObjects1700000000004';

  async up(q: QueryRunner): Promise<void> {
    // The day's plan and each object's durable checkpoint. A chunk's rows and its checkpoint commit together, so a
    // resumed attempt continues exactly after the last committed chunk. `chain_id` is the first run ID of the job
    // run: retries of one run resume, a new run of the same day starts the objects over (writes stay idempotent).
    await q.query(`
      CREATE TABLE ingest_objects (
        day          date        NOT NULL,
        object_key   text        NOT NULL,
        chain_id     text        NOT NULL,
        batch        integer     NOT NULL,
        size_bytes   bigint      NOT NULL,
        byte_offset  bigint      NOT NULL DEFAULT 0,
        line_number  bigint      NOT NULL DEFAULT 0,
        done         boolean     NOT NULL DEFAULT false,
        chunks       integer     NOT NULL DEFAULT 0,
        bytes_read   bigint      NOT NULL DEFAULT 0,
        lines_read   bigint      NOT NULL DEFAULT 0,
        rows_written bigint      NOT NULL DEFAULT 0,
        duplicates   bigint      NOT NULL DEFAULT 0,
        skipped      bigint      NOT NULL DEFAULT 0,
        rejected     bigint      NOT NULL DEFAULT 0,
        blank        bigint      NOT NULL DEFAULT 0,
        updated_at   timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (day, object_key)
      )`);
    await q.query(`CREATE INDEX ingest_objects_batch ON ingest_objects (day, batch)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE ingest_objects`);
  }
}
