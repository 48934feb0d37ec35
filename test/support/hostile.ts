/**
 * Hostile-input generators shared by the fuzz unit tests and the hostile-input integration test (issue 8): log lines
 * and Avro messages as fast-check arbitraries, so a property test shrinks a failure and an integration test draws a
 * reproducible sample of the same inputs with `fc.sample(arb, { seed, numRuns })`.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Type, type Schema } from 'avsc';
import fc from 'fast-check';
import { encodeAvro } from '../../consumers/avro';

export const CURATED_SCHEMA = JSON.parse(
  readFileSync(path.join(__dirname, '..', '..', 'consumers', 'schemas', 'CuratedProgramEvent.avsc'), 'utf8'),
) as Schema;
export const curatedType = Type.forSchema(CURATED_SCHEMA);

/** Strings that have broken or could break a text column, an index or a time parser. */
const NASTY_STRINGS = [
  '',
  ' ',
  '\t',
  'a\u0000b',
  '\u0000',
  '\ud800',
  'x\udc00y',
  '\ud83d',
  '😀',
  'Zoë ユーザー',
  '\u202eevil',
  "'; drop table notification_views;--",
  '../../etc/passwd',
  '%2e%2e%2f',
  'x'.repeat(257),
  'y'.repeat(5000),
  '\u001b[31mred',
  '__proto__',
  'constructor',
];
const NASTY_TIMES = [
  '0000-01-01T00:00:00Z',
  '0001-01-01T00:30:00+01:00',
  '0001-01-01T00:00:00Z',
  '9999-12-31T23:59:59Z',
  '9999-12-31T23:30:00-01:00',
  '2026-02-30T00:00:00Z',
  '2024-02-29T23:59:59.999999999Z',
  '2024-05-01T12:00:00',
  '2024-05-01T24:00:00Z',
  '2024-05-01T12:00:00+24:00',
  '2024-05-01 12:00:00Z',
  '+002024-05-01T12:00:00Z',
  '２０２４-05-01T12:00:00Z',
];

const hostileString = fc.oneof(
  fc.constantFrom(...NASTY_STRINGS),
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.string({ unit: 'grapheme', maxLength: 40 }),
);
const hostileValue = fc.oneof(hostileString, fc.jsonValue({ maxDepth: 3 }), fc.constant(undefined));

const id = fc.oneof(fc.stringMatching(/^[a-z0-9-]{1,24}$/), fc.constantFrom('ユーザー-1', 'Zoë', '😀user'));
/**
 * Valid log records. event_id is the table's primary key across all days, so a test run passes its own 12 hex digits
 * as `salt` to end every id with: the same seed then draws the same lines, and a rerun still writes new rows.
 */
const viewRecordArb = (salt: string) => fc.record({
  event_id: fc.uuid().map((u) => `${u.slice(0, 24)}${salt}`),
  event_time: fc.date({ min: new Date('2000-01-01T00:00:00Z'), max: new Date('2099-12-31T23:59:59Z'), noInvalidDate: true }).map((d) => d.toISOString()),
  event_type: fc.constantFrom('view', 'view', 'view', 'delivered', 'click'),
  notification_id: id,
  user_id: id,
  platform: fc.constantFrom('ios', 'android', 'web'),
  app_version: fc.option(fc.constantFrom('5.12.0', '6.0.0 🚀'), { nil: undefined }),
});

const LF = 10;
const enc = (s: string) => Buffer.from(s, 'utf8');
/** One line's bytes never hold a newline: the file's line structure is the fuzzer's, not chance. */
const noLf = (b: Uint8Array) => Buffer.from(b.map((x) => (x === LF ? 0x20 : x)));

export type LineKind =
  | 'valid'
  | 'near_valid'
  | 'truncated_json'
  | 'random_text'
  | 'random_bytes'
  | 'invalid_utf8'
  | 'control_chars'
  | 'bom_crlf_blank'
  | 'hostile_time';

/** A log line (without its `\n`) and the class it was drawn from. */
export interface HostileLine {
  kind: LineKind;
  bytes: Buffer;
}

export function logLineArb(salt = '000000000000'): fc.Arbitrary<HostileLine> {
  if (!/^[0-9a-f]{12}$/.test(salt)) throw new Error('salt: 12 lower-case hex digits');
  const viewRecord = viewRecordArb(salt);
  const line = (kind: LineKind, a: fc.Arbitrary<Buffer>) => a.map((bytes) => ({ kind, bytes }));
  return fc.oneof(
    { weight: 4, arbitrary: line('valid', viewRecord.map((r) => enc(JSON.stringify(r)))) },
    {
      weight: 3,
      arbitrary: line(
        'near_valid',
        fc
          .tuple(viewRecord, fc.constantFrom('event_id', 'event_time', 'event_type', 'notification_id', 'user_id', 'platform', 'app_version', 'extra'), hostileValue)
          .map(([r, field, v]) => enc(JSON.stringify({ ...r, [field]: v }))),
      ),
    },
    {
      weight: 1,
      arbitrary: line('hostile_time', fc.tuple(viewRecord, fc.constantFrom(...NASTY_TIMES)).map(([r, t]) => enc(JSON.stringify({ ...r, event_time: t })))),
    },
    {
      weight: 1,
      arbitrary: line(
        'truncated_json',
        fc.tuple(viewRecord, fc.nat()).map(([r, n]) => {
          const s = JSON.stringify(r);
          return enc(s.slice(0, n % s.length));
        }),
      ),
    },
    { weight: 1, arbitrary: line('random_text', fc.string({ unit: 'binary', maxLength: 120 }).map((s) => noLf(enc(s)))) },
    { weight: 1, arbitrary: line('random_bytes', fc.uint8Array({ maxLength: 200 }).map(noLf)) },
    {
      weight: 1,
      arbitrary: line(
        'invalid_utf8',
        fc.tuple(viewRecord, fc.nat(), fc.constantFrom([0xff], [0xc3], [0xe2, 0x82], [0xed, 0xa0, 0x80], [0xf8, 0x88, 0x80, 0x80, 0x80])).map(([r, n, bad]) => {
          const s = enc(JSON.stringify(r));
          const at = n % s.length;
          return Buffer.concat([s.subarray(0, at), Buffer.from(bad), s.subarray(at)]);
        }),
      ),
    },
    {
      weight: 1,
      arbitrary: line(
        'control_chars',
        fc.tuple(viewRecord, fc.integer({ min: 0, max: 31 }).filter((c) => c !== LF)).map(([r, c]) => enc(JSON.stringify({ ...r, user_id: `u${String.fromCharCode(c)}x` }).replace('\\u00', `${String.fromCharCode(c)}\\u00`))),
      ),
    },
    {
      weight: 1,
      arbitrary: line(
        'bom_crlf_blank',
        fc.tuple(viewRecord, fc.constantFrom('bom', 'crlf', 'blank', 'ws', 'cr_only')).map(([r, how]) => {
          const s = JSON.stringify(r);
          if (how === 'bom') return enc(`\ufeff${s}`);
          if (how === 'crlf') return enc(`${s}\r`);
          if (how === 'blank') return enc('');
          if (how === 'ws') return enc(' \t \r');
          return enc(`${s}\r${s}`);
        }),
      ),
    },
  );
}

/** The lines joined with `\n`, the last one sometimes without its newline, as an object body. */
export function joinLines(lines: readonly HostileLine[], finalNewline: boolean): Buffer {
  const parts: Buffer[] = [];
  lines.forEach((l, i) => {
    parts.push(l.bytes);
    if (i < lines.length - 1 || finalNewline) parts.push(Buffer.from([LF]));
  });
  return Buffer.concat(parts);
}

/** Lines of a body counted without the product's line reader: split on `\n`, a trailing empty piece is no line. */
export function countLines(body: Buffer): number {
  let n = 0;
  for (const b of body) if (b === LF) n++;
  return body.length > 0 && body[body.length - 1] !== LF ? n + 1 : n;
}

// --- Avro messages ---------------------------------------------------------------------------------------------

export type MessageKind =
  | 'valid'
  | 'random_bytes'
  | 'truncated'
  | 'bit_flipped'
  | 'trailing_bytes'
  | 'wrong_schema'
  | 'empty'
  | 'tombstone'
  | 'huge_random'
  | 'huge_title'
  | 'hostile_fields';

export interface HostileMessage {
  kind: MessageKind;
  value: Buffer | null;
}

const WRONG_SCHEMAS = [
  Type.forSchema({ type: 'record', name: 'Other', fields: [{ name: 'id', type: 'int' }, { name: 'name', type: 'string' }] }),
  Type.forSchema({ type: 'record', name: 'Swapped', fields: [{ name: 'occurred_at', type: 'long' }, { name: 'event_id', type: 'string' }] }),
  Type.forSchema('string'),
  Type.forSchema({ type: 'array', items: 'long' }),
];

/** Valid CuratedProgramEvent records whose event ids start with `prefix` (so a test can tell its rows apart). */
export function curatedRecordArb(prefix: string) {
  return fc.record({
    event_id: fc.uuid().map((u) => `${prefix}-${u}`),
    program_id: id,
    creator_id: id,
    action: fc.constantFrom('ADDED', 'REMOVED', 'UPDATED'),
    occurred_at: fc.integer({ min: Date.UTC(2000, 0, 1), max: Date.UTC(2099, 0, 1) }),
    title: fc.option(fc.string({ unit: 'grapheme', maxLength: 60 }), { nil: null }),
  });
}

export function avroMessageArb(prefix: string, opts: { hugeBytes?: number } = {}): fc.Arbitrary<HostileMessage> {
  const valid = curatedRecordArb(prefix).map((r) => encodeAvro(curatedType, r, { wireFormat: 'avro-raw' }));
  const msg = (kind: MessageKind, a: fc.Arbitrary<Buffer | null>) => a.map((value) => ({ kind, value }));
  const huge = opts.hugeBytes ?? 300_000;
  return fc.oneof(
    { weight: 6, arbitrary: msg('valid', valid) },
    { weight: 3, arbitrary: msg('random_bytes', fc.uint8Array({ minLength: 1, maxLength: 200 }).map((b) => Buffer.from(b))) },
    { weight: 2, arbitrary: msg('truncated', fc.tuple(valid, fc.nat()).map(([b, n]) => b.subarray(0, n % b.length))) },
    {
      weight: 3,
      arbitrary: msg(
        'bit_flipped',
        fc.tuple(valid, fc.array(fc.nat(), { minLength: 1, maxLength: 3 })).map(([b, flips]) => {
          const out = Buffer.from(b);
          for (const f of flips) out[Math.floor(f / 8) % out.length]! ^= 1 << (f % 8);
          return out;
        }),
      ),
    },
    { weight: 1, arbitrary: msg('trailing_bytes', fc.tuple(valid, fc.uint8Array({ minLength: 1, maxLength: 8 })).map(([b, t]) => Buffer.concat([b, t]))) },
    {
      weight: 2,
      arbitrary: msg(
        'wrong_schema',
        fc.tuple(fc.nat({ max: WRONG_SCHEMAS.length - 1 }), fc.integer(), fc.string({ maxLength: 30 })).map(([i, n, s]) => {
          const t = WRONG_SCHEMAS[i]!;
          const sample = [{ id: n, name: s }, { occurred_at: n, event_id: s }, s, [n, n]][i];
          return t.toBuffer(sample);
        }),
      ),
    },
    { weight: 1, arbitrary: msg('empty', fc.constant(Buffer.alloc(0))) },
    { weight: 1, arbitrary: msg('tombstone', fc.constant(null)) },
    { weight: 1, arbitrary: msg('huge_random', fc.integer({ min: 1, max: 0xffffffff }).map((seed) => pseudoRandomBytes(huge, seed))) },
    {
      weight: 1,
      arbitrary: msg(
        'huge_title',
        curatedRecordArb(prefix).map((r) => encodeAvro(curatedType, { ...r, title: 'T'.repeat(huge / 2) }, { wireFormat: 'avro-raw' })),
      ),
    },
    {
      weight: 2,
      arbitrary: msg(
        'hostile_fields',
        fc
          .tuple(curatedRecordArb(prefix), fc.constantFrom('program_id', 'creator_id', 'title', 'event_id'), hostileString, fc.constantFrom(0, -62_135_596_800_001, 253_402_300_800_000, 1))
          .map(([r, field, s, t]) =>
            encodeAvro(curatedType, { ...r, [field]: field === 'event_id' ? `${prefix}-${s}` : s, occurred_at: t === 1 ? r.occurred_at : t }, { wireFormat: 'avro-raw' }),
          ),
      ),
    },
  );
}

/** Cheap deterministic bytes (xorshift), so a huge sample does not cost fast-check a value per byte. */
export function pseudoRandomBytes(n: number, seed: number): Buffer {
  const out = Buffer.alloc(n);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    out[i] = x & 0xff;
  }
  return out;
}
