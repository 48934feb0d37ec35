/**
 * A reference reading of notification-view log objects, written apart from the product so a test's expected rows
 * and rejects do not share the product's mistakes. It must never import the product's line reader or parser: a bug
 * there would then make both sides of an assertion wrong together. Built from the published input rules: one JSON
 * object a line, fields event_id (UUID), event_time (ISO-8601 with an offset), event_type, notification_id,
 * user_id, platform (non-empty strings), app_version (optional string); only `view` events become rows, one per
 * distinct event_id; blank lines, CRLF and a last line without a newline are normal input.
 * Reasons are matched as classes (which field, which rule), not as the product's exact wording.
 */

/** Bytes past which a line is refused whole (the documented line-size limit). */
export const REF_MAX_LINE_BYTES = 8 * 1024 * 1024;
/** Longest id the ingest stores; ids sit in btree indexes. */
export const REF_MAX_ID_CHARS = 256;
const REF_MAX_RAW_CHARS = 1000;

export type RefLine =
  | { kind: 'blank' }
  | { kind: 'skipped' }
  | { kind: 'view'; eventId: string; notificationId: string; userId: string; platform: string; viewedAtMs: number }
  | { kind: 'rejected'; reason: RegExp };

export interface RefObject {
  lines: number;
  /** First occurrence of each view, by lower-cased event_id. */
  views: Map<string, Extract<RefLine, { kind: 'view' }>>;
  rejects: Map<number, { reason: RegExp; raw: string }>;
  skipped: number;
  blank: number;
  /** View lines whose event_id an earlier line of the object already had. */
  repeatedViews: number;
}

const LF = 0x0a;
const CR = 0x0d;
const fatal = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
const lossy = new TextDecoder('utf-8', { ignoreBOM: true });

/**
 * The lines of one object body without their terminators: split on LF, a CR before it belongs to the terminator
 * (CRLF), and a last piece without LF is a line when it is not empty.
 */
export function refSplitLines(body: Buffer): Buffer[] {
  const out: Buffer[] = [];
  const push = (from: number, to: number) => out.push(body.subarray(from, to > from && body[to - 1] === CR ? to - 1 : to));
  let start = 0;
  for (let i = 0; i < body.length; i++) {
    if (body[i] === LF) {
      push(start, i);
      start = i + 1;
    }
  }
  if (start < body.length) push(start, body.length);
  return out;
}

export function refReadObject(body: Buffer): RefObject {
  const lines = refSplitLines(body);
  const res: RefObject = { lines: lines.length, views: new Map(), rejects: new Map(), skipped: 0, blank: 0, repeatedViews: 0 };
  lines.forEach((bytes, i) => {
    const n = i + 1;
    const out = refLine(bytes);
    if (out.kind === 'blank') res.blank++;
    else if (out.kind === 'skipped') res.skipped++;
    else if (out.kind === 'rejected') res.rejects.set(n, { reason: out.reason, raw: refRaw(bytes) });
    else if (res.views.has(out.eventId)) res.repeatedViews++;
    else res.views.set(out.eventId, out);
  });
  return res;
}

/** What a reject keeps of its line: at most 1000 UTF-16 units, storable as Postgres text (no NUL, no lone surrogate). */
export function refRaw(bytes: Buffer): string {
  const head = bytes.length > REF_MAX_LINE_BYTES ? bytes.subarray(0, REF_MAX_RAW_CHARS * 4) : bytes;
  let s = lossy.decode(head);
  if (s.length > REF_MAX_RAW_CHARS) {
    const cut = /[\ud800-\udbff]/.test(s[REF_MAX_RAW_CHARS - 1]!) ? REF_MAX_RAW_CHARS - 1 : REF_MAX_RAW_CHARS;
    s = s.slice(0, cut);
  }
  return s.replace(/\u0000/g, '\ufffd').replace(/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g, '\ufffd');
}

const reject = (reason: RegExp): RefLine => ({ kind: 'rejected', reason });
const UUID = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;

export function refLine(bytes: Buffer): RefLine {
  if (bytes.length > REF_MAX_LINE_BYTES) return reject(/longer than the line-size limit/);
  let text: string;
  try {
    text = fatal.decode(bytes);
  } catch {
    return reject(/not valid UTF-8/);
  }
  // A byte-order mark opens a line written by some editors.
  if (text.startsWith('\ufeff')) text = text.slice(1);
  if (/^[ \t\r\n]*$/.test(text)) return { kind: 'blank' };
  let o: unknown;
  try {
    o = JSON.parse(text);
  } catch {
    return reject(/^invalid JSON/);
  }
  if (typeof o !== 'object' || o === null || Array.isArray(o)) return reject(/not a JSON object/);
  const r = o as Record<string, unknown>;

  const typeProblem = (f: string): RefLine | undefined =>
    r[f] === undefined ? reject(new RegExp(`missing field ${f}`)) : typeof r[f] !== 'string' ? reject(new RegExp(`field ${f} must be a string`)) : undefined;

  const idType = typeProblem('event_id');
  if (idType) return idType;
  if (!UUID.test(r['event_id'] as string)) return reject(/event_id must be a UUID/);
  const timeType = typeProblem('event_time');
  if (timeType) return timeType;
  const at = refParseTime(r['event_time'] as string);
  if (at === 'unparseable') return reject(/event_time is not a parseable ISO-8601 time/);
  if (at === 'out_of_range') return reject(/event_time is outside the years 0001-9999/);
  const typeType = typeProblem('event_type');
  if (typeType) return typeType;
  if (/^[ \t\r\n]*$/.test(r['event_type'] as string)) return reject(/event_type must not be empty/);
  for (const f of ['notification_id', 'user_id', 'platform']) {
    const bad = typeProblem(f);
    if (bad) return bad;
    const v = r[f] as string;
    if (/^[ \t\r\n]*$/.test(v)) return reject(new RegExp(`field ${f} must not be empty`));
    if (v.length > REF_MAX_ID_CHARS) return reject(new RegExp(`field ${f} is longer than ${REF_MAX_ID_CHARS}`));
    if (v.includes('\u0000')) return reject(new RegExp(`field ${f} contains a NUL`));
    if (!isWellFormed(v)) return reject(new RegExp(`field ${f} contains an unpaired UTF-16 surrogate`));
  }
  const app = r['app_version'];
  if (app !== undefined && app !== null && typeof app !== 'string') return reject(/field app_version must be a string/);
  if (r['event_type'] !== 'view') return { kind: 'skipped' };
  return {
    kind: 'view',
    // UUIDs compare without regard to case: one event spelled in two cases is one event.
    eventId: (r['event_id'] as string).toLowerCase(),
    notificationId: r['notification_id'] as string,
    userId: r['user_id'] as string,
    platform: r['platform'] as string,
    viewedAtMs: at,
  };
}

function isWellFormed(s: string): boolean {
  return !/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/.test(s);
}

// RFC 3339 date-time (which also allows a space for the T) with an offset that is required: without one the instant
// would depend on the reader's time zone. Sub-millisecond digits carry no weight.
const TIME = /^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d+))?)?(?:([Zz])|([+-])(\d{2})(?::?(\d{2}))?)$/;

export function refParseTime(s: string): number | 'unparseable' | 'out_of_range' {
  const m = TIME.exec(s);
  if (!m) return 'unparseable';
  const [year, month, day, hour, minute] = [1, 2, 3, 4, 5].map((i) => Number(m[i]));
  const second = m[6] === undefined ? 0 : Number(m[6]);
  const ms = m[7] === undefined ? 0 : Number(m[7].slice(0, 3).padEnd(3, '0'));
  const offH = m[10] === undefined ? 0 : Number(m[10]);
  const offM = m[11] === undefined ? 0 : Number(m[11]);
  const d = new Date(0);
  d.setUTCFullYear(year!, month! - 1, day!);
  if (d.getUTCFullYear() !== year || d.getUTCMonth() !== month! - 1 || d.getUTCDate() !== day) return 'unparseable';
  if (hour! > 23 || minute! > 59 || second > 59 || offH > 23 || offM > 59) return 'unparseable';
  const sign = m[9] === '-' ? -1 : 1;
  const at = d.getTime() + ((hour! * 60 + minute! - sign * (offH * 60 + offM)) * 60 + second) * 1000 + ms;
  const first = new Date(0);
  first.setUTCFullYear(1, 0, 1);
  const last = new Date(0);
  last.setUTCFullYear(9999, 11, 31);
  if (at < first.getTime() || at > last.getTime() + 86_400_000 - 1) return 'out_of_range';
  return at;
}
