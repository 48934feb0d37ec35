/**
 * Curated-program events (the stream input, README "Kafka consumers"): validation of the decoded Avro record, pure
 * and shared by the consumer's handler, the demo producer and the tests. A message either becomes an event or gets one exact reason,
 * which ends up in `kafka_dead_letters`; nothing here throws on bad input.
 */
import { createAvroDecoder, type AvroDecoderOptions, type Decoded } from '../../consumers/avro';
import { MAX_ID_CHARS } from '../../domain/text';
import { MAX_TIME_MS, MIN_TIME_MS } from '../../domain/time';

export { MAX_ID_CHARS };

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

/** Keeps every row, and so every signal carrying a batch of rows, far under Temporal's 2 MB payload limit. */
export const MAX_TITLE_CHARS = 2000;

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
