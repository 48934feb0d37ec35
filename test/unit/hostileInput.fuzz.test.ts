/**
 * Property tests of the pure input handling against fuzzed input (issue 8, hostile input): whatever the bytes, the
 * parsers never throw, every line or message ends as exactly one outcome, and whatever they accept is storable by
 * Postgres as it is (no NUL, no unpaired surrogate, timestamps inside the years 0001-9999).
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { encodeAvro } from '../../consumers/avro';
import { createCuratedProgramDecoder } from '../../features/curatedPrograms/parse';
import { decodeListedKey, parseDay } from '../../domain/day';
import { DAY_PATTERN } from '../../jobs/args';
import { LineSplitter, type Line } from '../../features/notificationViews/lineReader';
import { parseChunk, parseLogLine } from '../../features/notificationViews/parse';
import { unstorableText } from '../../domain/text';
import { avroMessageArb, countLines, CURATED_SCHEMA, curatedRecordArb, curatedType, joinLines, logLineArb } from '../support/hostile';

const SEED = 8_2026;
const DAY = '2024-05-01';
const FIRST_MS = -62_135_596_800_000; // 0001-01-01T00:00:00Z
const LAST_MS = 253_402_300_799_999; // 9999-12-31T23:59:59.999Z

function assertStorable(s: string, what: string): void {
  assert.equal(unstorableText(s), undefined, `${what} must be storable as Postgres text: ${JSON.stringify(s).slice(0, 80)}`);
}

/** Splits `body` the way the ingest does, in the given read sizes, with a small line-size limit. */
function split(body: Buffer, reads: number[], maxLineBytes: number): Line[] {
  const splitter = new LineSplitter({ maxLineBytes });
  const out: Line[] = [];
  let at = 0;
  for (let i = 0; at < body.length; i++) {
    const n = Math.max(1, reads[i % Math.max(1, reads.length)] ?? body.length);
    splitter.push(body.subarray(at, at + n), out);
    at += n;
  }
  splitter.end(out);
  return out;
}

describe('fuzz: notification-view log lines', () => {
  test('any line: parseLogLine never throws; a view is storable, a reject has a storable reason', () => {
    fc.assert(
      fc.property(fc.oneof(logLineArb().map((l) => l.bytes.toString('utf8')), fc.string({ unit: 'binary', maxLength: 300 })), (text) => {
        const p = parseLogLine(text, DAY);
        switch (p.kind) {
          case 'view': {
            const v = p.view;
            assert.match(v.eventId, /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
            for (const [k, s] of [['notification_id', v.notificationId], ['user_id', v.userId], ['platform', v.platform]] as const) {
              assertStorable(s, k);
              assert.ok(s.trim().length > 0 && s.length <= 256, `${k} is bounded and not empty`);
            }
            const t = v.viewedAt.getTime();
            assert.ok(t >= FIRST_MS && t <= LAST_MS, `viewedAt ${v.viewedAt.toISOString()} is inside 0001-9999`);
            assert.match(v.viewedAt.toISOString(), /^\d{4}-/, 'a four-digit year Postgres reads');
            break;
          }
          case 'rejected':
            assert.ok(p.reason.length > 0 && p.reason.length <= 300);
            assertStorable(p.reason, 'reason');
            break;
          case 'skipped':
            assert.ok(p.eventType.length > 0);
            break;
          case 'blank':
            break;
        }
      }),
      { seed: SEED, numRuns: 3000 },
    );
  });

  test('any object body: every line is exactly one view, in-chunk duplicate, skip, blank or reject, and the line count matches an independent split', () => {
    fc.assert(
      fc.property(
        fc.array(logLineArb(), { maxLength: 60 }),
        fc.boolean(),
        fc.array(fc.integer({ min: 1, max: 64 }), { minLength: 1, maxLength: 8 }),
        fc.integer({ min: 16, max: 400 }),
        (lines, finalNewline, reads, maxLineBytes) => {
          const body = joinLines(lines, finalNewline);
          const split1 = split(body, reads, maxLineBytes);
          assert.equal(split1.length, countLines(body), 'the reader finds as many lines as an independent split');
          if (split1.length > 0) assert.equal(split1[split1.length - 1]!.endOffset, body.length, 'the last checkpoint is the end of the object');
          split1.forEach((l, i) => assert.equal(l.lineNumber, i + 1));
          const r = parseChunk(split1, DAY);
          assert.equal(r.views.length + r.duplicatesInChunk + r.skipped + r.blank + r.rejects.length, split1.length, 'one outcome per line');
          for (const rej of r.rejects) {
            assert.ok(rej.reason.length > 0);
            assertStorable(rej.reason, 'reason');
            assertStorable(rej.raw, 'raw');
            assert.ok(rej.raw.length <= 1000);
          }
          // Read sizes do not change the outcome (multi-byte characters split across reads, lines across chunks).
          const whole = parseChunk(split(body, [body.length || 1], maxLineBytes), DAY);
          assert.deepEqual(whole.rejects, r.rejects);
          assert.equal(whole.views.length, r.views.length);
        },
      ),
      { seed: SEED, numRuns: 400 },
    );
  });

  test('a line over the size limit is one reject, never a row, and the next line is still read', () => {
    const big = Buffer.concat([Buffer.from('{"event_id":"'), Buffer.alloc(5000, 0x61), Buffer.from('"}\n{"x":1}\n')]);
    const r = parseChunk(split(big, [7, 1000], 1024), DAY);
    assert.equal(r.rejects.length, 2);
    assert.match(r.rejects[0]!.reason, /longer than the line-size limit \(5015 bytes\)/);
    assert.equal(r.rejects[1]!.lineNumber, 2);
  });

  test('event times Postgres would refuse are rejects naming the range, not rows that fail the chunk', () => {
    const base = { event_id: '0b7e2f9c-9b1a-4f8e-8d7c-1a2b3c4d5e6f', event_type: 'view', notification_id: 'n', user_id: 'u', platform: 'ios' };
    for (const t of ['0000-01-01T00:00:00Z', '0001-01-01T00:30:00+01:00', '9999-12-31T23:30:00-01:00']) {
      const p = parseLogLine(JSON.stringify({ ...base, event_time: t }), DAY);
      assert.deepEqual(p, { kind: 'rejected', reason: 'field event_time is outside the years 0001-9999 (UTC)' }, t);
    }
    for (const t of ['0001-01-01T00:00:00Z', '9999-12-31T23:59:59.999Z']) assert.equal(parseLogLine(JSON.stringify({ ...base, event_time: t }), DAY).kind, 'view', t);
    // JSON.parse quotes the text in its message: a NUL there must not reach Postgres.
    const p = parseLogLine('{"a":\u0000}', DAY);
    assert.equal(p.kind, 'rejected');
    assertStorable((p as { reason: string }).reason, 'reason');
    assert.match(reason(parseLogLine(JSON.stringify({ ...base, event_time: '2024-05-01T00:00:00Z', user_id: 'a\ud800' }), DAY)), /user_id contains an unpaired UTF-16 surrogate/);
  });
});

describe('fuzz: curated-program Avro messages', () => {
  const decode = createCuratedProgramDecoder({ wireFormat: 'avro-raw', readerSchema: CURATED_SCHEMA });
  const confluent = createCuratedProgramDecoder({ wireFormat: 'confluent', readerSchema: CURATED_SCHEMA });

  test('any message: the decoder never throws; an event is storable, anything else has a reason', () => {
    fc.assert(
      fc.property(avroMessageArb('fz', { hugeBytes: 20_000 }), fc.boolean(), (m, framed) => {
        const value = framed && m.value !== null ? Buffer.concat([Buffer.from([0, 0, 0, 0, 3]), m.value]) : m.value;
        const d = (framed ? confluent : decode)(value);
        if (!d.ok) {
          assert.ok(d.reason.length > 0);
          assert.ok(!d.reason.includes('\n'));
          return;
        }
        assert.notEqual(m.kind, 'empty');
        assert.notEqual(m.kind, 'tombstone');
        const e = d.value;
        for (const s of [e.eventId, e.programId, e.creatorId]) {
          assert.ok(s.trim() !== '' && s.length <= 256);
          assert.ok(!s.includes('\u0000'));
        }
        if (e.title !== null) assert.ok(!e.title.includes('\u0000') && e.title.length <= 2000);
        const t = Date.parse(e.occurredAt);
        assert.ok(t >= FIRST_MS && t <= LAST_MS && /^\d{4}-/.test(e.occurredAt));
      }),
      { seed: SEED, numRuns: 3000 },
    );
  });

  test('a valid encoding decodes to its record; every strict prefix of it is refused', () => {
    fc.assert(
      fc.property(curatedRecordArb('fz'), (r) => {
        const bytes = encodeAvro(curatedType, r, { wireFormat: 'avro-raw' });
        const d = decode(bytes);
        assert.ok(d.ok, JSON.stringify(r));
        assert.equal(d.value.eventId, r.event_id);
        assert.equal(Date.parse(d.value.occurredAt), r.occurred_at);
        for (let n = 0; n < bytes.length; n++) assert.equal(decode(bytes.subarray(0, n)).ok, false, `prefix of ${n} bytes`);
      }),
      { seed: SEED, numRuns: 200 },
    );
  });
});

describe('fuzz: days', () => {
  test('parseDay returns only real calendar days Postgres can store, and throws a message otherwise', () => {
    const candidates = fc.oneof(
      fc.string({ unit: 'binary', maxLength: 12 }),
      fc.tuple(fc.integer({ min: 0, max: 9999 }), fc.integer({ min: 0, max: 13 }), fc.integer({ min: 0, max: 32 })).map(
        ([y, m, d]) => `${String(y).padStart(4, '0')}-${String(m).padStart(2, '0')}-${String(d).padStart(2, '0')}`,
      ),
    );
    fc.assert(
      fc.property(candidates, (s) => {
        let day: string;
        try {
          day = parseDay(s);
        } catch (err) {
          assert.match((err as Error).message, /^invalid day /);
          return;
        }
        const [y, m, d] = day.split('-').map(Number) as [number, number, number];
        assert.ok(y >= 1 && y <= 9999);
        const t = new Date(0);
        t.setUTCFullYear(y, m - 1, d);
        assert.equal(t.toISOString().slice(0, 10), day);
      }),
      { seed: SEED, numRuns: 3000 },
    );
    assert.throws(() => parseDay('2026-02-30'), /not a calendar date/);
    assert.throws(() => parseDay('0000-01-01'), /years start at 0001/);
  });

  test("the published schema's day pattern takes exactly the days parseDay takes", () => {
    const accepts = (s: string) => {
      try {
        parseDay(s);
        return true;
      } catch {
        return false;
      }
    };
    const pad = (n: number, w: number) => String(n).padStart(w, '0');
    // Every candidate of the years where the leap rules differ (0, 4, 100, 400, 1900, 2000, 2100) and of the last ones.
    const years = [...Array.from({ length: 405 }, (_, i) => i), ...Array.from({ length: 209 }, (_, i) => 1896 + i), 9996, 9997, 9998, 9999];
    let checked = 0;
    for (const y of years)
      for (let m = 0; m <= 13; m++)
        for (let d = 0; d <= 32; d++) {
          const s = `${pad(y, 4)}-${pad(m, 2)}-${pad(d, 2)}`;
          assert.equal(DAY_PATTERN.test(s), accepts(s), s);
          checked++;
        }
    assert.ok(checked > 250_000);
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 12 }), (s) => assert.equal(DAY_PATTERN.test(s), accepts(s), JSON.stringify(s))),
      { seed: SEED, numRuns: 2000 },
    );
  });
});

describe('fuzz: S3 keys in listings', () => {
  test('a key S3 url-encoded in a listing decodes to itself; a listing without EncodingType is taken as is', () => {
    // S3's encoding-type=url: percent-encoding, with a space written as `+` and a literal `+` as %2B.
    const s3Encode = (k: string) => encodeURIComponent(k).replace(/%2F/g, '/').replace(/%20/g, '+');
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 60 }).filter((k) => unstorableText(k) === undefined), (k) => {
        assert.equal(decodeListedKey(s3Encode(k), 'url'), k);
        assert.equal(decodeListedKey(k, undefined), k);
      }),
      { seed: SEED, numRuns: 2000 },
    );
    assert.equal(decodeListedKey('a+b%2Bc%25d/ctl%01x.jsonl', 'url'), 'a b+c%d/ctl\u0001x.jsonl');
  });
});

function reason(p: ReturnType<typeof parseLogLine>): string {
  return p.kind === 'rejected' ? p.reason : `not rejected: ${p.kind}`;
}
