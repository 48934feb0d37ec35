/**
 * Generates one day of notification-view logs laid out like the S3 keys, with a few percent of every odd and
 * bad kind of line, plus the exact outcome an ingest must reach. The expectation is counted from the records
 * as they are emitted (never by running the parser), so it can check the parser.
 *
 *   node --import tsx scripts/generate-day.ts --day 2024-05-01 --objects 5 --lines-per-object 20000 --out DIR \
 *     [--gzip-fraction 0.3] [--seed 42] [--target-bytes N] [--other-events 8]
 */
import { createWriteStream } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { parseArgs } from 'node:util';
import { createGzip } from 'node:zlib';
import { dayPrefix, parseDay, successMarkerKey } from '../domain/day';
import { Rng } from './rng';

export type GenerateDayOptions = {
  day: string;
  objects: number;
  /** Lines per object; defaults to 20000 unless targetBytes is given. */
  linesPerObject?: number;
  /** Uncompressed bytes per object: lines are added until the object reaches this size. */
  targetBytes?: number;
  /** Share of the objects written as .jsonl.gz (rounded to a whole number of objects). */
  gzipFraction?: number;
  seed?: number;
  /** Directory to write to; without it the files are returned in memory. */
  out?: string;
  /**
   * Percent of the lines that are valid events of other types than `view` (delivered, click, dismiss, open), taken
   * from the plain views; the other kinds keep their share. Default 8 (the bench's own day, about 82 % views); 50 is
   * the mix real notification logs carry, where fewer than half of the lines become rows.
   */
  otherEventsPercent?: number;
};

export const LINE_KINDS = [
  'view',
  'view_utf8',
  'late_view',
  'long_line',
  'other_event',
  'duplicate_within',
  'duplicate_across',
  'blank',
  'invalid_json',
  'missing_field',
  'wrong_type',
  'bad_time',
  'bad_event_id',
  'not_object',
] as const;
export type LineKind = (typeof LINE_KINDS)[number];

export type ExpectedOutcome = {
  day: string;
  objects: number;
  lines: number;
  /** Distinct view event_ids. */
  views: number;
  /** Lines of valid non-view events, repeats included. */
  skipped: number;
  blank: number;
  rejected: number;
  rejectsByKey: Record<string, number[]>;
  /** View lines whose event_id was already seen earlier in the day. */
  duplicates: number;
  perNotification: Record<string, number>;
  perPlatform: Record<string, number>;
  /** Uncompressed bytes of all log objects. */
  bytes: number;
  /** Lines generated of each kind (a duplicate of a non-view event counts as a duplicate here). */
  mix: Record<LineKind, number>;
};

export type GeneratedFile = {
  key: string;
  role: 'log' | 'marker' | 'other';
  gzip: boolean;
  lines: number;
  /** Uncompressed size. */
  bytes: number;
  path?: string;
  body?: Buffer;
};

export type GeneratedDay = {
  expected: ExpectedOutcome;
  /** In upload order: the _SUCCESS marker comes last. */
  files: GeneratedFile[];
  expectedPath?: string;
};

// Weights in percent; long lines are kept rare because each is ~200 KB (11 bytes a repeat of the pad).
const DEFAULT_WEIGHTS: Record<LineKind, number> = {
  view: 77.98,
  view_utf8: 2,
  late_view: 1,
  long_line: 0.02,
  other_event: 8,
  duplicate_within: 1.5,
  duplicate_across: 1.5,
  blank: 2,
  invalid_json: 1.2,
  missing_field: 1.2,
  wrong_type: 1,
  bad_time: 1,
  bad_event_id: 0.3,
  not_object: 0.3,
};
const LONG_LINE_PAD = 200_000;

/** The weights with `percent` of other events, the difference taken from (or given to) the plain views. */
function weightsWith(percent: number | undefined): Record<LineKind, number> {
  if (percent === undefined) return DEFAULT_WEIGHTS;
  const view = DEFAULT_WEIGHTS.view + DEFAULT_WEIGHTS.other_event - percent;
  if (!(percent >= 0) || view < 0) {
    throw new Error(`otherEventsPercent must be within 0..${DEFAULT_WEIGHTS.view + DEFAULT_WEIGHTS.other_event}, got ${percent}`);
  }
  return { ...DEFAULT_WEIGHTS, view, other_event: percent };
}
const POOL_SIZE = 2000;
const BATCH_BYTES = 64 * 1024;
const MS_PER_DAY = 86_400_000;

type Event = {
  event_id: string;
  event_time: string;
  event_type: string;
  notification_id: string;
  user_id: string;
  platform: string;
  app_version?: string | null;
};
type PoolEntry = { json: string; eventId: string; isView: boolean };

export async function generateDay(opts: GenerateDayOptions): Promise<GeneratedDay> {
  const day = parseDay(opts.day);
  const objects = positiveInt('objects', opts.objects);
  const targetBytes = opts.targetBytes === undefined ? undefined : positiveInt('targetBytes', opts.targetBytes);
  const linesPerObject =
    opts.linesPerObject === undefined ? (targetBytes === undefined ? 20_000 : Infinity) : positiveInt('linesPerObject', opts.linesPerObject);
  const gzipFraction = opts.gzipFraction ?? 0.3;
  if (!(gzipFraction >= 0 && gzipFraction <= 1)) throw new Error(`gzipFraction must be within 0..1, got ${gzipFraction}`);
  const seed = opts.seed ?? 42;

  const gen = new DayGenerator(day, seed, weightsWith(opts.otherEventsPercent));
  const gzipped = new Set(gen.rng.shuffle([...Array(objects).keys()]).slice(0, Math.round(objects * gzipFraction)));
  const files: GeneratedFile[] = [];
  for (let i = 0; i < objects; i++) {
    const gzip = gzipped.has(i);
    const key = `${dayPrefix(day)}part-${String(i).padStart(5, '0')}.jsonl${gzip ? '.gz' : ''}`;
    const plan = gen.planObject(i, objects, key, linesPerObject, targetBytes);
    files.push(await writeObject(opts.out, key, gzip, plan, gen.objectLines(plan)));
  }
  files.push(await writeOther(opts.out, `${dayPrefix(day)}README.txt`, 'other', 'Not a log object: ingest ignores it.\n'));
  files.push(await writeOther(opts.out, `${dayPrefix(day)}part-00000.jsonl.crc`, 'other', 'crc\n'));
  files.push(await writeOther(opts.out, successMarkerKey(day), 'marker', ''));

  const expected = gen.expected(objects);
  if (opts.out === undefined) return { expected, files };
  const expectedPath = join(opts.out, `expected-${day}.json`);
  await writeFile(expectedPath, `${JSON.stringify(expected, null, 2)}\n`);
  return { expected, files, expectedPath };
}

type ObjectPlan = {
  index: number;
  key: string;
  maxLines: number;
  targetBytes: number | undefined;
  crlf: 'all' | 'some';
  finalNewline: boolean;
  /** Line index -> kind, so every kind shows up even in a tiny day. */
  forced: Map<number, LineKind>;
  lines: number;
  bytes: number;
};

class DayGenerator {
  readonly rng: Rng;
  private readonly dayStartMs: number;
  private readonly dayNumber: number;
  private readonly feistelKeys: number[];
  private readonly notifications: string[];
  private counter = 0;
  private withinPool: PoolEntry[] = [];
  private acrossPool: PoolEntry[] = [];
  private views = 0;
  private lines = 0;
  private bytes = 0;
  private skipped = 0;
  private blank = 0;
  private duplicates = 0;
  private readonly rejectsByKey = new Map<string, number[]>();
  private readonly perNotification = new Map<string, number>();
  private readonly perPlatform = new Map<string, number>();
  private readonly mix = Object.fromEntries(LINE_KINDS.map((k) => [k, 0])) as Record<LineKind, number>;

  constructor(
    private readonly day: string,
    seed: number,
    private readonly weights: Record<LineKind, number>,
  ) {
    this.rng = new Rng(fnv1a(`${seed}:${day}`));
    this.dayStartMs = Date.parse(`${day}T00:00:00Z`);
    this.dayNumber = Math.floor(this.dayStartMs / MS_PER_DAY);
    this.feistelKeys = [0, 1, 2, 3].map(() => this.rng.int(0x1000000));
    this.notifications = Array.from({ length: 300 }, () => `notif-${this.rng.int(1_000_000).toString().padStart(6, '0')}`);
  }

  planObject(index: number, objects: number, key: string, maxLines: number, targetBytes: number | undefined): ObjectPlan {
    const span = Number.isFinite(maxLines) ? maxLines : 1000;
    const forced = new Map<number, LineKind>();
    const force = (kind: LineKind) => {
      // Repeats go to the second half, where the object already has events to repeat.
      const from = kind.startsWith('duplicate') ? Math.floor(span / 2) : 0;
      for (let tries = 0; tries < 100; tries++) {
        const at = from + this.rng.int(span - from);
        if (!forced.has(at)) return void forced.set(at, kind);
      }
    };
    LINE_KINDS.forEach((kind, k) => {
      if (k % objects === index) force(kind);
    });
    // The first object has nothing earlier to repeat, so a cross-object repeat is also forced into the second.
    if (objects > 1 && index === 1) force('duplicate_across');
    return {
      index,
      key,
      maxLines,
      targetBytes,
      crlf: index % 3 === 1 ? 'all' : 'some',
      finalNewline: index % 2 === 1,
      forced,
      lines: 0,
      bytes: 0,
    };
  }

  /** The object's content in batches; the expectation is updated as each line is emitted. */
  async *objectLines(plan: ObjectPlan): AsyncGenerator<Buffer> {
    let batch = '';
    for (let n = 0; n < plan.maxLines; n++) {
      const kind = plan.forced.get(n) ?? this.rng.weighted(this.weights);
      const text = this.emit(kind, plan, n + 1);
      let size = Buffer.byteLength(text);
      const last = n + 1 === plan.maxLines || (plan.targetBytes !== undefined && plan.bytes + size + 1 >= plan.targetBytes);
      // An empty last line without a newline would not be a line at all, so that one keeps its newline.
      const terminator =
        last && !plan.finalNewline && text !== '' ? '' : plan.crlf === 'all' || this.rng.chance(0.02) ? '\r\n' : '\n';
      size += terminator.length;
      plan.bytes += size;
      plan.lines++;
      this.bytes += size;
      this.lines++;
      batch += text + terminator;
      if (batch.length >= BATCH_BYTES) {
        yield Buffer.from(batch);
        batch = '';
      }
      if (last) break;
    }
    if (batch !== '') yield Buffer.from(batch);
    for (const entry of this.withinPool) this.addToPool(this.acrossPool, entry);
    this.withinPool = [];
  }

  expected(objects: number): ExpectedOutcome {
    return {
      day: this.day,
      objects,
      lines: this.lines,
      views: this.views,
      skipped: this.skipped,
      blank: this.blank,
      rejected: [...this.rejectsByKey.values()].reduce((n, l) => n + l.length, 0),
      rejectsByKey: Object.fromEntries(this.rejectsByKey),
      duplicates: this.duplicates,
      perNotification: sortedRecord(this.perNotification),
      perPlatform: sortedRecord(this.perPlatform),
      bytes: this.bytes,
      mix: this.mix,
    };
  }

  /** Builds one line of the given kind and counts what an ingest must make of it. */
  private emit(kind: LineKind, plan: ObjectPlan, lineNumber: number): string {
    if (kind === 'duplicate_within' || kind === 'duplicate_across') {
      const pool = kind === 'duplicate_within' ? this.withinPool : this.acrossPool;
      if (pool.length === 0) return this.emit('view', plan, lineNumber);
      this.mix[kind]++;
      const entry = this.rng.pick(pool);
      if (entry.isView) this.duplicates++;
      else this.skipped++;
      // Upstream repeats are the same event, sometimes with the id spelled in upper case.
      return this.rng.chance(0.2) ? entry.json.replace(entry.eventId, entry.eventId.toUpperCase()) : entry.json;
    }
    this.mix[kind]++;
    switch (kind) {
      case 'view':
      case 'view_utf8':
      case 'late_view':
      case 'long_line':
      case 'other_event': {
        const e = this.event(kind === 'other_event' ? this.rng.pick(['delivered', 'click', 'dismiss', 'open']) : 'view');
        if (kind === 'view_utf8') {
          e.user_id = `${this.rng.pick(['usér', 'ユーザー', 'Zoë', '😀user', 'Ωmega'])}-${this.rng.int(100_000)}`;
          e.app_version = this.rng.pick(['5.12.0-βeta', '6.0.0 🚀', '5.11.9-ñ']);
        } else if (kind === 'late_view') {
          e.event_time = new Date(this.dayStartMs - 1 - this.rng.int(3 * 3_600_000)).toISOString();
        } else if (kind === 'long_line') {
          e.app_version = `5.12.0+${'abcdéf😀'.repeat(Math.ceil(LONG_LINE_PAD / 11))}`;
        }
        const json = JSON.stringify(e);
        if (e.event_type === 'view') this.countView(e);
        else this.skipped++;
        if (kind !== 'long_line') {
          const entry = { json, eventId: e.event_id, isView: e.event_type === 'view' };
          this.addToPool(this.withinPool, entry);
        }
        return json;
      }
      case 'blank':
        this.blank++;
        return this.rng.pick(['', '', '', ' ', '\t', '   ']);
      default:
        this.reject(plan.key, lineNumber);
        return this.bad(kind);
    }
  }

  private bad(kind: LineKind): string {
    const e: Record<string, unknown> = this.event(this.rng.chance(0.8) ? 'view' : 'click');
    switch (kind) {
      case 'invalid_json': {
        const json = JSON.stringify(e);
        return this.rng.pick([
          () => json.slice(0, 1 + this.rng.int(json.length - 1)),
          () => `${json.slice(0, -1)},}`,
          () => json.replace(/"(\w+)":/g, '$1:'),
          () => `ERROR 500 upstream timeout for ${e.event_id}`,
          () => `{"event_id": "${e.event_id}", "user_id": "caf\u00e9`,
        ])();
      }
      case 'missing_field':
        delete e[this.rng.pick(['event_id', 'event_time', 'event_type', 'notification_id', 'user_id', 'platform'])];
        return JSON.stringify(e);
      case 'wrong_type': {
        const [field, value] = this.rng.pick<[string, unknown]>([
          ['user_id', this.rng.int(1_000_000)],
          ['notification_id', this.rng.int(1_000)],
          ['platform', true],
          ['event_time', this.dayStartMs + this.rng.int(MS_PER_DAY)],
          ['event_type', null],
        ]);
        e[field] = value;
        return JSON.stringify(e);
      }
      case 'bad_time':
        e.event_time = this.rng.pick(['not-a-time', `${this.day.slice(0, 5)}13-45T99:00:00Z`, '', '01/05/2024 12:00', `${this.day}T25:00:00Z`, this.day]);
        return JSON.stringify(e);
      case 'bad_event_id':
        e.event_id = this.rng.pick(['evt-12345', '', 'not-a-uuid-at-all-but-long-enough-36', `${String(e.event_id).slice(0, 35)}g`]);
        return JSON.stringify(e);
      case 'not_object':
        return this.rng.pick(['[1,2,3]', '"view"', '42', 'null', 'true', `[${JSON.stringify(e)}]`]);
      default:
        throw new Error(`not a bad kind: ${kind}`);
    }
  }

  private event(eventType: string): Event {
    const rng = this.rng;
    const e: Event = {
      event_id: this.nextEventId(),
      event_time: this.eventTime(this.dayStartMs + rng.int(MS_PER_DAY)),
      event_type: eventType,
      // Squaring skews towards the first notifications, as real campaigns are uneven.
      notification_id: this.notifications[Math.floor(rng.next() ** 2 * this.notifications.length)] as string,
      user_id: `user-${rng.int(1_000_000)}`,
      platform: rng.weighted({ ios: 45, android: 44, web: 10, ipados: 1 }),
    };
    const v = rng.next();
    if (v < 0.85) e.app_version = `${5 + rng.int(2)}.${rng.int(20)}.${rng.int(10)}`;
    else if (v < 0.9) e.app_version = null;
    return e;
  }

  private eventTime(ms: number): string {
    const iso = new Date(ms).toISOString();
    const r = this.rng.next();
    if (r < 0.7) return iso;
    if (r < 0.85) return `${iso.slice(0, 19)}Z`;
    if (r < 0.95) return `${new Date(ms + 2 * 3_600_000).toISOString().slice(0, 23)}+02:00`;
    return `${iso.slice(0, 23)}${String(this.rng.int(1000)).padStart(3, '0')}Z`;
  }

  /**
   * Random-looking UUIDs that cannot collide: the day number sits in the second group and a permutation of
   * a per-day counter fills the last 48 bits.
   */
  private nextEventId(): string {
    const tail = feistel48(this.counter++, this.feistelKeys);
    const hex = (n: number, width: number) => n.toString(16).padStart(width, '0');
    return [
      hex(this.rng.int(0x100000000), 8),
      hex(this.dayNumber & 0xffff, 4),
      `4${hex(this.rng.int(0x1000), 3)}`,
      hex(0x8000 | this.rng.int(0x4000), 4),
      hex(tail, 12),
    ].join('-');
  }

  private countView(e: Event): void {
    this.views++;
    increment(this.perNotification, e.notification_id);
    increment(this.perPlatform, e.platform);
  }

  private reject(key: string, lineNumber: number): void {
    let list = this.rejectsByKey.get(key);
    if (!list) this.rejectsByKey.set(key, (list = []));
    list.push(lineNumber);
  }

  private addToPool(pool: PoolEntry[], entry: PoolEntry): void {
    if (pool.length < POOL_SIZE) pool.push(entry);
    else pool[this.rng.int(POOL_SIZE)] = entry;
  }
}

async function writeObject(
  out: string | undefined,
  key: string,
  gzip: boolean,
  plan: ObjectPlan,
  content: AsyncGenerator<Buffer>,
): Promise<GeneratedFile> {
  const source = Readable.from(content);
  const file: GeneratedFile = { key, role: 'log', gzip, lines: 0, bytes: 0 };
  if (out === undefined) {
    const parts: Buffer[] = [];
    const collect = async (stream: AsyncIterable<Buffer>) => {
      for await (const c of stream) parts.push(c);
    };
    if (gzip) await pipeline(source, createGzip(), collect);
    else await pipeline(source, collect);
    file.body = Buffer.concat(parts);
  } else {
    file.path = join(out, key);
    await mkdir(dirname(file.path), { recursive: true });
    if (gzip) await pipeline(source, createGzip(), createWriteStream(file.path));
    else await pipeline(source, createWriteStream(file.path));
  }
  file.lines = plan.lines;
  file.bytes = plan.bytes;
  return file;
}

async function writeOther(out: string | undefined, key: string, role: GeneratedFile['role'], text: string): Promise<GeneratedFile> {
  const file: GeneratedFile = { key, role, gzip: false, lines: 0, bytes: Buffer.byteLength(text) };
  if (out === undefined) {
    file.body = Buffer.from(text);
  } else {
    file.path = join(out, key);
    await mkdir(dirname(file.path), { recursive: true });
    await writeFile(file.path, text);
  }
  return file;
}


/** A bijection on 48-bit integers (a 4-round Feistel network on 24-bit halves), so distinct inputs stay distinct. */
function feistel48(x: number, keys: number[]): number {
  let left = Math.floor(x / 0x1000000) & 0xffffff;
  let right = x & 0xffffff;
  for (const key of keys) {
    const f = (Math.imul(right ^ key, 0x2c1b3c6d) >>> 8) & 0xffffff;
    [left, right] = [right, left ^ f];
  }
  return left * 0x1000000 + right;
}

function fnv1a(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

function increment(map: Map<string, number>, key: string): void {
  map.set(key, (map.get(key) ?? 0) + 1);
}

function sortedRecord(map: Map<string, number>): Record<string, number> {
  return Object.fromEntries([...map].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

function positiveInt(name: string, v: number): number {
  if (!Number.isSafeInteger(v) || v < 1) throw new Error(`${name} must be a positive integer, got ${v}`);
  return v;
}

async function main(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      day: { type: 'string' },
      objects: { type: 'string', default: '5' },
      'lines-per-object': { type: 'string' },
      'target-bytes': { type: 'string' },
      out: { type: 'string' },
      'gzip-fraction': { type: 'string', default: '0.3' },
      seed: { type: 'string', default: '42' },
      'other-events': { type: 'string' },
    },
    strict: true,
  });
  if (!values.day || !values.out) throw new Error('usage: generate-day.ts --day YYYY-MM-DD --out DIR [--objects N] [--lines-per-object N] [--target-bytes N] [--gzip-fraction F] [--seed N] [--other-events PERCENT]');
  const num = (name: string, v: string | undefined) => {
    if (v === undefined) return undefined;
    const n = Number(v);
    if (!Number.isFinite(n)) throw new Error(`--${name} must be a number, got ${JSON.stringify(v)}`);
    return n;
  };
  const started = Date.now();
  const result = await generateDay({
    day: values.day,
    out: values.out,
    objects: num('objects', values.objects) as number,
    linesPerObject: num('lines-per-object', values['lines-per-object']),
    targetBytes: num('target-bytes', values['target-bytes']),
    gzipFraction: num('gzip-fraction', values['gzip-fraction']),
    seed: num('seed', values.seed),
    otherEventsPercent: num('other-events', values['other-events']),
  });
  const { rejectsByKey: _r, perNotification: _p, ...summary } = result.expected;
  console.log(JSON.stringify({ ...summary, expectedPath: result.expectedPath, seconds: (Date.now() - started) / 1000 }, null, 2));
}

if (require.main === module) {
  main(process.argv.slice(2)).catch((err: unknown) => {
    console.error(err instanceof Error ? err.message : err);
    process.exitCode = 1;
  });
}
