import type { MigrationInterface, QueryRunner } from 'typeorm';

export class CreateCuratedProgramEvents1700000000003 implements MigrationInterface {
  name = 'CreateCuratedProgramEvents1700000000003';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE curated_program_events (
        event_id        text        PRIMARY KEY,
        program_id      text        NOT NULL,
        creator_id      text        NOT NULL,
        action          text        NOT NULL CHECK (action IN ('ADDED','REMOVED','UPDATED')),
        occurred_at     timestamptz NOT NULL,
        title           text,
        topic           text        NOT NULL,
        kafka_partition integer     NOT NULL,
        kafka_offset    bigint      NOT NULL
      )`);
    await q.query(`
      CREATE TABLE kafka_dead_letters (
        id              bigserial   PRIMARY KEY,
        consumer        text        NOT NULL,
        topic           text        NOT NULL,
        kafka_partition integer     NOT NULL,
        kafka_offset    bigint      NOT NULL,
        reason          text        NOT NULL,
        raw             bytea,
        created_at      timestamptz NOT NULL DEFAULT now(),
        -- redelivery after a crash must not quarantine the same message twice
        UNIQUE (consumer, topic, kafka_partition, kafka_offset)
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE kafka_dead_letters`);
    await q.query(`DROP TABLE curated_program_events`);
  }
}
