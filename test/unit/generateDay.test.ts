import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createReadStream } from 'node:fs';
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative, sep } from 'node:path';
import { Readable } from 'node:stream';
import { createGunzip, gunzipSync } from 'node:zlib';
import { dayPrefix, isGzipKey, isLogObjectKey } from '../../domain/day';
import { readLineChunks } from '../../features/notificationViews/lineReader';
import { parseChunk } from '../../features/notificationViews/parse';
import { generateDay, LINE_KINDS, type ExpectedOutcome, type GeneratedDay } from '../../scripts/generate-day';

const DAY = '2024-05-01';
const OPTS = { day: DAY, objects: 4, linesPerObject: 3000, gzipFraction: 0.5, seed: 7 };

/** What an ingest of the day makes of the files, computed with the domain modules only. */
async function ingestLikeTheService(root: string, keys: string[]) {
  const seen = new Set<string>();
  const perNotification = new Map<string, number>();
  const perPlatform = new Map<string, number>();
  const rejectsByKey: Record<string, number[]> = {};
  let lines = 0;
  let skipped = 0;
  let blank = 0;
  let duplicates = 0;
  for (const key of keys) {
    // Small reads, so lines and multi-byte characters straddle read boundaries all the time.
    const file = createReadStream(join(root, key), { highWaterMark: 997 });
    const source: Readable = isGzipKey(key) ? file.pipe(createGunzip({ chunkSize: 1021 })) : file;
    for await (const chunk of readLineChunks(source, { size: 1000 })) {
      const r = parseChunk(chunk, DAY);
      lines += chunk.length;
      skipped += r.skipped;
      blank += r.blank;
      duplicates += r.duplicatesInChunk;
      for (const reject of r.rejects) (rejectsByKey[key] ??= []).push(reject.lineNumber);
      for (const v of r.views) {
        assert.equal(v.day, DAY);
        if (seen.has(v.eventId)) {
          duplicates++;
          continue;
        }
        seen.add(v.eventId);
        perNotification.set(v.notificationId, (perNotification.get(v.notificationId) ?? 0) + 1);
        perPlatform.set(v.platform, (perPlatform.get(v.platform) ?? 0) + 1);
      }
    }
  }
  const sorted = (m: Map<string, number>) => Object.fromEntries([...m].sort(([a], [b]) => (a < b ? -1 : 1)));
  return {
    objects: keys.length,
    lines,
    views: seen.size,
    skipped,
    blank,
    rejected: Object.values(rejectsByKey).reduce((n, l) => n + l.length, 0),
    rejectsByKey,
    duplicates,
    perNotification: sorted(perNotification),
    perPlatform: sorted(perPlatform),
  };
}

async function listKeys(root: string): Promise<string[]> {
  const entries = await readdir(root, { recursive: true, withFileTypes: true });
  return entries
    .filter((e) => e.isFile())
    .map((e) => relative(root, join(e.parentPath, e.name)).split(sep).join('/'))
    .sort();
}

describe('generateDay', () => {
  let dir: string;
  let day: GeneratedDay;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'generate-day-'));
    day = await generateDay({ ...OPTS, out: dir });
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('lays the files out like the S3 keys, marker last', async () => {
    const p = dayPrefix(DAY);
    assert.deepEqual(await listKeys(dir), [
      'expected-2024-05-01.json',
      `${p}README.txt`,
      `${p}_SUCCESS`,
      `${p}part-00000.jsonl.crc`,
      ...day.files.filter((f) => f.role === 'log').map((f) => f.key),
    ].sort());
    assert.equal(day.files.filter((f) => f.gzip).length, 2);
    assert.equal(day.files.at(-1)?.key, `${p}_SUCCESS`);
    const written = JSON.parse(await readFile(join(dir, `expected-${DAY}.json`), 'utf8')) as ExpectedOutcome;
    assert.deepEqual(written, day.expected);
  });

  it('mixes in every kind of line, including the awkward ones', async () => {
    for (const kind of LINE_KINDS) assert.ok(day.expected.mix[kind] > 0, `no ${kind} line`);
    const texts = await Promise.all(
      day.files
        .filter((f) => f.role === 'log')
        .map(async (f) => {
          const bytes = await readFile(f.path as string);
          return (f.gzip ? gunzipSync(bytes) : bytes).toString('utf8');
        }),
    );
    const all = texts.join('\n');
    assert.ok(all.includes('\r\n'), 'CRLF endings');
    assert.ok(texts.some((t) => !t.endsWith('\n')), 'an object without a final newline');
    assert.ok(/[\u0080-\uFFFF]/.test(all), 'multi-byte UTF-8');
    assert.ok(all.split('\n').some((l) => Buffer.byteLength(l) > 190_000), 'a very long line');
    assert.ok(day.expected.duplicates > 0 && day.expected.rejected > 0 && day.expected.skipped > 0 && day.expected.blank > 0);
  });

  it('states exactly what the domain parser and line reader make of the files', async () => {
    const keys = day.files.filter((f) => isLogObjectKey(f.key)).map((f) => f.key);
    assert.equal(keys.length, OPTS.objects);
    const actual = await ingestLikeTheService(dir, keys);
    const { day: _d, bytes: _b, mix: _m, ...expected } = day.expected;
    assert.deepEqual(actual, expected);
  });

  it('is deterministic from the seed, in memory as on disk', async () => {
    const again = await generateDay(OPTS);
    assert.deepEqual(again.expected, day.expected);
    for (const [i, f] of again.files.entries()) {
      assert.equal(f.key, day.files[i]!.key);
      assert.ok(f.body!.equals(await readFile(day.files[i]!.path as string)), f.key);
    }
    const other = await generateDay({ ...OPTS, seed: 8 });
    assert.notDeepEqual(other.expected.perNotification, day.expected.perNotification);
  });

  it('makes the half-views mix on request, and its expectation still matches what the parser makes of it', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'generate-day-mix-'));
    try {
      const half = await generateDay({ ...OPTS, otherEventsPercent: 50, out: dir });
      const e = half.expected;
      assert.ok(e.mix.other_event > 0.45 * e.lines && e.mix.other_event < 0.55 * e.lines, `${e.mix.other_event} of ${e.lines}`);
      assert.ok(e.views < 0.5 * e.lines && e.views < 0.6 * day.expected.views, `${e.views} rows of ${e.lines} lines`);
      for (const kind of LINE_KINDS) assert.ok(e.mix[kind] > 0, `no ${kind} line`);
      const keys = half.files.filter((f) => isLogObjectKey(f.key)).map((f) => f.key);
      const { day: _d, bytes: _b, mix: _m, ...expected } = e;
      assert.deepEqual(await ingestLikeTheService(dir, keys), expected);
      await assert.rejects(generateDay({ ...OPTS, otherEventsPercent: 90 }), /otherEventsPercent must be within 0\.\.85\.98/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('grows objects to a target size', async () => {
    const r = await generateDay({ day: DAY, objects: 2, targetBytes: 300_000, gzipFraction: 0, seed: 1 });
    for (const f of r.files.filter((x) => x.role === 'log')) {
      assert.equal(f.body!.length, f.bytes);
      assert.ok(f.bytes >= 300_000 && f.bytes < 300_000 + 250_000, `${f.key}: ${f.bytes} bytes`);
    }
    assert.equal(r.expected.lines, r.files.reduce((n, f) => n + f.lines, 0));
  });

  it('runs as a CLI', async () => {
    const out = await mkdtemp(join(tmpdir(), 'generate-day-cli-'));
    try {
      const res = spawnSync(
        process.execPath,
        ['--import', 'tsx', 'scripts/generate-day.ts', '--day', DAY, '--objects', '2', '--lines-per-object', '50', '--out', out, '--seed', '3'],
        { encoding: 'utf8' },
      );
      assert.equal(res.status, 0, res.stderr);
      assert.equal(JSON.parse(res.stdout).lines, 100);
      const bad = spawnSync(process.execPath, ['--import', 'tsx', 'scripts/generate-day.ts', '--day', '2024-02-30', '--out', out], {
        encoding: 'utf8',
      });
      assert.equal(bad.status, 1);
      assert.match(bad.stderr, /invalid day/);
    } finally {
      await rm(out, { recursive: true, force: true });
    }
  });
});
