import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  parseChunk,
  parseIsoTime,
  parseLogLine,
  summarizeViews,
  type ParsedLine,
} from '../../features/notificationViews/parse';
import { dayPrefix, daysBetween, isLogObjectKey, parseDay, successMarkerKey } from '../../domain/day';

const DAY = '2024-05-01';
const EVENT_ID = '3f2b8c1e-9d4a-4b7e-8a1f-0c2d3e4f5a6b';

function line(overrides: Record<string, unknown> = {}, omit: string[] = []): string {
  const o: Record<string, unknown> = {
    event_id: EVENT_ID,
    event_time: '2024-05-01T12:34:56.789Z',
    event_type: 'view',
    notification_id: 'notif-1',
    user_id: 'user-1',
    platform: 'ios',
    app_version: '5.12.0',
    ...overrides,
  };
  for (const k of omit) delete o[k];
  return JSON.stringify(o);
}

function reason(p: ParsedLine): string {
  assert.equal(p.kind, 'rejected', `expected a reject, got ${JSON.stringify(p)}`);
  return (p as { reason: string }).reason;
}

describe('parseLogLine', () => {
  it('turns a view event into a row whose day is the partition day', () => {
    const p = parseLogLine(line({ event_time: '2024-04-30T23:59:59.500Z' }), DAY);
    assert.deepEqual(p, {
      kind: 'view',
      view: {
        eventId: EVENT_ID,
        notificationId: 'notif-1',
        userId: 'user-1',
        platform: 'ios',
        viewedAt: new Date('2024-04-30T23:59:59.500Z'),
        day: DAY,
      },
    });
  });

  it('lower-cases the event id and accepts optional app_version being absent or null', () => {
    const p = parseLogLine(line({ event_id: EVENT_ID.toUpperCase(), app_version: null }), DAY);
    assert.equal(p.kind === 'view' && p.view.eventId, EVENT_ID);
    assert.equal(parseLogLine(line({}, ['app_version']), DAY).kind, 'view');
  });

  it('keeps multi-byte text and ignores unknown fields', () => {
    const p = parseLogLine(line({ user_id: 'usér-😀', extra: { nested: true } }), DAY);
    assert.equal(p.kind === 'view' && p.view.userId, 'usér-😀');
  });

  it('skips valid events of other types', () => {
    assert.deepEqual(parseLogLine(line({ event_type: 'click' }), DAY), { kind: 'skipped', eventType: 'click' });
    assert.deepEqual(parseLogLine(line({ event_type: 'View' }), DAY), { kind: 'skipped', eventType: 'View' });
  });

  it('counts empty and whitespace-only lines as blank, also with a CR left over', () => {
    for (const s of ['', '   ', '\r', '\t \r', '\uFEFF']) assert.deepEqual(parseLogLine(s, DAY), { kind: 'blank' });
  });

  it('tolerates a trailing CR and a leading byte-order mark', () => {
    assert.equal(parseLogLine(`${line()}\r`, DAY).kind, 'view');
    assert.equal(parseLogLine(`\uFEFF${line()}`, DAY).kind, 'view');
  });

  it('rejects with reasons a human can act on', () => {
    assert.match(reason(parseLogLine('{"event_id": ', DAY)), /^invalid JSON: /);
    assert.match(reason(parseLogLine('not json', DAY)), /^invalid JSON: /);
    assert.equal(reason(parseLogLine('[1,2]', DAY)), 'not a JSON object (got array)');
    assert.equal(reason(parseLogLine('42', DAY)), 'not a JSON object (got number)');
    assert.equal(reason(parseLogLine('null', DAY)), 'not a JSON object (got null)');
    assert.equal(reason(parseLogLine('"view"', DAY)), 'not a JSON object (got string)');
    assert.equal(reason(parseLogLine(line({}, ['event_id']), DAY)), 'missing field event_id');
    assert.equal(reason(parseLogLine(line({}, ['platform']), DAY)), 'missing field platform');
    assert.equal(reason(parseLogLine(line({ event_id: 'abc' }), DAY)), 'event_id must be a UUID');
    assert.equal(reason(parseLogLine(line({ user_id: 12345 }), DAY)), 'field user_id must be a string (got number)');
    assert.equal(reason(parseLogLine(line({ platform: null }), DAY)), 'field platform must be a string (got null)');
    assert.equal(reason(parseLogLine(line({ notification_id: '' }), DAY)), 'field notification_id must not be empty');
    assert.equal(
      reason(parseLogLine(line({ app_version: 7 }), DAY)),
      'field app_version must be a string when present (got number)',
    );
    assert.match(reason(parseLogLine(line({ user_id: 'a\u0000b' }), DAY)), /user_id contains a NUL character/);
    assert.match(reason(parseLogLine(line({ notification_id: 'n'.repeat(300) }), DAY)), /longer than 256/);
    for (const t of ['yesterday', '2024-13-01T00:00:00Z', '2024-02-30T00:00:00Z', '2024-05-01T12:00:00', 1714564800]) {
      assert.match(reason(parseLogLine(line({ event_time: t }), DAY)), /event_time/, String(t));
    }
    assert.match(
      reason(parseLogLine(line({ event_time: '2024-05-01 noon' }), DAY)),
      /^field event_time is not a parseable ISO-8601 time/,
    );
  });

  it('rejects an invalid event even when it is not a view', () => {
    assert.equal(reason(parseLogLine(line({ event_type: 'click' }, ['user_id']), DAY)), 'missing field user_id');
  });

  it('keeps reasons short even for huge invalid input', () => {
    assert.ok(reason(parseLogLine(`{"a": "${'x'.repeat(100_000)}`, DAY)).length <= 300);
  });
});

describe('parseIsoTime', () => {
  it('agrees with Date.parse on the ISO-8601 forms it accepts', () => {
    for (const s of [
      '2024-05-01T12:34:56.789Z',
      '2024-05-01T12:34:56Z',
      '2024-05-01T12:34Z',
      '2024-05-01T14:34:56.789+02:00',
      '2024-05-01T07:04:56-05:30',
      '2024-02-29T00:00:00Z',
      '1969-12-31T23:59:59.999Z',
      '2000-03-01T00:00:00Z',
    ]) {
      assert.equal(parseIsoTime(s), Date.parse(s), s);
    }
  });

  it('accepts other RFC 3339 spellings and drops digits past milliseconds', () => {
    assert.equal(parseIsoTime('2024-05-01t12:34:56z'), Date.parse('2024-05-01T12:34:56Z'));
    assert.equal(parseIsoTime('2024-05-01 12:34:56Z'), Date.parse('2024-05-01T12:34:56Z'));
    assert.equal(parseIsoTime('2024-05-01T12:34:56.123456Z'), Date.parse('2024-05-01T12:34:56.123Z'));
    assert.equal(parseIsoTime('2024-05-01T12:34:56.5Z'), Date.parse('2024-05-01T12:34:56.500Z'));
    assert.equal(parseIsoTime('2024-05-01T14:34:56+0200'), Date.parse('2024-05-01T12:34:56Z'));
    assert.equal(parseIsoTime('2024-05-01T14:34:56+02'), Date.parse('2024-05-01T12:34:56Z'));
  });

  it('returns NaN for anything else', () => {
    for (const s of [
      '',
      '2024-05-01',
      '2024-05-01T12:34:56',
      '2023-02-29T00:00:00Z',
      '2024-04-31T00:00:00Z',
      '2024-05-01T24:00:00Z',
      '2024-05-01T12:60:00Z',
      '2024-05-01T12:34:60Z',
      '2024-05-01T12:34:56.Z',
      '2024-05-01T12:34:56Zjunk',
      '2024-05-01T12:34:56+2:00',
      '2024-05-01T12:34:56+02:',
      '2024-05-01T12:34:56+24:00',
      '2024-5-01T12:34:56Z',
      'May 1 2024 12:34:56 GMT',
    ]) {
      assert.ok(Number.isNaN(parseIsoTime(s)), s);
    }
  });
});

describe('parseChunk', () => {
  it('counts, deduplicates within the chunk and quarantines with line numbers', () => {
    const other = '0b7d6c5e-4f3a-4b2c-9d1e-8f7a6b5c4d3e';
    const r = parseChunk(
      [
        { text: line(), lineNumber: 10 },
        { text: '', lineNumber: 11 },
        { text: line({ event_type: 'delivered' }), lineNumber: 12 },
        { text: line({ event_id: EVENT_ID.toUpperCase() }), lineNumber: 13 },
        { text: line({ event_id: other }), lineNumber: 14 },
        { text: '{oops', lineNumber: 15 },
        { text: 'x'.repeat(5000), lineNumber: 16, tooLong: true, byteLength: 9_000_000 },
        { text: 'bad \uFFFD bytes', lineNumber: 17, invalidUtf8: true },
        { text: `[${'"\u0000",'.repeat(400)}1]`, lineNumber: 18 },
      ],
      DAY,
    );
    assert.deepEqual(
      r.views.map((v) => v.eventId),
      [EVENT_ID, other],
    );
    assert.equal(r.duplicatesInChunk, 1);
    assert.equal(r.skipped, 1);
    assert.equal(r.blank, 1);
    assert.deepEqual(
      r.rejects.map((x) => x.lineNumber),
      [15, 16, 17, 18],
    );
    assert.match(r.rejects[1]!.reason, /line-size limit \(9000000 bytes\)/);
    assert.equal(r.rejects[1]!.raw.length, 1000);
    assert.equal(r.rejects[2]!.reason, 'line is not valid UTF-8');
    assert.ok(!r.rejects[3]!.raw.includes('\u0000'), 'NUL is not storable in Postgres text');
  });

  it('truncates raw text without splitting a surrogate pair', () => {
    const r = parseChunk([{ text: `${'a'.repeat(999)}😀😀`, lineNumber: 1 }], DAY);
    assert.equal(r.rejects[0]!.raw, 'a'.repeat(999));
  });
});

describe('summarizeViews', () => {
  it('summarises nothing', () => {
    assert.deepEqual(summarizeViews([]), { total: 0, byPlatform: {}, firstViewedAt: null, lastViewedAt: null });
  });

  it('counts per platform and finds the first and last view', () => {
    const s = summarizeViews([
      { platform: 'web', viewedAt: new Date('2024-05-01T10:00:00Z') },
      { platform: 'ios', viewedAt: new Date('2024-05-01T08:00:00Z') },
      { platform: '__proto__', viewedAt: new Date('2024-05-01T12:00:00Z') },
      { platform: 'ios', viewedAt: new Date('2024-05-01T09:00:00Z') },
    ]);
    assert.equal(s.total, 4);
    assert.deepEqual(Object.entries(s.byPlatform), [
      ['__proto__', 1],
      ['ios', 2],
      ['web', 1],
    ]);
    assert.deepEqual(s.firstViewedAt, new Date('2024-05-01T08:00:00Z'));
    assert.deepEqual(s.lastViewedAt, new Date('2024-05-01T12:00:00Z'));
  });
});

describe('day', () => {
  it('accepts real calendar dates only', () => {
    assert.equal(parseDay('2024-02-29'), '2024-02-29');
    assert.equal(parseDay('2000-02-29'), '2000-02-29');
    for (const s of ['2023-02-29', '1900-02-29', '2024-04-31', '2024-13-01', '2024-00-10', '2024-5-1', ' 2024-05-01', 'abc']) {
      assert.throws(() => parseDay(s), /invalid day/, s);
    }
  });

  it('lays out keys', () => {
    assert.equal(dayPrefix(DAY), 'notification-logs/day=2024-05-01/');
    assert.equal(successMarkerKey(DAY), 'notification-logs/day=2024-05-01/_SUCCESS');
    assert.throws(() => dayPrefix('2024-05-32'));
  });

  it('recognises log objects only', () => {
    const p = dayPrefix(DAY);
    assert.ok(isLogObjectKey(`${p}part-00000.jsonl`));
    assert.ok(isLogObjectKey(`${p}part-00001.jsonl.gz`));
    for (const k of ['_SUCCESS', 'README.txt', 'part-0.jsonl.crc', '.part-0.jsonl', '_temporary/0/part-0.jsonl', 'part.json', 'x.gz']) {
      assert.ok(!isLogObjectKey(`${p}${k}`), k);
    }
  });

  it('lists days inclusively across month and year ends', () => {
    assert.deepEqual(daysBetween('2024-05-01', '2024-05-01'), ['2024-05-01']);
    assert.deepEqual(daysBetween('2023-12-30', '2024-01-02'), ['2023-12-30', '2023-12-31', '2024-01-01', '2024-01-02']);
    assert.equal(daysBetween('2024-01-01', '2024-12-31').length, 366);
    assert.throws(() => daysBetween('2024-05-02', '2024-05-01'), /after/);
  });
});
