import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import { Type, type Schema } from 'avsc';
import {
  createCuratedProgramDecoder,
  MAX_ID_CHARS,
  toRecord,
  type CuratedProgramEvent,
  type CuratedProgramRecord,
  validateCuratedProgramRecord,
} from '../../features/curatedPrograms/parse';
import { encodeAvro } from '../../consumers/avro';
import { SCHEMA_PATH } from '../../scripts/produce-curated-events';

const schema = JSON.parse(readFileSync(SCHEMA_PATH, 'utf8')) as Schema;
const type = Type.forSchema(schema);
const raw = createCuratedProgramDecoder({ wireFormat: 'avro-raw', readerSchema: schema });
const confluent = createCuratedProgramDecoder({ wireFormat: 'confluent', readerSchema: schema });

const record: CuratedProgramRecord = {
  event_id: 'e-1',
  program_id: 'p-1',
  creator_id: 'c-1',
  action: 'ADDED',
  occurred_at: Date.UTC(2024, 4, 1, 12, 30, 0, 123),
  title: 'Émission ✓',
};
const event: CuratedProgramEvent = {
  eventId: 'e-1',
  programId: 'p-1',
  creatorId: 'c-1',
  action: 'ADDED',
  occurredAt: '2024-05-01T12:30:00.123Z',
  title: 'Émission ✓',
};
const enc = (r: unknown) => encodeAvro(type, r, { wireFormat: 'avro-raw' });
const reasonOf = (d: ReturnType<typeof raw>) => (d.ok ? 'ok' : d.reason);

describe('curated-program events: decoding', () => {
  test('raw Avro of the repo schema becomes the event, timestamp-millis as ISO UTC', () => {
    assert.deepEqual(raw(enc(record)), { ok: true, value: event });
    assert.deepEqual(toRecord(event), record);
  });

  test('title is optional (union null|string, default null)', () => {
    assert.deepEqual(raw(enc({ ...record, title: null })), { ok: true, value: { ...event, title: null } });
  });

  test('every action of the enum', () => {
    for (const action of ['ADDED', 'REMOVED', 'UPDATED'] as const) {
      const d = raw(enc({ ...record, action }));
      assert.ok(d.ok && d.value.action === action);
    }
  });

  test('Confluent wire format: magic 0 + 4-byte schema id', () => {
    const framed = encodeAvro(type, record, { wireFormat: 'confluent', schemaId: 7 });
    assert.deepEqual(framed.subarray(0, 5), Buffer.from([0, 0, 0, 0, 7]));
    assert.deepEqual(confluent(framed), { ok: true, value: event });
    const badMagic = Buffer.from(framed);
    badMagic[0] = 1;
    assert.match(reasonOf(confluent(badMagic)), /magic byte is 1, expected 0/);
    assert.match(reasonOf(confluent(Buffer.from([0, 0, 0]))), /too short for the Confluent wire format/);
    assert.match(reasonOf(confluent(Buffer.from([0, 0, 0, 0, 7]))), /no Avro payload/);
    // raw bytes given to a Confluent consumer, and the reverse, are refused, not misread
    assert.equal(confluent(enc(record)).ok, false);
    assert.equal(raw(framed).ok, false);
  });

  test('a newer writer schema resolves to the reader schema (schema evolution)', () => {
    const v2 = {
      ...(schema as object),
      fields: [...(schema as { fields: object[] }).fields, { name: 'region', type: 'string', default: 'eu' }],
    } as Schema;
    const decodeV2 = createCuratedProgramDecoder({ wireFormat: 'avro-raw', readerSchema: schema, writerSchema: v2 });
    const bytes = encodeAvro(Type.forSchema(v2), { ...record, region: 'us' }, { wireFormat: 'avro-raw' });
    assert.deepEqual(decodeV2(bytes), { ok: true, value: event });
    assert.throws(() =>
      createCuratedProgramDecoder({ wireFormat: 'avro-raw', readerSchema: schema, writerSchema: { type: 'record', name: 'X', fields: [] } as Schema }),
    );
  });
});

describe('curated-program events: garbage gets one exact reason, never an exception', () => {
  const good = enc(record);
  const loose = Type.forSchema({
    ...(schema as object),
    fields: (schema as { fields: { name: string }[] }).fields.map((f) => (f.name === 'action' ? { name: 'action', type: 'int' } : f)),
  } as Schema);
  const cases: [string, Buffer | null, RegExp][] = [
    ['a tombstone', null, /no value \(tombstone\)/],
    ['an empty value', Buffer.alloc(0), /empty value/],
    ['a truncated record', good.subarray(0, good.length - 3), /truncated Avro record/],
    ['trailing bytes', Buffer.concat([good, Buffer.from([1, 2])]), /2 trailing bytes/],
    // `{` (0x7b) read as a zig-zag varint is the string length -62: the reader runs out of record, not into a field.
    ['JSON text', Buffer.from(JSON.stringify(record)), new RegExp(`^truncated Avro record \\(${Buffer.byteLength(JSON.stringify(record))} bytes\\)$`)],
    ['an empty event_id', enc({ ...record, event_id: '' }), /event_id: empty/],
    ['a blank program_id', enc({ ...record, program_id: '  ' }), /program_id: empty/],
    ['an over-long creator_id', enc({ ...record, creator_id: 'x'.repeat(MAX_ID_CHARS + 1) }), /creator_id: longer than 256/],
    ['a NUL in the title', enc({ ...record, title: 'a\u0000b' }), /title: contains a NUL/],
    ['an enum index out of range', encodeAvro(loose, { ...record, action: 9 }, { wireFormat: 'avro-raw' }), /invalid Avro: .*enum index: 9/],
    ['a timestamp past year 9999', enc({ ...record, occurred_at: 300_000_000_000_000 }), /occurred_at: .* outside the years 0001-9999/],
    ['a union index out of range', Buffer.concat([good.subarray(0, good.length - 1 - Buffer.byteLength(record.title!) - 1), Buffer.from([0x08])]), /invalid Avro|truncated|trailing/],
  ];
  for (const [what, value, reason] of cases) {
    test(what, () => {
      const d = raw(value);
      assert.equal(d.ok, false, `${what} was accepted`);
      assert.match(reasonOf(d), reason);
    });
  }

  test('10,000 random byte strings: no exception, each one decoded or refused with a reason', () => {
    let seed = 12345;
    const next = () => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32);
    for (let i = 0; i < 10_000; i++) {
      const buf = Buffer.from(Array.from({ length: 1 + Math.floor(next() * 60) }, () => Math.floor(next() * 256)));
      const d = raw(buf);
      if (!d.ok) assert.ok(d.reason.length > 0);
      else assert.ok(d.value.eventId.length > 0);
    }
  });
});

describe('curated-program events: field validation of a decoded record', () => {
  test('an action outside the enum (a hand-built or resolved record) is refused', () => {
    assert.match(reasonOf(validateCuratedProgramRecord({ ...record, action: 'DELETED' })), /action: must be one of/);
    assert.match(reasonOf(validateCuratedProgramRecord({ ...record, occurred_at: 1.5 })), /occurred_at: not an integer/);
    assert.match(reasonOf(validateCuratedProgramRecord({ ...record, title: 5 })), /title: not a string or null/);
    assert.equal(validateCuratedProgramRecord({ ...record, title: undefined }).ok, true);
  });
});
