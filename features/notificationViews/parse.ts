/**
 * Notification-view log lines, one JSON object a line: parsing for the ingest activities and summaries for the read
 * API.
 * Checked by hand rather than with zod: it runs once per log line (millions a day) and the hand checks give
 * the exact, actionable reasons that end up in `ingest_rejects`.
 */
import { MAX_ID_CHARS, storableText, truncateChars, unstorableText } from '../../domain/text';
import { MAX_TIME_MS, MIN_TIME_MS } from '../../domain/time';
export { MAX_ID_CHARS };

export type NotificationView = {
  eventId: string;
  notificationId: string;
  userId: string;
  platform: string;
  viewedAt: Date;
  day: string;
};

export type ParsedLine =
  | { kind: 'blank' }
  | { kind: 'view'; view: NotificationView }
  | { kind: 'skipped'; eventType: string }
  | { kind: 'rejected'; reason: string };

/** A line as the line reader hands it over; the markers flag lines it could not decode in full. */
export type ChunkLine = {
  text: string;
  lineNumber: number;
  tooLong?: boolean;
  invalidUtf8?: boolean;
  byteLength?: number;
};

export type Reject = { lineNumber: number; reason: string; raw: string };

export type ChunkResult = {
  /** Distinct by eventId within the chunk, first occurrence kept. */
  views: NotificationView[];
  skipped: number;
  blank: number;
  rejects: Reject[];
  /** View lines dropped because an earlier line of the same chunk had their eventId. */
  duplicatesInChunk: number;
};

export type ViewSummary = {
  total: number;
  byPlatform: Record<string, number>;
  firstViewedAt: Date | null;
  lastViewedAt: Date | null;
};

export const MAX_RAW_CHARS = 1000;
const MAX_REASON_CHARS = 300;

const BLANK: ParsedLine = Object.freeze({ kind: 'blank' });

export function parseLogLine(line: string, day: string): ParsedLine {
  let start = 0;
  let end = line.length;
  // A BOM at the start of an object would otherwise make its first line invalid JSON.
  if (line.charCodeAt(0) === 0xfeff) start = 1;
  if (end > start && line.charCodeAt(end - 1) === 13) end -= 1;
  if (isBlank(line, start, end)) return BLANK;
  const text = start === 0 && end === line.length ? line : line.slice(start, end);

  let o: unknown;
  try {
    o = JSON.parse(text);
  } catch (err) {
    return rejected(`invalid JSON: ${(err as Error).message}`);
  }
  if (typeof o !== 'object' || o === null || Array.isArray(o)) {
    return rejected(`not a JSON object (got ${typeName(o)})`);
  }
  const r = o as Record<string, unknown>;

  const eventId = r.event_id;
  if (typeof eventId !== 'string') return fieldTypeError('event_id', eventId);
  if (!isUuid(eventId)) return rejected('event_id must be a UUID');

  const eventTime = r.event_time;
  if (typeof eventTime !== 'string') return fieldTypeError('event_time', eventTime);
  const viewedAtMs = parseIsoTime(eventTime);
  if (Number.isNaN(viewedAtMs)) {
    return rejected('field event_time is not a parseable ISO-8601 time with a UTC offset (e.g. 2024-05-01T12:00:00Z)');
  }
  // Year 0000, or an offset that moves 0001-01-01/9999-12-31 past the range: Postgres would refuse the whole chunk.
  if (viewedAtMs < MIN_TIME_MS || viewedAtMs > MAX_TIME_MS) {
    return rejected('field event_time is outside the years 0001-9999 (UTC)');
  }

  const eventType = r.event_type;
  if (typeof eventType !== 'string') return fieldTypeError('event_type', eventType);
  if (isBlank(eventType, 0, eventType.length)) return rejected('field event_type must not be empty');

  const notificationId = r.notification_id;
  const bad = checkId('notification_id', notificationId) ?? checkId('user_id', r.user_id) ?? checkId('platform', r.platform);
  if (bad) return bad;

  const appVersion = r.app_version;
  if (appVersion !== undefined && appVersion !== null && typeof appVersion !== 'string') {
    return rejected(`field app_version must be a string when present (got ${typeName(appVersion)})`);
  }

  if (eventType !== 'view') return { kind: 'skipped', eventType };
  return {
    kind: 'view',
    view: {
      // Lower-cased so one event spelled in two cases still deduplicates on the primary key.
      eventId: eventId.toLowerCase(),
      notificationId: notificationId as string,
      userId: r.user_id as string,
      platform: r.platform as string,
      viewedAt: new Date(viewedAtMs),
      // The partition, not event_time, decides the day: a day is the unit of ingest and of idempotent re-ingest.
      day,
    },
  };
}

export function parseChunk(lines: readonly ChunkLine[], day: string): ChunkResult {
  const views: NotificationView[] = [];
  const rejects: Reject[] = [];
  const seen = new Set<string>();
  let skipped = 0;
  let blank = 0;
  let duplicatesInChunk = 0;
  for (const line of lines) {
    let parsed: ParsedLine;
    if (line.tooLong) {
      const size = line.byteLength === undefined ? '' : ` (${line.byteLength} bytes)`;
      parsed = rejected(`line is longer than the line-size limit${size}`);
    } else if (line.invalidUtf8) {
      parsed = rejected('line is not valid UTF-8');
    } else {
      parsed = parseLogLine(line.text, day);
    }
    switch (parsed.kind) {
      case 'blank':
        blank++;
        break;
      case 'skipped':
        skipped++;
        break;
      case 'rejected':
        rejects.push({ lineNumber: line.lineNumber, reason: parsed.reason, raw: truncateRaw(line.text) });
        break;
      case 'view':
        if (seen.has(parsed.view.eventId)) {
          duplicatesInChunk++;
        } else {
          seen.add(parsed.view.eventId);
          views.push(parsed.view);
        }
        break;
    }
  }
  return { views, skipped, blank, rejects, duplicatesInChunk };
}

export function summarizeViews(rows: Iterable<{ platform: string; viewedAt: Date }>): ViewSummary {
  // A Map, not an object literal, because a platform named "__proto__" must count like any other.
  const counts = new Map<string, number>();
  let total = 0;
  let first: Date | null = null;
  let last: Date | null = null;
  for (const row of rows) {
    total++;
    counts.set(row.platform, (counts.get(row.platform) ?? 0) + 1);
    const t = row.viewedAt.getTime();
    if (first === null || t < first.getTime()) first = row.viewedAt;
    if (last === null || t > last.getTime()) last = row.viewedAt;
  }
  const byPlatform = Object.fromEntries([...counts].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
  return { total, byPlatform, firstViewedAt: first, lastViewedAt: last };
}

/** The raw text kept with a reject: bounded, and storable in a Postgres `text` column. */
export function truncateRaw(text: string): string {
  return storableText(truncateChars(text, MAX_RAW_CHARS));
}

/**
 * Epoch milliseconds of an ISO-8601 date-time with a UTC offset (YYYY-MM-DDTHH:MM[:SS[.fff...]](Z|±HH[:MM])),
 * or NaN. The offset is required because without one the instant would depend on the worker's time zone.
 * Sub-millisecond digits are dropped. Scanned by hand: a regex with captures cost a third of the parse time.
 */
export function parseIsoTime(s: string): number {
  const n = s.length;
  if (n < 17 || s.charCodeAt(4) !== 45 || s.charCodeAt(7) !== 45 || s.charCodeAt(13) !== 58) return NaN;
  const sep = s.charCodeAt(10);
  if (sep !== 84 && sep !== 116 && sep !== 32) return NaN; // T, t or space
  const year = digitsAt(s, 0, 4);
  const month = digitsAt(s, 5, 2);
  const dayOfMonth = digitsAt(s, 8, 2);
  const hour = digitsAt(s, 11, 2);
  const minute = digitsAt(s, 14, 2);
  let i = 16;
  let second = 0;
  let ms = 0;
  if (s.charCodeAt(i) === 58) {
    second = digitsAt(s, i + 1, 2);
    i += 3;
    const dot = s.charCodeAt(i);
    if (dot === 46 || dot === 44) {
      const fracStart = ++i;
      while (i < n && isDigit(s.charCodeAt(i))) {
        if (i - fracStart < 3) ms = ms * 10 + (s.charCodeAt(i) - 48);
        i++;
      }
      if (i === fracStart) return NaN;
      for (let k = Math.min(i - fracStart, 3); k < 3; k++) ms *= 10;
    }
  }
  let offsetMinutes: number;
  const z = s.charCodeAt(i);
  if (z === 90 || z === 122) {
    if (i + 1 !== n) return NaN;
    offsetMinutes = 0;
  } else if (z === 43 || z === 45) {
    const offHours = digitsAt(s, i + 1, 2);
    let offMinutes = 0;
    i += 3;
    if (i < n) {
      if (s.charCodeAt(i) === 58) i++;
      offMinutes = digitsAt(s, i, 2);
      if (i + 2 !== n) return NaN;
    }
    if (offHours > 23 || offMinutes > 59) return NaN; // NaN from digitsAt fails these and the check below
    offsetMinutes = (z === 45 ? -1 : 1) * (offHours * 60 + offMinutes);
  } else {
    return NaN;
  }
  if (!(month >= 1 && month <= 12 && dayOfMonth >= 1 && dayOfMonth <= daysInMonth(year, month))) return NaN;
  if (!(hour <= 23 && minute <= 59 && second <= 59 && offsetMinutes === offsetMinutes)) return NaN;
  const days = daysFromCivil(year, month, dayOfMonth);
  return ((days * 24 + hour) * 60 + minute - offsetMinutes) * 60_000 + second * 1000 + ms;
}

function checkId(field: string, value: unknown): ParsedLine | undefined {
  if (typeof value !== 'string') return fieldTypeError(field, value);
  if (isBlank(value, 0, value.length)) return rejected(`field ${field} must not be empty`);
  if (value.length > MAX_ID_CHARS) return rejected(`field ${field} is longer than ${MAX_ID_CHARS} characters`);
  const problem = unstorableText(value);
  if (problem) return rejected(`field ${field} ${problem}`);
  return undefined;
}

function fieldTypeError(field: string, value: unknown): ParsedLine {
  if (value === undefined) return rejected(`missing field ${field}`);
  return rejected(`field ${field} must be a string (got ${typeName(value)})`);
}

function rejected(reason: string): ParsedLine {
  // JSON.parse quotes the line in its message, NULs and halves of surrogate pairs included, and one NUL would make
  // Postgres refuse the whole chunk.
  return { kind: 'rejected', reason: storableText(truncateChars(reason, MAX_REASON_CHARS)) };
}

function typeName(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  return typeof v;
}

/** JSON whitespace only: anything else on a line is content the parser has to judge. */
function isBlank(s: string, start: number, end: number): boolean {
  for (let i = start; i < end; i++) {
    const c = s.charCodeAt(i);
    if (c !== 32 && c !== 9 && c !== 13 && c !== 10) return false;
  }
  return true;
}

/** 8-4-4-4-12 hex digits, any version: upstream producers differ. */
function isUuid(s: string): boolean {
  if (s.length !== 36) return false;
  for (let i = 0; i < 36; i++) {
    const c = s.charCodeAt(i);
    if (i === 8 || i === 13 || i === 18 || i === 23) {
      if (c !== 45) return false;
    } else if (!((c >= 48 && c <= 57) || (c >= 97 && c <= 102) || (c >= 65 && c <= 70))) {
      return false;
    }
  }
  return true;
}

/** The number written by `len` ASCII digits at `at`, or NaN. */
function digitsAt(s: string, at: number, len: number): number {
  let v = 0;
  for (let i = at; i < at + len; i++) {
    const c = s.charCodeAt(i);
    if (!isDigit(c)) return NaN;
    v = v * 10 + (c - 48);
  }
  return v;
}

function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}

function daysInMonth(year: number, month: number): number {
  if (month === 2) return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0 ? 29 : 28;
  return month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31;
}

/** Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's days_from_civil). */
function daysFromCivil(y: number, m: number, d: number): number {
  const yy = m <= 2 ? y - 1 : y;
  const era = Math.floor(yy / 400);
  const yoe = yy - era * 400;
  const doy = Math.floor((153 * (m + (m > 2 ? -3 : 9)) + 2) / 5) + d - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146097 + doe - 719468;
}
