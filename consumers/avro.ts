/**
 * Avro values as Kafka carries them, for every consumer: raw Avro binary or the Confluent wire format (magic byte 0 +
 * 4-byte schema id + Avro binary). Decoding never throws on bad input; it gives the reason the message is
 * dead-lettered with.
 */
import { Type, type Resolver, type Schema } from 'avsc';

export type WireFormat = 'avro-raw' | 'confluent';
export const WIRE_FORMATS: readonly WireFormat[] = ['avro-raw', 'confluent'];

/** A message either becomes a value or gets one exact reason, which ends up in `kafka_dead_letters`. */
export type Decoded<T> = { ok: true; value: T } | { ok: false; reason: string };

const CONFLUENT_MAGIC = 0;
const CONFLUENT_HEADER_BYTES = 5;

export interface AvroDecoderOptions {
  wireFormat: WireFormat;
  /** The schema the code reads (the repo's schema); field names and types the validation expects. */
  readerSchema: Schema;
  /**
   * The schema the message was written with, when it differs from the reader's (schema evolution); Avro resolves the
   * two. For the Confluent format, the schema the registry holds under the message's id.
   */
  writerSchema?: Schema;
}

/**
 * The schema id of a value in the Confluent wire format, or -1 when it is not framed as one (`confluentFramingProblem`
 * says why). A number rather than a result object: it runs once or twice per message.
 */
export function confluentSchemaIdOf(value: Buffer | null): number {
  if (value === null || value.length <= CONFLUENT_HEADER_BYTES || value[0] !== CONFLUENT_MAGIC) return -1;
  return value.readUInt32BE(1);
}

/** Why a value is not in the Confluent wire format: the reason its message is dead-lettered with. */
export function confluentFramingProblem(value: Buffer | null): string {
  if (value === null) return 'no value (tombstone)';
  if (value.length === 0) return 'empty value';
  if (value.length < CONFLUENT_HEADER_BYTES) return `${value.length} bytes: too short for the Confluent wire format (magic byte + 4-byte schema id)`;
  if (value[0] !== CONFLUENT_MAGIC) return `Confluent wire format: magic byte is ${value[0]}, expected 0`;
  return 'Confluent wire format: no Avro payload after the header';
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
  return (value) => {
    let start = 0;
    if (opts.wireFormat === 'confluent') {
      if (confluentSchemaIdOf(value) < 0) return { ok: false, reason: confluentFramingProblem(value) };
      start = CONFLUENT_HEADER_BYTES;
    } else {
      if (value === null) return { ok: false, reason: 'no value (tombstone)' };
      if (value.length === 0) return { ok: false, reason: 'empty value' };
    }
    const bytes = value!;
    let decoded: { value: unknown; offset: number };
    try {
      decoded = reader.decode(bytes, start, resolver);
    } catch (err) {
      return { ok: false, reason: `invalid Avro: ${oneLine(err)}` };
    }
    if (decoded.offset < 0) return { ok: false, reason: `truncated Avro record (${bytes.length - start} bytes)` };
    if (decoded.offset !== bytes.length) {
      return { ok: false, reason: `${bytes.length - decoded.offset} trailing bytes after the Avro record (wrong schema?)` };
    }
    if (typeof decoded.value !== 'object' || decoded.value === null) return { ok: false, reason: 'Avro value is not a record' };
    return { ok: true, value: decoded.value as Record<string, unknown> };
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

/** An error as one short line, for a dead letter's reason. */
export function oneLine(err: unknown): string {
  const m = err instanceof Error ? err.message : String(err);
  return m.replace(/\s+/g, ' ').slice(0, 200);
}
