import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { uniqueTag, useStackEnv } from '../support/stack';

const stack = useStackEnv();

import { MockActivityEnvironment } from '@temporalio/testing';
import type { DataSource } from 'typeorm';
import { KafkaRangeReader } from '../../activities/kafkaRangeReader';
import { createKafkaRangeIngestActivities } from '../../activities/kafkaRangeIngest';
import { KafkaTools } from '../../connections/kafkaTools';
import { defineConsumer } from '../../consumers/definition';
import { ConsumerRegistry } from '../../consumers/registry';
import { createDataSource } from '../../db/dataSource';
import { produceCuratedEvents } from '../../scripts/produce-curated-events';
import { openRuntime, type Runtime } from '../../workers/runtime';
import type { RangeIngestResult } from '../../workflows/consumerTypes';
import { APPEND_ONLY_TABLE_DDL, appendOnlyHandler } from '../support/appendOnlyHandler';

// The range ingest's in-transaction guard, on its own: two attempts of one range at once (a retry racing a zombie
// that Temporal gave up on) must write each offset once, even with a writer that has no key to deduplicate on.
describe('the Kafka range ingest, on the real Postgres and Kafka', { timeout: 300_000 }, () => {
  let rt: Runtime;
  let ingestDs: DataSource;
  let kafka: KafkaTools;
  let reader: KafkaRangeReader;
  const tag = uniqueTag('range').replace(/-/g, '_');
  const topic = `range-test.${tag}`;

  before(async () => {
    rt = await openRuntime();
    // Through the ingest role, as the worker writes.
    ingestDs = createDataSource(stack['INGEST_DATABASE_URL'] ?? stack['DATABASE_URL']!, 4);
    await ingestDs.initialize();
    await rt.ds.query(APPEND_ONLY_TABLE_DDL);
    kafka = new KafkaTools(rt.env, 'range-ingest-test');
    reader = new KafkaRangeReader(rt.env);
  });
  after(async () => {
    await kafka?.deleteTopics([topic]).catch(() => undefined);
    await kafka?.close();
    await reader?.close();
    await ingestDs?.destroy();
    await rt?.close();
  });

  test('two attempts of one range at once: each offset written once, the dead letters once, the applied offset at its end', async () => {
    const expected = await produceCuratedEvents({ kafka, topic, count: 6_000, partitions: 1, createTopic: true, seed: 97, prefix: tag });
    const name = `rt_${tag}`;
    const consumers = new ConsumerRegistry([
      defineConsumer({
        name,
        description: 'append-only writer on a test topic',
        topics: [topic],
        groupId: `${topic}.group`,
        handler: appendOnlyHandler,
        wireFormat: 'avro-raw',
        schema: 'CuratedProgramEvent.avsc',
        // Small transactions, so the two attempts take turns on the partition's lock many times.
        batchSize: 50,
      }),
    ]);
    const { ingestKafkaRange } = createKafkaRangeIngestActivities({ ds: ingestDs, consumers, reader });
    const input = { consumer: name, topic, partition: 0, firstOffset: '0', lastOffset: String(expected.messages - 1) };
    const attempt = (): Promise<RangeIngestResult> => new MockActivityEnvironment().run(ingestKafkaRange, input);
    const [a, b] = await Promise.all([attempt(), attempt()]);

    const [r] = (await rt.ds.query(
      `SELECT count(*)::int AS rows, count(DISTINCT kafka_offset)::int AS offsets FROM test_appended_events WHERE topic = $1`,
      [topic],
    )) as { rows: number; offsets: number }[];
    const valid = expected.messages - expected.garbage;
    assert.deepEqual(r, { rows: valid, offsets: valid }, 'every valid message appended once');
    const [d] = (await rt.ds.query(`SELECT count(*)::int AS n FROM kafka_dead_letters WHERE consumer = $1 AND topic = $2`, [name, topic])) as { n: number }[];
    assert.equal(d!.n, expected.garbage);
    // Between them the two attempts stored each message once: what one wrote, the other found applied.
    assert.equal(a.messages + b.messages, expected.messages, `attempt A ${a.messages}, attempt B ${b.messages}`);
    assert.equal(a.deadLetters + b.deadLetters, expected.garbage);
    assert.ok(a.messages > 0 && b.messages > 0, `both attempts wrote part of the range (A ${a.messages}, B ${b.messages}): they raced`);
    const [applied] = (await rt.ds.query(
      `SELECT applied_offset::text AS o FROM kafka_applied_offsets WHERE consumer = $1 AND topic = $2 AND kafka_partition = 0`,
      [name, topic],
    )) as { o: string }[];
    assert.equal(applied?.o, String(expected.messages - 1));
  });
});
