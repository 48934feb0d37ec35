import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  chunkLines,
  dropBytes,
  readLineChunks,
  readLines,
  resumeOptions,
  type Line,
  type ReadLinesOptions,
} from '../../features/notificationViews/lineReader';

async function* chunks(bytes: Uint8Array, sizes: number | (() => number)): AsyncGenerator<Uint8Array> {
  for (let i = 0; i < bytes.length; ) {
    const n = typeof sizes === 'number' ? sizes : sizes();
    yield bytes.subarray(i, i + n);
    i += n;
  }
}

async function collect<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
}

async function read(input: string | Uint8Array, size: number | (() => number) = 65536, opts: ReadLinesOptions = {}) {
  const bytes = typeof input === 'string' ? Buffer.from(input) : input;
  return collect(readLines(chunks(bytes, size), opts));
}

const texts = (lines: Line[]) => lines.map((l) => l.text);

/** Reference split: what the reader must produce for valid UTF-8 with lines under the limit. */
function naiveSplit(s: string): string[] {
  if (s === '') return [];
  const parts = s.split('\n');
  if (s.endsWith('\n')) parts.pop();
  return parts.map((p) => (p.endsWith('\r') ? p.slice(0, -1) : p));
}

function prng(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe('readLines', () => {
  it('yields nothing for empty input', async () => {
    assert.deepEqual(await read(''), []);
  });

  it('yields blank lines for input of only newlines', async () => {
    const lines = await read('\n\n\r\n');
    assert.deepEqual(texts(lines), ['', '', '']);
    assert.deepEqual(
      lines.map((l) => [l.lineNumber, l.endOffset]),
      [
        [1, 1],
        [2, 2],
        [3, 4],
      ],
    );
  });

  it('strips CR of CRLF endings only at the end of a line', async () => {
    const lines = await read('a\r\nb\rc\r\n\r\nd\n');
    assert.deepEqual(texts(lines), ['a', 'b\rc', '', 'd']);
    assert.deepEqual(
      lines.map((l) => l.byteLength),
      [1, 3, 0, 1],
    );
  });

  it('yields a last line without a newline, and a lone CR as a blank line', async () => {
    const lines = await read('a\nbc');
    assert.deepEqual(texts(lines), ['a', 'bc']);
    assert.deepEqual(
      lines.map((l) => l.endOffset),
      [2, 4],
    );
    assert.deepEqual(texts(await read('a\n\r')), ['a', '']);
  });

  it('decodes multi-byte UTF-8 split at every byte boundary', async () => {
    const s = 'é😀x\r\nñandú 🚀\n€\n';
    const bytes = Buffer.from(s);
    assert.deepEqual(texts(await read(bytes, 1)), naiveSplit(s));
    for (let cut = 1; cut < bytes.length; cut++) {
      const two = async function* () {
        yield bytes.subarray(0, cut);
        yield bytes.subarray(cut);
      };
      assert.deepEqual(texts(await collect(readLines(two()))), naiveSplit(s), `cut at ${cut}`);
    }
  });

  it('accepts plain Uint8Array chunks', async () => {
    const u8 = new Uint8Array(Buffer.from('x\ny\n'));
    assert.deepEqual(texts(await read(u8, 3)), ['x', 'y']);
  });

  it('matches a reference split for random content and random chunk sizes', async () => {
    const rnd = prng(7);
    const alphabet = ['a', 'b', '\n', '\r\n', 'é', '😀', ' ', '{', '"', '\n\n'];
    for (let round = 0; round < 50; round++) {
      let s = '';
      const len = Math.floor(rnd() * 400);
      for (let i = 0; i < len; i++) s += alphabet[Math.floor(rnd() * alphabet.length)];
      const lines = await read(Buffer.from(s), () => 1 + Math.floor(rnd() * 17));
      assert.deepEqual(texts(lines), naiveSplit(s));
      assert.equal(lines.at(-1)?.endOffset ?? 0, Buffer.byteLength(s));
      assert.deepEqual(
        lines.map((l) => l.lineNumber),
        lines.map((_, i) => i + 1),
      );
    }
  });

  it('reads a 5 MB line', async () => {
    const long = `{"pad":"${'é'.repeat(2_500_000)}"}`;
    const lines = await read(`${long}\nnext\n`, 65536);
    assert.equal(lines.length, 2);
    assert.equal(lines[0]!.text, long);
    assert.equal(lines[0]!.byteLength, Buffer.byteLength(long));
    assert.equal(lines[1]!.text, 'next');
  });

  it('marks lines over maxLineBytes as too long and keeps only a preview', async () => {
    const opts = { maxLineBytes: 3000 };
    const big = 'x'.repeat(10_000);
    for (const size of [65536, 100, 1]) {
      const lines = await read(`ok\n${big}\r\nafter\n${big}`, size, opts);
      assert.deepEqual(
        lines.map((l) => [l.lineNumber, l.tooLong ?? false, l.text.length, l.byteLength]),
        [
          [1, false, 2, 2],
          [2, true, 1000, 10_000],
          [3, false, 5, 5],
          [4, true, 1000, 10_000],
        ],
        `chunk size ${size}`,
      );
      assert.equal(lines[1]!.endOffset, 3 + 10_002);
      assert.equal(lines[3]!.endOffset, 3 + 10_002 + 6 + 10_000);
    }
    const exact = await read(`${'y'.repeat(3000)}\n`, 7, opts);
    assert.equal(exact[0]!.tooLong, undefined, 'a line of exactly maxLineBytes is fine');
  });

  it('flags lines that are not valid UTF-8', async () => {
    const bytes = Buffer.concat([Buffer.from('ok \uFFFD\n'), Buffer.from([0x61, 0xff, 0x62, 0x0a]), Buffer.from('é\n')]);
    const lines = await read(bytes, 1);
    assert.deepEqual(
      lines.map((l) => l.invalidUtf8 ?? false),
      [false, true, false],
    );
    assert.equal(lines[1]!.text, 'a\uFFFDb');
  });

  it('resumes from every checkpoint with the same remaining lines', async () => {
    const s = 'first\r\n\n{"user":"😀é"}\n' + 'z'.repeat(500) + '\n\r\nlast without newline é';
    const bytes = Buffer.from(s);
    const all = await read(bytes, 5);
    assert.equal(all.length, naiveSplit(s).length);
    for (let i = 0; i < all.length; i++) {
      const cp = { endOffset: all[i]!.endOffset, lineNumber: all[i]!.lineNumber };
      const expected = all.slice(i + 1);
      // A ranged read (plain objects) starts the source at the checkpoint ...
      const ranged = await read(bytes.subarray(cp.endOffset), 3, resumeOptions(cp));
      assert.deepEqual(ranged, expected, `ranged resume after line ${cp.lineNumber}`);
      // ... a gzip object is re-read from the start and the bytes before the checkpoint dropped.
      const dropped = await collect(readLines(dropBytes(chunks(bytes, 4), cp.endOffset), resumeOptions(cp)));
      assert.deepEqual(dropped, expected, `dropBytes resume after line ${cp.lineNumber}`);
    }
  });

  it('rejects invalid options', async () => {
    await assert.rejects(read('a', 1, { startOffset: -1 }), /startOffset/);
    await assert.rejects(read('a', 1, { startLineNumber: 0 }), /startLineNumber/);
    await assert.rejects(read('a', 1, { maxLineBytes: 0.5 }), /maxLineBytes/);
  });
});

describe('dropBytes', () => {
  it('drops across chunk boundaries and fails when the source is too short', async () => {
    const bytes = Buffer.from('0123456789');
    const rest = await collect(dropBytes(chunks(bytes, 3), 4));
    assert.equal(Buffer.concat(rest).toString(), '456789');
    assert.equal(Buffer.concat(await collect(dropBytes(chunks(bytes, 3), 10))).toString(), '');
    await assert.rejects(collect(dropBytes(chunks(bytes, 3), 11)), /ended 1 bytes before offset 11/);
  });
});

describe('chunkLines and readLineChunks', () => {
  async function* numbers(n: number) {
    for (let i = 0; i < n; i++) yield i;
  }

  it('chunkLines yields full chunks and a shorter last one, never an empty one', async () => {
    assert.deepEqual(
      (await collect(chunkLines(numbers(2500), 1000))).map((c) => c.length),
      [1000, 1000, 500],
    );
    assert.deepEqual(
      (await collect(chunkLines(numbers(2000)))).map((c) => c.length),
      [1000, 1000],
    );
    assert.deepEqual(await collect(chunkLines(numbers(0), 10)), []);
    assert.deepEqual(await collect(chunkLines(numbers(3), 1)), [[0], [1], [2]]);
    await assert.rejects(collect(chunkLines(numbers(3), 0)), /size/);
  });

  it('readLineChunks gives the same chunks as chunkLines(readLines) whatever the read sizes', async () => {
    const s = Array.from({ length: 2345 }, (_, i) => (i % 7 === 0 ? '' : `line ${i} é`)).join('\r\n');
    const bytes = Buffer.from(s);
    const expected = await collect(chunkLines(readLines(chunks(bytes, 65536)), 100));
    assert.deepEqual(
      expected.map((c) => c.length),
      [...Array(23).fill(100), 45],
    );
    for (const size of [1, 13, 4096, bytes.length]) {
      assert.deepEqual(await collect(readLineChunks(chunks(bytes, size), { size: 100 })), expected, `read size ${size}`);
    }
  });
});
