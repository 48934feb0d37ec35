import type { MigrationInterface, QueryRunner } from 'typeorm';
import { INGEST_ROLE } from './1700000000005-CreateIngestRole';

/**
 * What an operator asks of a consumer, kept where it survives any crash:
 * - per partition, beside the applied offset and in the same row the range write updates, what was applied to reach
 *   it: messages, new rows, duplicates, dead letters and offsets lost to Kafka's retention. Rows that exist before
 *   this migration count from their next offset on (`counted_from`); a partition first written after it, from its
 *   first write.
 * - `kafka_consumer_controls`: whether a consumer is paused. Every range write holds its consumer's row FOR SHARE, so
 *   a pause (an UPDATE of that row) returns only after the writes in flight have committed, and no write commits
 *   after it.
 * - `kafka_consumer_hosts`: which worker hosts a consumer and when it last said so (the `stale` state).
 */
export class AddConsumerTotalsAndControls1700000000010 implements MigrationInterface {
  name = 'AddConsumerTotalsAndControls1700000000010';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      ALTER TABLE kafka_applied_offsets
        ADD COLUMN messages      bigint NOT NULL DEFAULT 0,
        ADD COLUMN rows_inserted bigint NOT NULL DEFAULT 0,
        ADD COLUMN duplicates    bigint NOT NULL DEFAULT 0,
        ADD COLUMN dead_letters  bigint NOT NULL DEFAULT 0,
        ADD COLUMN lost_offsets  bigint NOT NULL DEFAULT 0,
        ADD COLUMN counted_from  bigint`);
    await q.query(`UPDATE kafka_applied_offsets SET counted_from = applied_offset + 1`);
    await q.query(`
      CREATE TABLE kafka_consumer_controls (
        consumer   text        PRIMARY KEY,
        paused     boolean     NOT NULL DEFAULT false,
        changed_at timestamptz NOT NULL DEFAULT now(),
        changed_by text
      )`);
    await q.query(`
      CREATE TABLE kafka_consumer_hosts (
        consumer            text             PRIMARY KEY,
        hostname            text             NOT NULL,
        pid                 integer          NOT NULL,
        attempt             integer          NOT NULL,
        started_at          timestamptz      NOT NULL,
        seen_at             timestamptz      NOT NULL,
        messages_per_second double precision
      )`);
    const schema = ((await q.query(`SELECT quote_ident(current_schema()) AS schema`)) as { schema: string }[])[0]!.schema;
    // The range write locks its consumer's control row FOR SHARE (which takes UPDATE rights) and creates it; the
    // consumer activity keeps its host row.
    await q.query(`GRANT SELECT, INSERT, UPDATE ON ${schema}.kafka_consumer_controls TO ${INGEST_ROLE}`);
    await q.query(`GRANT SELECT, INSERT, UPDATE ON ${schema}.kafka_consumer_hosts TO ${INGEST_ROLE}`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE kafka_consumer_hosts`);
    await q.query(`DROP TABLE kafka_consumer_controls`);
    await q.query(`
      ALTER TABLE kafka_applied_offsets
        DROP COLUMN messages, DROP COLUMN rows_inserted, DROP COLUMN duplicates, DROP COLUMN dead_letters,
        DROP COLUMN lost_offsets, DROP COLUMN counted_from`);
  }
}
