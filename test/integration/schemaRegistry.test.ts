import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import { eventually, REPO, uniqueTag, useStackEnv } from '../support/stack';
import { startWorker, type WorkerProcess, bundleWorkflowsForWorkers, TEST_MODULES } from '../support/workerProcess';
import { removeTestConsumers } from '../support/testConsumerCleanup';

useStackEnv(TEST_MODULES);
const run = promisify(execFile);

import { Type } from 'avsc';
import { KafkaTools } from '../../connections/kafkaTools';
import { SchemaRegistryClient, SchemaRejectedError, schemaRegistryFromEnv, UnknownSchemaIdError } from '../../connections/schemaRegistry';
import { encodeAvro } from '../../consumers/avro';
import { ConsumerRegistry } from '../../consumers/registry';
import { consumerHandlers } from '../../app/consumerHandlers';
import { replayDeadLetters } from '../../features/operations/deadLetterReplay';
import type { CuratedProgramEvent } from '../../features/curatedPrograms/parse';
import {
  GARBAGE_KINDS,
  GARBAGE_REASONS,
  produceCuratedEvents,
  REGISTRY_GARBAGE_KINDS,
  REGISTRY_GARBAGE_REASONS,
  SCHEMA_VERSIONS,
  valueSubject,
  type ExpectedDeadLetter,
  type ProduceResult,
} from '../../scripts/produce-curated-events';
import { testConsumer } from '../support/consumers';
import { openRuntime, type Runtime } from '../../workers/runtime';

const PARTITIONS = 4;
const REASONS: Record<string, RegExp> = { ...GARBAGE_REASONS, ...REGISTRY_GARBAGE_REASONS };

interface Scenario {
  name: string;
  topic: string;
  group: string;
  env: Record<string, string>;
}

function scenario(prefix: string): Scenario {
  const tag = uniqueTag(prefix).replace(/-/g, '_');
  const name = `sr_${tag}`;
  const topic = `registry-test.${tag}`;
  const group = `${topic}.group`;
  return {
    name,
    topic,
    group,
    env: { TEST_CONSUMER_NAME: name, TEST_CONSUMER_TOPIC: topic, TEST_CONSUMER_GROUP: group, TEST_CONSUMER_WIRE_FORMAT: 'confluent', TEST_CONSUMER_BATCH_SIZE: '1000' },
  };
}

describe('the schema registry on the real stack: evolution on decode, producers that register', { timeout: 600_000 }, () => {
  let rt: Runtime;
  let kafka: KafkaTools;
  let registry: SchemaRegistryClient;
  const workers: WorkerProcess[] = [];
  const scenarios: Scenario[] = [];

  before(async () => {
    await bundleWorkflowsForWorkers();
    rt = await openRuntime();
    kafka = new KafkaTools(rt.env, 'schema-registry-test');
    registry = schemaRegistryFromEnv(rt.env);
  });

  after(async () => {
    await Promise.all(workers.map((w) => w.stop()));
    await removeTestConsumers(rt.temporal, kafka, scenarios);
    await kafka.close();
    await rt.close();
  });

  /** Waits until every partition's applied offset (written with its rows) is the partition's last offset. */
  const drained = (s: Scenario, perPartition: number[], timeoutMs = 300_000) =>
    eventually(
      `every partition of ${s.topic} applied to its end`,
      async () => {
        const rows = (await rt.ds.query(`SELECT kafka_partition AS p, applied_offset::text AS o FROM kafka_applied_offsets WHERE consumer = $1`, [s.name])) as {
          p: number;
          o: string;
        }[];
        return rows.length === perPartition.filter((n) => n > 0).length && rows.every((r) => String(perPartition[r.p]! - 1) === r.o);
      },
      timeoutMs,
      250,
    );
  const rowsOf = async (s: Scenario): Promise<Map<string, CuratedProgramEvent>> => {
    const rows = (await rt.ds.query(
      `SELECT event_id, program_id, creator_id, action, occurred_at, title FROM curated_program_events WHERE topic = $1`,
      [s.topic],
    )) as { event_id: string; program_id: string; creator_id: string; action: CuratedProgramEvent['action']; occurred_at: Date; title: string | null }[];
    const out = new Map<string, CuratedProgramEvent>();
    for (const r of rows) {
      assert.ok(!out.has(r.event_id), `event ${r.event_id} stored twice`);
      out.set(r.event_id, { eventId: r.event_id, programId: r.program_id, creatorId: r.creator_id, action: r.action, occurredAt: r.occurred_at.toISOString(), title: r.title });
    }
    return out;
  };
  const deadLettersOf = async (s: Scenario) =>
    (await rt.ds.query(`SELECT kafka_partition AS partition, raw, reason FROM kafka_dead_letters WHERE consumer = $1 AND topic = $2`, [s.name, s.topic])) as {
      partition: number;
      raw: Buffer | null;
      reason: string;
    }[];
  const keyOf = (partition: number, raw: Buffer | null) => `${partition}:${raw === null ? 'tombstone' : raw.toString('hex')}`;

  /** Rows and dead letters against the producer's own record: each event with every field, each dead letter by its bytes. */
  const assertExactly = async (s: Scenario, expected: ProduceResult) => {
    const rows = await rowsOf(s);
    assert.equal(rows.size, expected.expectedRows!.length, 'as many rows as distinct events sent');
    for (const e of expected.expectedRows!) assert.deepEqual(rows.get(e.eventId), e, `event ${e.eventId}`);

    const want = new Map<string, ExpectedDeadLetter[]>();
    for (const d of expected.expectedDeadLetters!) want.set(keyOf(d.partition, d.raw), [...(want.get(keyOf(d.partition, d.raw)) ?? []), d]);
    const got = await deadLettersOf(s);
    assert.equal(got.length, expected.expectedDeadLetters!.length, 'as many dead letters as garbage, unknown-id and misrouted messages sent');
    const byKind = new Map<string, number>();
    for (const g of got) {
      const key = keyOf(g.partition, g.raw);
      const candidates = want.get(key);
      assert.ok(candidates && candidates.length > 0, `a dead letter the producer did not send as garbage (${g.reason}): ${key.slice(0, 80)}`);
      const d = candidates.pop()!;
      const m = REASONS[d.kind]!.exec(g.reason);
      assert.ok(m, `${d.kind}: reason ${JSON.stringify(g.reason)} does not match ${REASONS[d.kind]}`);
      if (d.kind === 'unknown_schema_id') assert.equal(Number(m[1]), d.raw!.readUInt32BE(1), 'the reason names the id the message carries');
      if (d.kind === 'misrouted_schema') assert.equal(Number(m[1]), expected.schemaIds['misrouted']);
      byKind.set(d.kind, (byKind.get(d.kind) ?? 0) + 1);
    }
    return byKind;
  };

  test('the local registry: BACKWARD set at set-up, one id per schema text, 409 for an incompatible schema, 40403 for an unknown id', async () => {
    assert.equal(await registry.compatibility(), 'BACKWARD');
    const subject = valueSubject(`registry-test.${uniqueTag('subject')}`);
    const v1 = JSON.parse(readFileSync(SCHEMA_VERSIONS.v1, 'utf8')) as object;
    const id = await registry.register(subject, v1);
    assert.equal(await registry.register(subject, v1), id, 'registering the same schema again gives its id');
    const v2 = await registry.register(subject, JSON.parse(readFileSync(SCHEMA_VERSIONS.v2, 'utf8')) as object);
    assert.notEqual(v2, id);
    assert.equal((await registry.schemaById(v2)).schemaType, 'AVRO');
    await assert.rejects(
      registry.register(subject, JSON.parse(readFileSync(SCHEMA_VERSIONS.incompatible, 'utf8')) as object),
      (err: Error) => err instanceof SchemaRejectedError && err.status === 409 && /incompatible/.test(err.message) && err.message.includes(subject),
    );
    await assert.rejects(registry.schemaById(0x7ffffff0), UnknownSchemaIdError);
    // A wrong base URL is an unavailable registry (the partition would wait), never "unknown id".
    const wrong = new SchemaRegistryClient({ url: rt.env.SCHEMA_REGISTRY_URL.replace(/\/apis\/ccompat\/v7$/, '/apis/nope') });
    await assert.rejects(wrong.schemaById(id), /unavailable: .*HTTP 404.*is SCHEMA_REGISTRY_URL the Confluent-compatible API/);
  });

  test('the producer script registers under <topic>-value, and says so when the registry refuses a schema (exit 2)', async () => {
    const topic = `registry-test.${uniqueTag('script').replace(/-/g, '_')}`;
    scenarios.push({ name: 'none', topic, group: `${topic}.group`, env: {} });
    const script = path.join(REPO, 'scripts', 'produce-curated-events.ts');
    const ok = await run(process.execPath, ['--import', 'tsx', script, '--topic', topic, '--count', '50', '--wire-format', 'confluent', '--schemas', 'v1,v2'], {
      cwd: REPO,
    });
    const out = JSON.parse(ok.stdout) as ProduceResult;
    assert.deepEqual(Object.keys(out.schemaIds).sort(), ['v1', 'v2']);
    assert.equal((await registry.schemaById(out.schemaIds['v2']!)).schema.includes('curator_id'), true);
    const refused = await run(process.execPath, ['--import', 'tsx', script, '--topic', topic, '--count', '50', '--wire-format', 'confluent', '--schemas', 'incompatible'], {
      cwd: REPO,
    }).then(
      () => assert.fail('the registry accepted an incompatible schema'),
      (err: { code: number; stderr: string; stdout: string }) => err,
    );
    assert.equal(refused.code, 2);
    assert.equal(refused.stdout, '', 'nothing produced');
    assert.match(refused.stderr, new RegExp(`incompatible \\(.*CuratedProgramEvent\\.incompatible\\.avsc\\): the schema registry refused the schema for subject ${topic.replace(/\./g, '\\.')}-value: incompatible with the versions it has under its compatibility rule \\(HTTP 409`));
    assert.deepEqual(
      (await kafka.highWatermarks(topic)).map(Number).reduce((a, b) => a + b, 0),
      50,
      'the refused run produced nothing',
    );
  });

  const main = scenario('mix');
  test('50,000 messages of v1, v2, v3, unknown ids, another topic\'s schema and garbage: exactly the distinct events (defaults filled in) and exactly the dead letters, each with its reason', async () => {
    scenarios.push(main);
    const expected = await produceCuratedEvents({
      kafka,
      topic: main.topic,
      count: 50_000,
      partitions: PARTITIONS,
      createTopic: true,
      seed: 28,
      prefix: main.name,
      wireFormat: 'confluent',
      versions: ['v1', 'v2', 'v3'],
      unknownIdShare: 0.01,
      misroutedShare: 0.005,
      record: true,
    });
    console.log(
      `produced ${expected.messages}: ${expected.distinctValid} distinct (${JSON.stringify(expected.distinctByVersion)}), ${expected.repeats} repeats, ` +
        `${expected.garbage} dead letters to be (${JSON.stringify(expected.garbageByKind)}), ids ${JSON.stringify(expected.schemaIds)}`,
    );
    for (const v of ['v1', 'v2', 'v3']) assert.ok((expected.distinctByVersion[v] ?? 0) > 10_000, `events written with ${v}`);
    const t0 = Date.now();
    workers.push(await startWorker(main.env));
    await drained(main, expected.perPartition);
    console.log(`drained in ${((Date.now() - t0) / 1000).toFixed(1)} s (worker start included)`);
    const byKind = await assertExactly(main, expected);
    for (const kind of [...GARBAGE_KINDS, ...REGISTRY_GARBAGE_KINDS]) {
      assert.equal(byKind.get(kind) ?? 0, expected.garbageByKind[kind] ?? 0, kind);
      assert.ok((byKind.get(kind) ?? 0) > 0, `${kind}: the producer made some`);
    }
  });

  test('a schema change mid-stream (v2 adds an optional field): consumed while it happens, not a single dead letter', async () => {
    const s = scenario('midstream');
    scenarios.push(s);
    // Workers of the test above do not define this consumer and would fail its activities: only its own serves the queue.
    await Promise.all(workers.splice(0).map((w) => w.stop()));
    await kafka.createTopic(s.topic, PARTITIONS);
    workers.push(await startWorker(s.env));
    const first = await produceCuratedEvents({ kafka, topic: s.topic, count: 4000, partitions: PARTITIONS, createTopic: true, seed: 5, prefix: `${s.name}-a`, wireFormat: 'confluent', versions: ['v1'], garbageShare: 0, record: true });
    // Rows of v1 are arriving when v2 is registered and its messages follow on the same partitions.
    await eventually('some v1 events stored', async () => Number(((await rt.ds.query(`SELECT count(*)::int AS n FROM curated_program_events WHERE topic = $1`, [s.topic])) as { n: number }[])[0]!.n));
    const second = await produceCuratedEvents({ kafka, topic: s.topic, count: 4000, partitions: PARTITIONS, seed: 6, prefix: `${s.name}-b`, wireFormat: 'confluent', versions: ['v2'], garbageShare: 0, record: true });
    assert.notEqual(second.schemaIds['v2'], first.schemaIds['v1']);
    await drained(s, first.perPartition.map((n, p) => n + second.perPartition[p]!));
    assert.deepEqual(await deadLettersOf(s), [], 'no dead letter');
    const rows = await rowsOf(s);
    assert.equal(rows.size, first.distinctValid + second.distinctValid);
    for (const e of [...first.expectedRows!, ...second.expectedRows!]) assert.deepEqual(rows.get(e.eventId), e);
  });

  test('replay_dead_letters decodes through the registry: letters written with v2 become rows', async () => {
    const name = `sr_replay_${uniqueTag('r').replace(/[^a-z0-9]/g, '_')}`;
    const consumers = new ConsumerRegistry([testConsumer({ name, topic: 'registry-replay', wireFormat: 'confluent' })], {
      handlers: consumerHandlers,
      writerSchemas: registry,
    });
    const v2 = JSON.parse(readFileSync(SCHEMA_VERSIONS.v2, 'utf8')) as object;
    const id = await registry.register(valueSubject('registry-replay'), v2);
    const raw = encodeAvro(
      Type.forSchema(v2 as never),
      { event_id: `${name}-1`, program_id: 'p', creator_id: 'c', action: 'REMOVED', occurred_at: Date.UTC(2024, 0, 1), title: 't', curator_id: 'x' },
      { wireFormat: 'confluent', schemaId: id },
    );
    await rt.ds.query(`INSERT INTO kafka_dead_letters (consumer, topic, kafka_partition, kafka_offset, reason, raw) VALUES ($1, 'registry-replay', 0, 7, 'simulated', $2)`, [name, raw]);
    const totals = await replayDeadLetters(rt.ds, consumers.get(name), { batchSize: 10 });
    assert.deepEqual(totals, { examined: 1, replayed: 1, alreadyPresent: 0, stillDead: 0 });
    const [row] = (await rt.ds.query(`SELECT action, title FROM curated_program_events WHERE event_id = $1`, [`${name}-1`])) as { action: string; title: string }[];
    assert.deepEqual(row, { action: 'REMOVED', title: 't' });
  });
});
