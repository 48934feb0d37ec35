/**
 * Splits a byte stream into lines, reporting the byte offset after each line so that ingest can checkpoint
 * (endOffset, lineNumber) and resume exactly at the next line. Works on bytes (a line's bytes are decoded only
 * once the line is complete), so multi-byte UTF-8 split across reads decodes correctly.
 */
import { isUtf8 } from 'node:buffer';
import { truncateChars } from '../../domain/text';

export const DEFAULT_MAX_LINE_BYTES = 8 * 1024 * 1024;
/** Text kept of a line over the size limit, enough for a human to recognise it in the rejects. */
export const TOO_LONG_PREVIEW_CHARS = 1000;
// Four bytes per character at most, so this many bytes always decode to a full preview.
const PREVIEW_BYTES = 4 * TOO_LONG_PREVIEW_CHARS;

export type Line = {
  /** Decoded line without its `\n` or `\r\n` terminator; only a preview when `tooLong`. */
  text: string;
  /** 1-based. */
  lineNumber: number;
  /** Byte offset in the (decompressed) stream just past this line's terminator. */
  endOffset: number;
  /** Bytes of the line without its terminator. */
  byteLength: number;
  /** The line was longer than maxLineBytes; its bytes past the preview were not kept. */
  tooLong?: true;
  /** The line's bytes are not valid UTF-8 (text holds U+FFFD where they were). */
  invalidUtf8?: true;
};

export type ReadLinesOptions = {
  /** Offset of the source's first byte in the whole stream: the source must already start there. */
  startOffset?: number;
  /** Number given to the first line read. */
  startLineNumber?: number;
  maxLineBytes?: number;
};

export type LineCheckpoint = { endOffset: number; lineNumber: number };

/** Options that continue reading right after the checkpointed line. */
export function resumeOptions(checkpoint: LineCheckpoint): { startOffset: number; startLineNumber: number } {
  return { startOffset: checkpoint.endOffset, startLineNumber: checkpoint.lineNumber + 1 };
}

/**
 * Push-based splitter at the core of readLines, for callers that want lines without an await per line.
 * Memory stays within maxLineBytes plus one chunk: unfinished lines are kept as copied parts and joined once.
 */
export class LineSplitter {
  private readonly maxLineBytes: number;
  private offset: number;
  private lineNumber: number;
  private parts: Buffer[] = [];
  private pendingBytes = 0;
  private lastByte = -1;
  private tooLong = false;
  private preview: Buffer[] = [];
  private previewBytes = 0;

  constructor(opts: ReadLinesOptions = {}) {
    this.offset = checkInt('startOffset', opts.startOffset ?? 0, 0);
    this.lineNumber = checkInt('startLineNumber', opts.startLineNumber ?? 1, 1);
    this.maxLineBytes = checkInt('maxLineBytes', opts.maxLineBytes ?? DEFAULT_MAX_LINE_BYTES, 1);
  }

  /** Splits `chunk`, appending every line it completes to `out`. */
  push(chunk: Uint8Array, out: Line[]): void {
    const buf = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    const base = this.offset;
    let pos = 0;
    while (pos < buf.length) {
      const nl = buf.indexOf(10, pos);
      if (nl === -1) {
        this.append(buf, pos, buf.length);
        break;
      }
      out.push(this.finishLine(buf, pos, nl, base + nl + 1));
      pos = nl + 1;
    }
    this.offset += buf.length;
  }

  /** Appends the last line when the stream did not end with a newline. */
  end(out: Line[]): void {
    if (this.pendingBytes > 0) out.push(this.finishLine(Buffer.alloc(0), 0, 0, this.offset));
  }

  private finishLine(buf: Buffer, from: number, to: number, endOffset: number): Line {
    const lineNumber = this.lineNumber++;
    if (this.pendingBytes === 0 && to - from <= this.maxLineBytes) {
      return decodeLine(buf, from, to, lineNumber, endOffset);
    }
    this.append(buf, from, to);
    if (!this.tooLong) {
      const bytes = Buffer.concat(this.parts, this.pendingBytes);
      this.reset();
      return decodeLine(bytes, 0, bytes.length, lineNumber, endOffset);
    }
    const text = truncateChars(Buffer.concat(this.preview, this.previewBytes).toString('utf8'), TOO_LONG_PREVIEW_CHARS);
    const byteLength = this.pendingBytes - (this.lastByte === 13 ? 1 : 0);
    this.reset();
    return { text, lineNumber, endOffset, byteLength, tooLong: true };
  }

  private append(buf: Buffer, from: number, to: number): void {
    const n = to - from;
    if (n === 0) return;
    this.lastByte = buf[to - 1] as number;
    if (!this.tooLong && this.pendingBytes + n > this.maxLineBytes) {
      this.tooLong = true;
      for (const part of this.parts) this.addPreview(part, 0, part.length);
      this.parts = [];
    }
    if (this.tooLong) {
      this.addPreview(buf, from, to);
    } else {
      // A copy, so the caller may reuse its buffer and a small tail does not pin a large chunk.
      this.parts.push(Buffer.from(buf.subarray(from, to)));
    }
    this.pendingBytes += n;
  }

  private addPreview(buf: Buffer, from: number, to: number): void {
    const take = Math.min(to - from, PREVIEW_BYTES - this.previewBytes);
    if (take <= 0) return;
    this.preview.push(Buffer.from(buf.subarray(from, from + take)));
    this.previewBytes += take;
  }

  private reset(): void {
    this.parts = [];
    this.pendingBytes = 0;
    this.lastByte = -1;
    this.tooLong = false;
    this.preview = [];
    this.previewBytes = 0;
  }
}

/** Lines of `source`, which must already begin at `opts.startOffset` (e.g. a Range GET, or dropBytes). */
export async function* readLines(source: AsyncIterable<Uint8Array>, opts: ReadLinesOptions = {}): AsyncGenerator<Line> {
  const splitter = new LineSplitter(opts);
  const out: Line[] = [];
  for await (const chunk of source) {
    splitter.push(chunk, out);
    for (const line of out) yield line;
    out.length = 0;
  }
  splitter.end(out);
  yield* out;
}

/**
 * Chunks of up to `size` lines, like chunkLines(readLines(...)) but without an await per line.
 * This is the one to use on the ingest path.
 */
export async function* readLineChunks(
  source: AsyncIterable<Uint8Array>,
  opts: ReadLinesOptions & { size?: number } = {},
): AsyncGenerator<Line[]> {
  const size = checkInt('size', opts.size ?? 1000, 1);
  const splitter = new LineSplitter(opts);
  let pending: Line[] = [];
  for await (const chunk of source) {
    splitter.push(chunk, pending);
    if (pending.length >= size) {
      let i = 0;
      for (; i + size <= pending.length; i += size) yield pending.slice(i, i + size);
      pending = pending.slice(i);
    }
  }
  splitter.end(pending);
  for (let i = 0; i < pending.length; i += size) yield pending.slice(i, i + size);
}

/**
 * Skips the first `n` bytes of `source`: how a resumed read of a stream that cannot be opened at an offset
 * (gzip) gets to its checkpoint. Throws if the source is shorter, since the checkpoint then names another object.
 */
export async function* dropBytes(source: AsyncIterable<Uint8Array>, n: number): AsyncGenerator<Uint8Array> {
  let left = checkInt('n', n, 0);
  for await (const chunk of source) {
    if (left === 0) {
      yield chunk;
    } else if (chunk.byteLength <= left) {
      left -= chunk.byteLength;
    } else {
      yield chunk.subarray(left);
      left = 0;
    }
  }
  if (left > 0) throw new Error(`source ended ${left} bytes before offset ${n}`);
}

/** Arrays of up to `size` items, in order; the last may be shorter, none is empty. */
export async function* chunkLines<T>(lines: AsyncIterable<T>, size = 1000): AsyncGenerator<T[]> {
  checkInt('size', size, 1);
  let batch: T[] = [];
  for await (const line of lines) {
    batch.push(line);
    if (batch.length === size) {
      yield batch;
      batch = [];
    }
  }
  if (batch.length > 0) yield batch;
}

function decodeLine(bytes: Buffer, from: number, to: number, lineNumber: number, endOffset: number): Line {
  if (to > from && bytes[to - 1] === 13) to--;
  const text = bytes.toString('utf8', from, to);
  // The replacement character is rare in real text, so the full UTF-8 check runs only when it shows up.
  if (text.includes('\uFFFD') && !isUtf8(bytes.subarray(from, to))) {
    return { text, lineNumber, endOffset, byteLength: to - from, invalidUtf8: true };
  }
  return { text, lineNumber, endOffset, byteLength: to - from };
}

function checkInt(name: string, value: number, min: number): number {
  if (!Number.isSafeInteger(value) || value < min) throw new Error(`${name} must be an integer >= ${min}, got ${value}`);
  return value;
}
