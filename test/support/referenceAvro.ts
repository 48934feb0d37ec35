/**
 * A reference decoder of CuratedProgramEvent values (raw Avro binary, the schema kept in the repo), written by hand
 * from the Avro specification so a test's expected rows and dead letters do not share the product's decoder or its
 * Avro library. It must never import the product's decoder. Reasons are matched as classes (the rule a value
 * breaks), with the exact numbers where the rule has one (trailing bytes, lengths).
 */

export const REF_ACTIONS = ['ADDED', 'REMOVED', 'UPDATED'] as const;
const MAX_ID_CHARS = 256;
const MAX_TITLE_CHARS = 2000;

export interface RefEvent {
  eventId: string;
  programId: string;
  creatorId: string;
  action: (typeof REF_ACTIONS)[number];
  occurredAtMs: number;
  title: string | null;
}

export type RefDecoded = { ok: true; event: RefEvent } | { ok: false; reason: RegExp };

class Truncated extends Error {}
class Invalid extends Error {}

/** Avro `long`: zig-zag varint of at most 10 bytes. BigInt, so no value loses precision on the way. */
function readLong(b: Buffer, at: { pos: number }): bigint {
  let n = 0n;
  let shift = 0n;
  for (let i = 0; ; i++) {
    if (i >= 10) throw new Invalid('varint longer than 10 bytes');
    if (at.pos >= b.length) throw new Truncated();
    const byte = b[at.pos++]!;
    n |= BigInt(byte & 0x7f) << shift;
    if ((byte & 0x80) === 0) break;
    shift += 7n;
  }
  return (n >> 1n) ^ -(n & 1n);
}

function readString(b: Buffer, at: { pos: number }): string {
  const len = readLong(b, at);
  if (len < 0n) throw new Invalid('negative length');
  if (BigInt(at.pos) + len > BigInt(b.length)) throw new Truncated();
  const s = b.toString('utf8', at.pos, at.pos + Number(len));
  at.pos += Number(len);
  return s;
}

const fieldProblem = (field: string, v: string, max: number, emptyOk: boolean): RegExp | undefined => {
  if (!emptyOk && v.trim() === '') return new RegExp(`^${field}: empty$`);
  if (v.length > max) return new RegExp(`^${field}: longer than ${max} characters \\(${v.length}\\)$`);
  if (v.includes('\u0000')) return new RegExp(`^${field}: contains a NUL`);
  return undefined;
};

export function refDecodeCurated(value: Buffer | null): RefDecoded {
  if (value === null) return { ok: false, reason: /^no value \(tombstone\)$/ };
  if (value.length === 0) return { ok: false, reason: /^empty value$/ };
  const at = { pos: 0 };
  let ids: string[];
  let actionIndex: bigint;
  let occurred: bigint;
  let title: string | null;
  try {
    ids = [readString(value, at), readString(value, at), readString(value, at)];
    actionIndex = readLong(value, at);
    if (actionIndex < 0n || actionIndex >= BigInt(REF_ACTIONS.length)) throw new Invalid('enum index');
    occurred = readLong(value, at);
    const branch = readLong(value, at);
    if (branch === 0n) title = null;
    else if (branch === 1n) title = readString(value, at);
    else throw new Invalid('union index');
  } catch (err) {
    // Avro readers differ on whether bytes that run out, a negative length or a bad index are "truncated" or
    // "invalid" (a reader may read on past the end before it fails on an index): both say the bytes are not a
    // record of this schema.
    if (err instanceof Truncated || err instanceof Invalid) {
      return { ok: false, reason: new RegExp(`^(invalid Avro: |truncated Avro record \\(${value.length} bytes\\)$)`) };
    }
    throw err;
  }
  if (at.pos !== value.length) {
    return { ok: false, reason: new RegExp(`^${value.length - at.pos} trailing bytes after the Avro record`) };
  }
  // A long beyond 2^53 cannot be held exactly by a JS number; refusing it as invalid Avro or as a bad time are both right.
  if (occurred > BigInt(Number.MAX_SAFE_INTEGER) || occurred < BigInt(Number.MIN_SAFE_INTEGER)) {
    return { ok: false, reason: /^(invalid Avro: |occurred_at: )/ };
  }
  const names = ['event_id', 'program_id', 'creator_id'];
  for (let i = 0; i < 3; i++) {
    const p = fieldProblem(names[i]!, ids[i]!, MAX_ID_CHARS, false);
    if (p) return { ok: false, reason: p };
  }
  const ms = Number(occurred);
  const first = new Date(0);
  first.setUTCFullYear(1, 0, 1);
  const last = new Date(0);
  last.setUTCFullYear(9999, 11, 31);
  if (ms < first.getTime() || ms > last.getTime() + 86_400_000 - 1) return { ok: false, reason: new RegExp(`^occurred_at: ${ms} ms is outside the years 0001-9999$`) };
  if (title !== null) {
    const p = fieldProblem('title', title, MAX_TITLE_CHARS, true);
    if (p) return { ok: false, reason: p };
  }
  return {
    ok: true,
    event: { eventId: ids[0]!, programId: ids[1]!, creatorId: ids[2]!, action: REF_ACTIONS[Number(actionIndex)]!, occurredAtMs: ms, title },
  };
}
