import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import { Type, type Schema } from 'avsc';
import { SchemaRegistryUnavailableError } from '../../connections/schemaRegistry';
import { encodeAvro } from '../../consumers/avro';
import { ConfluentDecoders } from '../../consumers/confluentDecoders';
import { createCuratedProgramDecoder, type CuratedProgramEvent } from '../../features/curatedPrograms/parse';
import { SCHEMA_VERSIONS } from '../../scripts/produce-curated-events';
import { FixedSchemas } from '../support/fixedSchemas';

const text = (v: keyof typeof SCHEMA_VERSIONS) => readFileSync(SCHEMA_VERSIONS[v], 'utf8');
const reader = JSON.parse(text('v1')) as Schema;
const type = (v: keyof typeof SCHEMA_VERSIONS) => Type.forSchema(JSON.parse(text(v)) as Schema);
const misrouted = JSON.stringify({ type: 'record', name: 'Other', fields: [{ name: 'x', type: 'int' }] });

const base = { event_id: 'e-1', program_id: 'p-1', creator_id: 'c-1', action: 'UPDATED', occurred_at: Date.UTC(2024, 4, 1), title: 'T' };
const event: CuratedProgramEvent = {
  eventId: 'e-1',
  programId: 'p-1',
  creatorId: 'c-1',
  action: 'UPDATED',
  occurredAt: '2024-05-01T00:00:00.000Z',
  title: 'T',
};
const framed = (id: number, v: keyof typeof SCHEMA_VERSIONS, rec: object) => encodeAvro(type(v), rec, { wireFormat: 'confluent', schemaId: id });
const decoders = (schemas: FixedSchemas, more: Partial<ConstructorParameters<typeof ConfluentDecoders>[0]> = {}) =>
  new ConfluentDecoders({
    source: schemas,
    build: (writer) => createCuratedProgramDecoder({ wireFormat: 'confluent', readerSchema: reader, writerSchema: writer }),
    ...more,
  });

describe('Confluent wire format with writer schemas from a registry', () => {
  test('v1, v2 (a field added) and v3 (a field with a default removed) all decode to the reader shape, defaults filled in', async () => {
    const schemas = new FixedSchemas({ 1: text('v1'), 2: text('v2'), 3: text('v3') });
    const d = decoders(schemas);
    const values = [
      framed(1, 'v1', base),
      framed(2, 'v2', { ...base, curator_id: 'cur-9' }),
      framed(3, 'v3', { event_id: 'e-1', program_id: 'p-1', creator_id: 'c-1', action: 'UPDATED', occurred_at: base.occurred_at, curator_id: null }),
    ];
    const decode = await d.decoderFor(values);
    assert.deepEqual(decode(values[0]!), { ok: true, value: event });
    assert.deepEqual(decode(values[1]!), { ok: true, value: event });
    assert.deepEqual(decode(values[2]!), { ok: true, value: { ...event, title: null } }, "v3 has no title: the reader's default");
    // Each id is asked once, however many chunks carry it.
    await d.decoderFor(values);
    assert.deepEqual(schemas.asked.sort(), [1, 2, 3]);
  });

  test('an unknown id, a schema that cannot be resolved, a non-Avro schema: each a reason, never an exception', async () => {
    const schemas = new FixedSchemas({ 1: text('v1'), 7: misrouted, 8: { id: 8, schemaType: 'PROTOBUF', schema: 'syntax = "proto3";' }, 9: '{ not json' });
    const values = [framed(1, 'v1', base), framed(1, 'v1', base).fill(0, 1, 5).fill(42, 4, 5), framed(7, 'v1', base), framed(8, 'v1', base), framed(9, 'v1', base)];
    const decode = await decoders(schemas).decoderFor(values);
    const reasons = values.map((v) => {
      const r = decode(v);
      return r.ok ? 'ok' : r.reason;
    });
    assert.equal(reasons[0], 'ok');
    assert.equal(reasons[1], 'unknown schema id 42 (the schema registry at http://registry.test/apis/ccompat/v7 has no schema with this id)');
    assert.match(reasons[2]!, /^schema id 7 cannot be resolved to the consumer's reader schema: /);
    assert.equal(reasons[3], 'schema id 8 is a PROTOBUF schema, not Avro');
    assert.match(reasons[4]!, /^schema id 9 is not JSON: /);
    // Framing problems are found before any look-up, with the same reasons as the plain decoder's.
    const bad = [null, Buffer.alloc(0), Buffer.from([1, 0, 0, 0, 1, 2]), Buffer.from([0, 0, 0])];
    const d2 = await decoders(schemas).decoderFor(bad);
    assert.deepEqual(
      bad.map((v) => {
        const r = d2(v);
        return r.ok ? 'ok' : r.reason;
      }),
      ['no value (tombstone)', 'empty value', 'Confluent wire format: magic byte is 1, expected 0', '3 bytes: too short for the Confluent wire format (magic byte + 4-byte schema id)'],
    );
  });

  test('a registry that cannot answer decides nothing: the chunk waits, and once it answers the same values decode', async () => {
    const schemas = new FixedSchemas({ 5: text('v2') });
    const d = decoders(schemas);
    const v = framed(5, 'v2', { ...base, curator_id: null });
    schemas.down = new SchemaRegistryUnavailableError('schema registry at http://registry.test unavailable: ECONNREFUSED');
    await assert.rejects(d.decoderFor([v]), SchemaRegistryUnavailableError);
    // Any other failure of the source counts as the registry being away too, never as bad input.
    schemas.down = new Error('socket hang up');
    await assert.rejects(d.decoderFor([v]), (err: Error) => err instanceof SchemaRegistryUnavailableError && /socket hang up/.test(err.message));
    schemas.down = undefined;
    assert.deepEqual((await d.decoderFor([v]))(v), { ok: true, value: event });
  });

  test('the cache is bounded (least recently used out), an unknown id is asked again after its time, and a chunk keeps what it looked up', async () => {
    const all: Record<number, string> = {};
    for (let id = 1; id <= 6; id++) all[id] = text('v1');
    const schemas = new FixedSchemas(all);
    const d = decoders(schemas, { maxEntries: 3, unknownIdTtlMs: 0 });
    const values = [1, 2, 3, 4, 5, 6].map((id) => framed(id, 'v1', base));
    // More ids in one chunk than the cache holds: every one still decodes.
    const decode = await d.decoderFor(values);
    assert.deepEqual(values.map((v) => decode(v).ok), [true, true, true, true, true, true]);
    assert.equal(d.size, 3);
    schemas.asked.length = 0;
    await d.decoderFor([values[5]!, values[0]!]);
    assert.deepEqual(schemas.asked, [1], 'id 6 was kept (recent), id 1 was evicted and asked again');
    // An unknown id is remembered for a while (default 60 s), and asked again after: a schema registered since is found.
    const unknown = framed(40, 'v1', base);
    const remembering = decoders(schemas);
    schemas.asked.length = 0;
    assert.equal((await remembering.decoderFor([unknown]))(unknown).ok, false);
    assert.equal((await remembering.decoderFor([unknown]))(unknown).ok, false);
    assert.deepEqual(schemas.asked, [40]);
    assert.equal((await d.decoderFor([unknown]))(unknown).ok, false);
    all[40] = text('v1');
    assert.equal((await d.decoderFor([unknown]))(unknown).ok, true, 'asked again once its time passed');
  });

  test('concurrent chunks that need the same id share one look-up; ids outside schemaIds are never looked up', async () => {
    const schemas = new FixedSchemas({ 1: text('v1'), 2: text('v1') });
    const d = decoders(schemas, { schemaIds: [1] });
    const v1 = framed(1, 'v1', base);
    const v2 = framed(2, 'v1', base);
    const [a, b] = await Promise.all([d.decoderFor([v1, v2]), d.decoderFor([v1])]);
    assert.equal(a(v1).ok && b(v1).ok, true);
    assert.deepEqual(a(v2), { ok: false, reason: "schema id 2 is not one of the consumer's schemaIds (1)" });
    assert.deepEqual(schemas.asked, [1]);
  });
});
