/**
 * Curated-program events (the stream input, README "Kafka consumers"): Avro decoding and validation, pure and shared by the Kafka
 * consumer activity, the demo producer and the tests. A message either becomes an event or gets one exact reason,
 * which ends up in `kafka_dead_letters`; nothing here throws on bad input.
 */
import { Type, type Resolver, type Schema } from 'avsc';

export const CURATED_PROGRAM_ACTIONS = ['ADDED', 'REMOVED', 'UPDATED'] as const;
export type CuratedProgramAction = (typeof CURATED_PROGRAM_ACTIONS)[number];

/** One event as the service stores it (`curated_program_events`, without the Kafka coordinates). */
export interface CuratedProgramEvent {
  eventId: string;
  programId: string;
  creatorId: string;
  action: CuratedProgramAction;
  /** ISO-8601 UTC with milliseconds. */
  occurredAt: string;
  title: string | null;
}

/** The Avro record as written by producers (the schema's field names). */
export interface CuratedProgramRecord {
  event_id: string;
  program_id: string;
  creator_id: string;
  action: CuratedProgramAction;
  occurred_at: number;
  title: string | null;
}

export type WireFormat = 'avro-raw' | 'confluent';
export const WIRE_FORMATS: readonly WireFormat[] = ['avro-raw', 'confluent'];

export type Decoded<T> = { ok: true; value: T } | { ok: false; reason: string };

/** Ids end up in btree indexes (event_id is the primary key), whose entries must stay well under ~2.7 kB. */
export const MAX_ID_CHARS = 256;
/** Keeps every row, and so every signal carrying a batch of rows, far under Temporal's 2 MB payload limit. */
export const MAX_TITLE_CHARS = 2000;
const MIN_TIME_MS = -62_135_596_800_000; // 0001-01-01T00:00:00Z: Postgres and ISO-8601 both take four-digit years
const MAX_TIME_MS = Date.UTC(9999, 11, 31, 23, 59, 59, 999);
const CONFLUENT_MAGIC = 0;
const CONFLUENT_HEADER_BYTES = 5;

export interface AvroDecoderOptions {
  wireFormat: WireFormat;
  /** The schema the code reads (the repo's schema); field names and types the validation expects. */
  readerSchema: Schema;
  /** The schema producers write with, when it differs from the reader's (schema evolution); Avro resolves the two. */
  writerSchema?: Schema;
  /** Confluent only: the schema ids accepted in the header; any id when omitted. */
  schemaIds?: readonly number[];
}

/**
 * Decodes one framed Avro value to a plain record: strips and checks the Confluent header when declared, refuses
 * truncated values and trailing bytes (a sign of a wrong schema), and turns every decoder exception into a reason.
 * Throws only while being built, when the writer schema cannot be resolved to the reader's.
 */
export function createAvroDecoder(opts: AvroDecoderOptions): (value: Buffer | null) => Decoded<Record<string, unknown>> {
  const reader = Type.forSchema(opts.readerSchema);
  let resolver: Resolver | undefined;
  if (opts.writerSchema !== undefined) {
    const writer = Type.forSchema(opts.writerSchema);
    if (!writer.fingerprint().equals(reader.fingerprint())) resolver = reader.createResolver(writer);
  }
  const ids = opts.schemaIds ? new Set(opts.schemaIds) : undefined;
  return (value) => {
    if (value === null) return { ok: false, reason: 'no value (tombstone)' };
    if (value.length === 0) return { ok: false, reason: 'empty value' };
    let start = 0;
    if (opts.wireFormat === 'confluent') {
      if (value.length < CONFLUENT_HEADER_BYTES) {
        return { ok: false, reason: `${value.length} bytes: too short for the Confluent wire format (magic byte + 4-byte schema id)` };
      }
      if (value[0] !== CONFLUENT_MAGIC) return { ok: false, reason: `Confluent wire format: magic byte is ${value[0]}, expected 0` };
      const id = value.readUInt32BE(1);
      if (ids && !ids.has(id)) return { ok: false, reason: `Confluent wire format: unknown schema id ${id}` };
      start = CONFLUENT_HEADER_BYTES;
      if (value.length === start) return { ok: false, reason: 'Confluent wire format: no Avro payload after the header' };
    }
    let decoded: { value: unknown; offset: number };
    try {
      decoded = reader.decode(value, start, resolver);
    } catch (err) {
      return { ok: false, reason: `invalid Avro: ${oneLine(err)}` };
    }
    if (decoded.offset < 0) return { ok: false, reason: `truncated Avro record (${value.length - start} bytes)` };
    if (decoded.offset !== value.length) {
      return { ok: false, reason: `${value.length - decoded.offset} trailing bytes after the Avro record (wrong schema?)` };
    }
    if (typeof decoded.value !== 'object' || decoded.value === null) return { ok: false, reason: 'Avro value is not a record' };
    return { ok: true, value: decoded.value as Record<string, unknown> };
  };
}

/** Field checks of a decoded record; hand-written for exact reasons (the decoder alone lets some bad bytes through). */
export function validateCuratedProgramRecord(rec: Record<string, unknown>): Decoded<CuratedProgramEvent> {
  const ids: Record<'event_id' | 'program_id' | 'creator_id', string> = { event_id: '', program_id: '', creator_id: '' };
  for (const field of ['event_id', 'program_id', 'creator_id'] as const) {
    const v = rec[field];
    if (typeof v !== 'string') return { ok: false, reason: `${field}: not a string` };
    const problem = textProblem(v, MAX_ID_CHARS, false);
    if (problem) return { ok: false, reason: `${field}: ${problem}` };
    ids[field] = v;
  }
  const action = rec['action'];
  if (typeof action !== 'string' || !(CURATED_PROGRAM_ACTIONS as readonly string[]).includes(action)) {
    // avsc already refuses out-of-range enum indexes; this also covers records built by resolvers or by hand
    return { ok: false, reason: `action: must be one of ${CURATED_PROGRAM_ACTIONS.join(', ')}` };
  }
  const at = rec['occurred_at'];
  if (typeof at !== 'number' || !Number.isSafeInteger(at)) return { ok: false, reason: 'occurred_at: not an integer of milliseconds' };
  if (at < MIN_TIME_MS || at > MAX_TIME_MS) {
    return { ok: false, reason: `occurred_at: ${at} ms is outside the years 0001-9999` };
  }
  const title = rec['title'] ?? null;
  if (title !== null) {
    if (typeof title !== 'string') return { ok: false, reason: 'title: not a string or null' };
    const problem = textProblem(title, MAX_TITLE_CHARS, true);
    if (problem) return { ok: false, reason: `title: ${problem}` };
  }
  return {
    ok: true,
    value: {
      eventId: ids.event_id,
      programId: ids.program_id,
      creatorId: ids.creator_id,
      action: action as CuratedProgramAction,
      occurredAt: new Date(at).toISOString(),
      title,
    },
  };
}

export type CuratedProgramDecoder = (value: Buffer | null) => Decoded<CuratedProgramEvent>;

/** Bytes of a Kafka message value to an event, or the reason it is not one. */
export function createCuratedProgramDecoder(opts: AvroDecoderOptions): CuratedProgramDecoder {
  const decode = createAvroDecoder(opts);
  return (value) => {
    const rec = decode(value);
    return rec.ok ? validateCuratedProgramRecord(rec.value) : rec;
  };
}

/** Avro binary of a record, raw or in the Confluent wire format; for producers (the demo script) and tests. */
export function encodeAvro(type: Type, record: unknown, framing: { wireFormat: WireFormat; schemaId?: number }): Buffer {
  const body = type.toBuffer(record);
  if (framing.wireFormat === 'avro-raw') return body;
  const header = Buffer.alloc(CONFLUENT_HEADER_BYTES);
  header.writeUInt8(CONFLUENT_MAGIC, 0);
  header.writeUInt32BE(framing.schemaId ?? 1, 1);
  return Buffer.concat([header, body]);
}

export function toRecord(e: CuratedProgramEvent): CuratedProgramRecord {
  return {
    event_id: e.eventId,
    program_id: e.programId,
    creator_id: e.creatorId,
    action: e.action,
    occurred_at: Date.parse(e.occurredAt),
    title: e.title,
  };
}

function textProblem(s: string, max: number, emptyOk: boolean): string | undefined {
  if (!emptyOk && s.trim() === '') return 'empty';
  if (s.length > max) return `longer than ${max} characters (${s.length})`;
  if (s.includes('\u0000')) return 'contains a NUL character, which Postgres text cannot store';
  return undefined;
}

function oneLine(err: unknown): string {
  const m = err instanceof Error ? err.message : String(err);
  return m.replace(/\s+/g, ' ').slice(0, 200);
}
