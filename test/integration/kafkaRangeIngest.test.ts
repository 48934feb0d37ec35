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
import { ensureConsumerControl, lockAppliedOffset, setConsumerPaused } from '../../consumers/store';
import { createDataSource } from '../../db/dataSource';
import { curatedProgramEventsHandler } from '../../features/curatedPrograms/handler';
import { produceCuratedEvents } from '../../scripts/produce-curated-events';
import { openRuntime, type Runtime } from '../../workers/runtime';
import type { RangeIngestResult } from '../../workflows/consumerTypes';
import { APPEND_ONLY_TABLE_DDL, appendOnlyHandler } from '../support/appendOnlyHandler';

// The range ingest's in-transaction guards, on their own: two attempts of one range at once (a retry racing a zombie
// that Temporal gave up on) must write each offset once, even with a writer that has no key to deduplicate on; and a
// pause returns only once the writes in flight have committed, after which no write commits until the resume.
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

  test('a pause waits for the write in flight and then holds: a paused range writes nothing, hands back before its timeout, and goes on from where it stopped', async () => {
    const pausedTopic = `${topic}.paused`;
    const expected = await produceCuratedEvents({ kafka, topic: pausedTopic, count: 3_000, partitions: 1, createTopic: true, seed: 98, prefix: `${tag}-p` });
    const name = `rp_${tag}`;
    const consumers = new ConsumerRegistry([
      defineConsumer({
        name,
        description: 'the shipped writer on a test topic',
        topics: [pausedTopic],
        groupId: `${pausedTopic}.group`,
        handler: 'curated_program_events',
        wireFormat: 'avro-raw',
        schema: 'CuratedProgramEvent.avsc',
        batchSize: 100,
      }),
    ], { handlers: [curatedProgramEventsHandler] });
    await ensureConsumerControl(rt.ds, name);

    // A write in flight holds the control row: the pause answers only after it committed.
    const order: string[] = [];
    const qr = ingestDs.createQueryRunner();
    await qr.connect();
    await qr.startTransaction();
    assert.equal((await lockAppliedOffset(qr, name, pausedTopic, 0)).paused, false);
    const pausing = setConsumerPaused(rt.ds, name, true, 'test').then(() => order.push('pause returned'));
    await new Promise((r) => setTimeout(r, 1000));
    order.push('write commits');
    await qr.commitTransaction();
    await qr.release();
    await pausing;
    assert.deepEqual(order, ['write commits', 'pause returned']);

    const { ingestKafkaRange } = createKafkaRangeIngestActivities({ ds: ingestDs, consumers, reader });
    const input = { consumer: name, topic: pausedTopic, partition: 0, firstOffset: '0', lastOffset: String(expected.messages - 1) };
    const applied = async () =>
      ((await rt.ds.query(`SELECT applied_offset::text AS o, messages::int AS m FROM kafka_applied_offsets WHERE consumer = $1`, [name])) as { o: string; m: number }[])[0];
    // An attempt whose timeout is near hands its range back untouched while paused.
    const handedBack: RangeIngestResult = await new MockActivityEnvironment({ startToCloseTimeoutMs: 62_000 }).run(ingestKafkaRange, input);
    assert.equal(handedBack.paused, true);
    assert.equal(handedBack.appliedOffset, '-1');
    assert.equal(handedBack.messages, 0);
    // An attempt with time to spare waits while paused, writes nothing, and goes on once resumed.
    const running: Promise<RangeIngestResult> = new MockActivityEnvironment({ startToCloseTimeoutMs: 3_600_000 }).run(ingestKafkaRange, input);
    await new Promise((r) => setTimeout(r, 2000));
    assert.deepEqual(await applied(), { o: '-1', m: 0 }, 'nothing written while paused');
    await setConsumerPaused(rt.ds, name, false, 'test');
    const done = await running;
    assert.equal(done.appliedOffset, String(expected.messages - 1));
    assert.equal(done.messages, expected.messages);
    assert.deepEqual(await applied(), { o: String(expected.messages - 1), m: expected.messages });
    const [totals] = (await rt.ds.query(
      `SELECT rows_inserted::int AS rows, duplicates::int AS dups, dead_letters::int AS dead FROM kafka_applied_offsets WHERE consumer = $1`,
      [name],
    )) as { rows: number; dups: number; dead: number }[];
    assert.deepEqual(totals, { rows: expected.distinctValid, dups: expected.repeats, dead: expected.garbage });
    await kafka.deleteTopics([pausedTopic]).catch(() => undefined);
  });
});
