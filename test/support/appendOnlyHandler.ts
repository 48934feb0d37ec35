import { defineConsumerHandler } from '../../consumers/handler';
import { createCuratedProgramDecoder, type CuratedProgramEvent } from '../../features/curatedPrograms/parse';

/**
 * A handler whose writer has no natural key to deduplicate on: every row it is given is appended. Only the ingest
 * side's applied offsets keep a message from being written twice, so a test of it sees any double write as a row
 * too many.
 */
export const APPEND_ONLY_TABLE_DDL = `
  CREATE TABLE IF NOT EXISTS test_appended_events (topic text NOT NULL, kafka_partition int NOT NULL, kafka_offset bigint NOT NULL, event_id text NOT NULL);
  GRANT SELECT, INSERT ON test_appended_events TO scheduled_job_ingest`;

export const appendOnlyHandler = defineConsumerHandler<CuratedProgramEvent>({
  name: 'test_append_only',
  description: 'every decoded message appended to test_appended_events, without a key',
  readerSchema: 'CuratedProgramEvent.avsc',
  createDecoder: createCuratedProgramDecoder,
  async write(qr, batches) {
    let appended = 0;
    for (const b of batches) {
      if (b.rows.length === 0) continue;
      const res = await qr.query(
        `INSERT INTO test_appended_events (topic, kafka_partition, kafka_offset, event_id)
         SELECT $1, $2, o, e FROM unnest($3::bigint[], $4::text[]) AS t(o, e)`,
        [b.topic, b.partition, b.rows.map((r) => r.offset), b.rows.map((r) => r.eventId)],
        true,
      );
      appended += (res as { affected?: number }).affected ?? 0;
    }
    return appended;
  },
});
