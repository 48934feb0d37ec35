/** Days and S3 key layout of the notification-view logs: `notification-logs/day=YYYY-MM-DD/`, ready at `_SUCCESS`. */

export const LOG_ROOT = 'notification-logs/';

const DAY_RE = /^(\d{4})-(\d{2})-(\d{2})$/;
const MS_PER_DAY = 86_400_000;

/** Returns `s` when it is a real calendar date written as YYYY-MM-DD; throws otherwise. */
export function parseDay(s: string): string {
  const m = DAY_RE.exec(s);
  if (!m) throw new Error(`invalid day ${JSON.stringify(s)}: expected YYYY-MM-DD`);
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
  // The calendar has no year 0 (1 BC comes before 1 AD), and Postgres refuses it.
  if (y < 1) throw new Error(`invalid day ${JSON.stringify(s)}: years start at 0001`);
  // Dates roll 2023-02-29 over to March 1st, so a round trip exposes impossible dates.
  // (setUTCFullYear, unlike Date.UTC, does not map years 0-99 to 1900-1999.)
  const t = new Date(0);
  t.setUTCFullYear(y, mo - 1, d);
  if (t.getUTCFullYear() !== y || t.getUTCMonth() !== mo - 1 || t.getUTCDate() !== d) {
    throw new Error(`invalid day ${JSON.stringify(s)}: not a calendar date`);
  }
  return s;
}

export function dayPrefix(day: string): string {
  return `${LOG_ROOT}day=${parseDay(day)}/`;
}

export function successMarkerKey(day: string): string {
  return `${dayPrefix(day)}_SUCCESS`;
}

/**
 * True for log objects (`*.jsonl`, `*.jsonl.gz`). Path segments starting with `_` or `.` are skipped,
 * following the Hadoop/Spark convention that marks in-progress and hidden output (`_temporary/`, `.crc`).
 */
export function isLogObjectKey(key: string): boolean {
  if (!key.endsWith('.jsonl') && !key.endsWith('.jsonl.gz')) return false;
  for (const segment of key.split('/')) {
    if (segment.startsWith('_') || segment.startsWith('.')) return false;
  }
  return true;
}

export function isGzipKey(key: string): boolean {
  return key.endsWith('.gz');
}

/** Every day from `from` to `to`, both included, in order. */
export function daysBetween(from: string, to: string): string[] {
  const start = Date.parse(`${parseDay(from)}T00:00:00Z`);
  const end = Date.parse(`${parseDay(to)}T00:00:00Z`);
  if (start > end) throw new Error(`invalid day range: ${from} is after ${to}`);
  const days: string[] = [];
  for (let t = start; t <= end; t += MS_PER_DAY) days.push(new Date(t).toISOString().slice(0, 10));
  return days;
}

/**
 * A key as ListObjectsV2 returned it. Listings are requested with `EncodingType: url`, because XML 1.0 cannot carry
 * some characters a key may hold (U+0001-U+001F); S3 then percent-encodes keys and writes a space as `+` (a literal
 * `+` as %2B). Servers that ignore the request (some S3-compatible ones) answer without `EncodingType`: keys as is.
 */
export function decodeListedKey(key: string, encodingType: string | undefined): string {
  return encodingType === 'url' ? decodeURIComponent(key.replace(/\+/g, '%20')) : key;
}
