import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, test } from 'node:test';
import { builtinConsumers } from '../../app/consumers';
import { defineConsumer, type ConsumerDefinition } from '../../consumers/definition';
import { consumerWorkflowId, ingestWorkflowId } from '../../workflows/consumerIds';
import { loadConsumerRegistry } from '../../consumers/load';
import { ConsumerDefinitionError, ConsumerRegistry } from '../../consumers/registry';
import { consumerHandlers } from '../../app/consumerHandlers';
import { curatedProgramEventsHandler } from '../../features/curatedPrograms/handler';
import { SCHEMA_VERSIONS } from '../../scripts/produce-curated-events';
import { FixedSchemas } from '../support/fixedSchemas';

const shipped = { consumers: builtinConsumers, handlers: consumerHandlers };
const registry = (defs: ConsumerDefinition[]) => new ConsumerRegistry(defs, { handlers: consumerHandlers });

const base = (over: Partial<ConsumerDefinition>): ConsumerDefinition =>
  defineConsumer({
    name: 'demo_consumer',
    description: 'a consumer',
    topics: ['demo-topic'],
    groupId: 'demo.group',
    handler: 'curated_program_events',
    wireFormat: 'avro-raw',
    schema: 'CuratedProgramEvent.avsc',
    ...over,
  } as ConsumerDefinition);

const tmp = mkdtempSync(path.join(tmpdir(), 'consumer-registry-'));
const badJson = path.join(tmp, 'bad.avsc');
writeFileSync(badJson, '{ not json');
const notAvro = path.join(tmp, 'not-avro.avsc');
writeFileSync(notAvro, JSON.stringify({ type: 'record', name: 'X', fields: [{ name: 'a', type: 'nope' }] }));
const incompatible = path.join(tmp, 'other.avsc');
writeFileSync(incompatible, JSON.stringify({ type: 'record', name: 'CuratedProgramEvent', namespace: 'com.creatornotifications.curatedprogram', fields: [{ name: 'event_id', type: 'long' }] }));

describe('consumer definitions', () => {
  test('the shipped CuratedProgram consumer is valid and has the documented topic and group', () => {
    const reg = registry(builtinConsumers);
    const c = reg.get('curated_program');
    assert.deepEqual(c.topics, ['curated-program-events']);
    assert.equal(c.groupId, 'creator-notifications.curated-program');
    assert.equal(c.fromBeginning, true);
    assert.equal(c.workflow.heartbeatTimeoutMs, 20_000);
    assert.equal(c.partitionsPerIngestWorkflow, 1);
  });

  const invalid: [string, Partial<ConsumerDefinition>, RegExp][] = [
    ['a bad name', { name: 'Bad-Name' }, /consumer "?Bad-Name"?: name: must be lower_snake_case/],
    ['an unknown handler', { handler: 'nope' }, /consumer demo_consumer: handler: must be one of the consumer handlers: curated_program_events \(got nope\)/],
    ['a bad topic name', { topics: ['bad topic!'] }, /consumer demo_consumer: topics\.0: must be a Kafka topic name/],
    ['the topic ".."', { topics: ['..'] }, /consumer demo_consumer: topics\.0: must not be "\." or "\.\."/],
    ['a 250-character topic', { topics: ['t'.repeat(250)] }, /consumer demo_consumer: topics\.0: must be a Kafka topic name/],
    ['no topics', { topics: [] }, /consumer demo_consumer: topics: must name at least one topic/],
    ['an empty group', { groupId: '' }, /consumer demo_consumer: groupId/],
    ['an unknown wire format', { wireFormat: 'protobuf' as never }, /consumer demo_consumer: wireFormat: must be one of avro-raw, confluent/],
    ['a missing schema file', { schema: 'Missing.avsc' }, /consumer demo_consumer: schema: schema file .*Missing\.avsc does not exist/],
    ['a schema file that is not JSON', { schema: badJson }, /consumer demo_consumer: schema: .*bad\.avsc is not JSON/],
    ['a schema file that is not Avro', { schema: notAvro }, /consumer demo_consumer: schema: .*not-avro\.avsc is not a valid Avro schema/],
    ['a schema the handler cannot read', { schema: incompatible }, /consumer demo_consumer: schema: .*other\.avsc cannot be read as handler curated_program_events/],
    ['schemaIds without the Confluent format', { schemaIds: [1] }, /consumer demo_consumer: schemaIds: only applies to wireFormat "confluent"/],
    ['a zero batch size', { batchSize: 0 }, /consumer demo_consumer: batchSize/],
    ['a bad duration', { timeouts: { heartbeat: 'soon' as never } }, /consumer demo_consumer: timeouts\.heartbeat: must be a duration/],
    ['the removed Kafka session setting', { timeouts: { kafkaSession: '30s' } as never }, /consumer demo_consumer: timeouts\.kafkaSession: no longer a setting .*; remove it/],
    ['the removed partitionsConsumedConcurrently', { partitionsConsumedConcurrently: 4 } as never, /consumer demo_consumer: partitionsConsumedConcurrently: no longer a setting .*; remove it/],
    ['no description', { description: '' }, /consumer demo_consumer: description/],
  ];
  for (const [what, over, message] of invalid) {
    test(`rejects ${what}, naming the consumer and the field`, () => {
      assert.throws(
        () => registry([base(over)]),
        (err: Error) => err instanceof ConsumerDefinitionError && message.test(err.message),
      );
    });
  }

  test('a definition may hold its handler instead of naming a shipped one; a handler object must have its parts', () => {
    const own = new ConsumerRegistry([base({ handler: curatedProgramEventsHandler })]);
    assert.equal(own.get('demo_consumer').handler, 'curated_program_events');
    assert.throws(
      () => new ConsumerRegistry([base({ handler: { ...curatedProgramEventsHandler, write: undefined } as never })]),
      /consumer demo_consumer: handler: must name a handler or be one/,
    );
    assert.throws(() => new ConsumerRegistry([base({})]), /handler: must be one of the consumer handlers: none \(got curated_program_events\)/);
  });

  test('rejects a name defined twice and a group shared by two consumers', () => {
    assert.throws(() => registry([base({}), base({ groupId: 'other' })]), /consumer demo_consumer: name: defined twice/);
    assert.throws(() => registry([base({}), base({ name: 'second' })]), /consumer second: groupId: demo\.group is already the group of consumer demo_consumer/);
  });

  test('Confluent consumers with accepted schema ids; declared values win over defaults', async () => {
    const def = base({ wireFormat: 'confluent', schemaIds: [3], batchSize: 50, timeouts: { heartbeat: '5s', report: '2s' }, ingestContinueAsNewAfter: 10 });
    const schemas = new FixedSchemas({ 3: readFileSync(SCHEMA_VERSIONS.v1, 'utf8') });
    const c = new ConsumerRegistry([def], { handlers: consumerHandlers, writerSchemas: schemas }).get('demo_consumer');
    assert.equal(c.batchSize, 50);
    assert.equal(c.workflow.heartbeatTimeoutMs, 5000);
    assert.equal(c.ingest.continueAsNewAfterBatches, 10);
    assert.equal(c.reportEveryMs, 2000);
    const other = Buffer.from([0, 0, 0, 0, 4, 1]);
    assert.deepEqual((await c.decoderFor([other]))(other), { ok: false, reason: "schema id 4 is not one of the consumer's schemaIds (3)" });
    assert.deepEqual(schemas.asked, [], 'an id outside schemaIds is never looked up');
    // A process that only lists consumers has no registry; decoding there is a mistake, said as one.
    const listing = registry([def]).get('demo_consumer');
    await assert.rejects(listing.decoderFor([other]), /consumer demo_consumer: reads the Confluent wire format, and this process was given no schema registry/);
  });

  test('an unknown consumer and a CONSUMERS_MODULE without `consumers` are clear errors', () => {
    assert.throws(() => registry([base({})]).get('other'), /unknown consumer other \(known: demo_consumer\)/);
    const mod = path.join(tmp, 'no-consumers.js');
    writeFileSync(mod, 'module.exports = { jobs: [] };');
    assert.throws(() => loadConsumerRegistry(mod, shipped), /CONSUMERS_MODULE .*no-consumers\.js must export `consumers`/);
    assert.deepEqual(loadConsumerRegistry(undefined, shipped).list().map((c) => c.name), ['curated_program']);
  });
});

describe('stream workflow IDs', () => {
  test('consumer and ingest workflow IDs', () => {
    assert.equal(consumerWorkflowId('curated_program'), 'consumer/curated_program');
    assert.equal(ingestWorkflowId('curated_program', 'curated-program-events', 3), 'ingest/curated_program/curated-program-events/3');
    assert.equal(ingestWorkflowId('c', 't', 5, 4), 'ingest/c/t/4-7');
    assert.equal(ingestWorkflowId('c', 't', 3, 4), 'ingest/c/t/0-3');
  });
});
