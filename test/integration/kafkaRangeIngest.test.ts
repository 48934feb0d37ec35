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
import { defineConsumerHandler } from '../../consumers/handler';
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
  const readers: KafkaRangeReader[] = [];
  const tag = uniqueTag('range').replace(/-/g, '_');
  const topic = `range-test.${tag}`;

  before(async () => {
    rt = await openRuntime();
    // Through the ingest role, as the worker writes.
    ingestDs = createDataSource(stack['INGEST_DATABASE_URL'] ?? stack['DATABASE_URL']!, 4);
    await ingestDs.initialize();
    await rt.ds.query(APPEND_ONLY_TABLE_DDL);
    kafka = new KafkaTools(rt.env, 'range-ingest-test');
  });
  after(async () => {
    await kafka?.deleteTopics([topic]).catch(() => undefined);
    await kafka?.close();
    await Promise.all(readers.map((r) => r.close()));
    await ingestDs?.destroy();
    await rt?.close();
  });

  test('two attempts of one range at once: each offset written once, the dead letters once, the applied offset at its end', async () => {
    const expected = await produceCuratedEvents({ kafka, topic, count: 6_000, partitions: 1, createTopic: true, seed: 97, prefix: tag });
    const name = `rt_${tag}`;
    // Each attempt gets its own writer and reader, so the test can see which attempt wrote and hold one back.
    const wrote = [false, false];
    const done = [false, false];
    const fetches = [0, 0];
    const attemptActivities = (i: 0 | 1) => {
      const consumers = new ConsumerRegistry([
        defineConsumer({
          name,
          description: 'append-only writer on a test topic',
          topics: [topic],
          groupId: `${topic}.group`,
          handler: defineConsumerHandler({
            ...appendOnlyHandler,
            async write(qr, batches) {
              if (batches.some((b) => b.rows.length > 0)) wrote[i] = true;
              return appendOnlyHandler.write(qr, batches);
            },
          }),
          wireFormat: 'avro-raw',
          schema: 'CuratedProgramEvent.avsc',
          // Small transactions, so the two attempts take turns on the partition's lock many times.
          batchSize: 50,
        }),
      ]);
      // The interleaving the guard exists for, made to happen: before an attempt takes its second fetch it waits until
      // the other attempt has written (or ended), so each attempt writes part of the range whatever the scheduling.
      // An attempt that wrote nothing of its first fetch finds the other has; the one that waits holds no lock.
      const barrier = new (class extends KafkaRangeReader {
        override async *read(t: string, partition: number, from: bigint, to: bigint) {
          for await (const chunk of super.read(t, partition, from, to)) {
            if (++fetches[i]! > 1) while (!wrote[1 - i] && !done[1 - i]) await new Promise((r) => setTimeout(r, 10));
            yield chunk;
          }
        }
      })(rt.env);
      readers.push(barrier);
      return createKafkaRangeIngestActivities({ ds: ingestDs, consumers, reader: barrier });
    };
    const input = { consumer: name, topic, partition: 0, firstOffset: '0', lastOffset: String(expected.messages - 1) };
    const attempt = async (i: 0 | 1): Promise<RangeIngestResult> => {
      try {
        return (await new MockActivityEnvironment().run(attemptActivities(i).ingestKafkaRange, input)) as RangeIngestResult;
      } finally {
        done[i] = true;
      }
    };
    const [a, b] = await Promise.all([attempt(0), attempt(1)]);

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
    // Set-up, not luck: the range spans several fetches, so the barrier made both attempts write a part of it.
    assert.ok(fetches[0]! > 1 && fetches[1]! > 1, `the range must span several fetches (attempts fetched ${fetches.join(' and ')} times): produce more`);
    assert.ok(a.messages > 0 && b.messages > 0, `both attempts wrote part of the range (A ${a.messages}, B ${b.messages})`);
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

    const reader = new KafkaRangeReader(rt.env);
    readers.push(reader);
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
