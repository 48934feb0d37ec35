import type { MigrationInterface, QueryRunner } from 'typeorm';
import { INGEST_ROLE } from './1700000000005-CreateIngestRole';

/**
 * The stream ingest's checkpoint: the highest Kafka offset whose rows and dead letters are written, per consumer and
 * partition. It is updated in the same transaction as those rows, so an offset range that was already applied (a
 * redelivered descriptor, a retried activity) is recognised and skipped, even for events without a natural key.
 */
export class CreateKafkaAppliedOffsets1700000000007 implements MigrationInterface {
  name = 'CreateKafkaAppliedOffsets1700000000007';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE kafka_applied_offsets (
        consumer        text        NOT NULL,
        topic           text        NOT NULL,
        kafka_partition integer     NOT NULL,
        applied_offset  bigint      NOT NULL,
        updated_at      timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (consumer, topic, kafka_partition)
      )`);
    const schema = ((await q.query(`SELECT quote_ident(current_schema()) AS schema`)) as { schema: string }[])[0]!.schema;
    // The ingest activity reads, creates and advances its partition's row; the consumer reads them for its lead.
    await q.query(`GRANT SELECT, INSERT, UPDATE ON ${schema}.kafka_applied_offsets TO ${INGEST_ROLE}`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE kafka_applied_offsets`);
  }
}
