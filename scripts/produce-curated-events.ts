/**
 * Demo and test producer for the curated-program topic: valid CuratedProgramEvent records, a share of repeats (the
 * same bytes again, as a retrying upstream sends them, sometimes to another partition) and a share of garbage of
 * several kinds. Garbage is garbage by construction (never "whatever the consumer's decoder refuses", which would
 * make a decoder bug invisible), and each kind has the dead-letter reason the consumer must give (GARBAGE_REASONS):
 * after consumption, `curated_program_events` holds `distinctValid` rows and `kafka_dead_letters` `garbage` rows.
 *
 *   node --import tsx scripts/produce-curated-events.ts --topic curated-program-events --count 10000 [--partitions 4]
 *        [--repeats 0.1] [--garbage 0.05] [--wire-format avro-raw|confluent] [--seed 7] [--prefix demo]
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { Type, type Schema } from 'avsc';
import { ProduceAcks, type MessageToProduce } from '@platformatic/kafka';
import { env } from '../config/env';
import { KafkaTools } from '../connections/kafkaTools';
import {
  CURATED_PROGRAM_ACTIONS,
  type CuratedProgramRecord,
} from '../features/curatedPrograms/parse';
import { encodeAvro, type WireFormat } from '../consumers/avro';
import { Rng } from './rng';

export const GARBAGE_KINDS = [
  'random_bytes',
  'empty',
  'tombstone',
  'truncated',
  'trailing_bytes',
  'empty_event_id',
  'bad_enum',
  'json',
  'nul_in_title',
  'huge_timestamp',
] as const;
export type GarbageKind = (typeof GARBAGE_KINDS)[number];

/** Too short for any record: a run out of bytes, whatever an Avro reader reads past the end. */
const TRUNCATED = /^truncated Avro record \(\d+ bytes\)$/;
/** The reason the consumer must dead-letter each kind with (the counted bytes are the Avro payload's, after any header). */
export const GARBAGE_REASONS: Record<GarbageKind, RegExp> = {
  // A length prefix of 63 (0x7e) in front of at most 39 bytes: the first string runs past the end.
  random_bytes: TRUNCATED,
  empty: /^empty value$/,
  tombstone: /^no value \(tombstone\)$/,
  // A strict prefix of a record: Avro binary has no terminator, so a cut anywhere leaves fields unread.
  truncated: TRUNCATED,
  trailing_bytes: /^[1-4] trailing bytes after the Avro record \(wrong schema\?\)$/,
  empty_event_id: /^event_id: empty$/,
  bad_enum: /^invalid Avro: .*enum index: ([3-9]|[1-4][0-9]|5[0-2])$/,
  // `{` read as a zig-zag varint is the string length -62.
  json: TRUNCATED,
  nul_in_title: /^title: contains a NUL/,
  huge_timestamp: /^occurred_at: 300000000000000 ms is outside the years 0001-9999$/,
};

export interface ProduceOptions {
  kafka: KafkaTools;
  topic: string;
  count: number;
  /** Partitions of the topic; messages are spread over them explicitly. */
  partitions?: number;
  repeatShare?: number;
  garbageShare?: number;
  seed?: number;
  /** Prefix of every event_id, so runs against one database never share ids. */
  prefix?: string;
  wireFormat?: WireFormat;
  schemaId?: number;
  /** Messages per produce request. */
  chunk?: number;
  /** Create the topic with `partitions` partitions when it does not exist. */
  createTopic?: boolean;
  onProgress?: (sent: number) => void;
}

export interface ProduceResult {
  topic: string;
  messages: number;
  distinctValid: number;
  repeats: number;
  garbage: number;
  garbageByKind: Record<string, number>;
  perPartition: number[];
  prefix: string;
  seconds: number;
}

export const SCHEMA_PATH = path.join(__dirname, '..', 'consumers', 'schemas', 'CuratedProgramEvent.avsc');

/** One message as the generator made it: what it is by construction, so a reader can tell what must come of it. */
export interface CuratedMessage {
  value: Buffer | null;
  partition: number;
  /** A new valid event, the same bytes again as an earlier one, or garbage of `garbageKind`. */
  role: 'valid' | 'repeat' | 'garbage';
  /** The event_id of a valid message or of the one a repeat copies. */
  eventId?: string;
  garbageKind?: GarbageKind;
}

export type CuratedMessageOptions = Pick<ProduceOptions, 'partitions' | 'repeatShare' | 'garbageShare' | 'seed' | 'prefix' | 'wireFormat' | 'schemaId'> & {
  /** Messages to make; Infinity for an endless stream. */
  count: number;
};

/** The messages of a run, one at a time, each with what it is; the same options give the same bytes. */
export function* curatedMessages(opts: CuratedMessageOptions & { prefix: string }): Generator<CuratedMessage> {
  const partitions = opts.partitions ?? 4;
  const wireFormat = opts.wireFormat ?? 'avro-raw';
  const framing = { wireFormat, schemaId: opts.schemaId ?? 1 };
  const rng = new Rng(opts.seed ?? 7);
  const prefix = opts.prefix;
  const schema = JSON.parse(readFileSync(SCHEMA_PATH, 'utf8')) as Schema;
  const type = Type.forSchema(schema);
  // Same layout with `action` as a plain int, to write an enum index the schema does not have.
  const loose = Type.forSchema({
    ...(schema as object),
    fields: (schema as { fields: { name: string }[] }).fields.map((f) => (f.name === 'action' ? { name: 'action', type: 'int' } : f)),
  } as Schema);

  const valid: { value: Buffer; partition: number; eventId: string }[] = [];
  const record = (n: number): CuratedProgramRecord => ({
    event_id: `${prefix}-${n.toString(36)}`,
    program_id: `program-${rng.int(5000)}`,
    creator_id: `creator-${rng.int(800)}`,
    action: CURATED_PROGRAM_ACTIONS[rng.int(3)]!,
    occurred_at: Date.UTC(2024, 4, 1) + n * 997,
    title: rng.chance(0.3) ? null : rng.chance(0.1) ? `Émission n°${n} ✓ 🎬` : `Program ${n}`,
  });
  const encode = (r: CuratedProgramRecord) => encodeAvro(type, r, framing);
  // The Confluent header alone (a null encodes to no bytes), to frame garbage bodies as a producer would.
  const header = framing.wireFormat === 'confluent' ? encodeAvro(Type.forSchema('null'), null, framing) : Buffer.alloc(0);
  const framed = (body: Buffer) => Buffer.concat([header, body]);

  const makeGarbage = (kind: GarbageKind, n: number): Buffer | null => {
    const good = encode(record(n));
    switch (kind) {
      case 'random_bytes':
        return framed(Buffer.from([0x7e, ...Array.from({ length: rng.int(40) }, () => rng.int(256))]));
      case 'empty':
        return Buffer.alloc(0);
      case 'tombstone':
        return null;
      case 'truncated': {
        const body = good.subarray(header.length);
        return framed(body.subarray(0, 1 + rng.int(body.length - 1)));
      }
      case 'trailing_bytes':
        return Buffer.concat([good, Buffer.from(Array.from({ length: 1 + rng.int(4) }, () => rng.int(256)))]);
      case 'empty_event_id':
        return encode({ ...record(n), event_id: '' });
      case 'bad_enum':
        return encodeAvro(loose, { ...record(n), action: 3 + rng.int(50) }, framing);
      case 'json':
        return framed(Buffer.from(JSON.stringify(record(n))));
      case 'nul_in_title':
        return encode({ ...record(n), title: 'bad\u0000title' });
      case 'huge_timestamp':
        return encode({ ...record(n), occurred_at: 300_000_000_000_000 });
    }
  };

  for (let n = 0; n < opts.count; n++) {
    const r = rng.next();
    let partition = rng.int(partitions);
    if (r < (opts.garbageShare ?? 0.05)) {
      const kind = GARBAGE_KINDS[rng.int(GARBAGE_KINDS.length)]!;
      yield { value: makeGarbage(kind, n), partition, role: 'garbage', garbageKind: kind };
    } else if (r < (opts.garbageShare ?? 0.05) + (opts.repeatShare ?? 0.1) && valid.length > 0) {
      const prev = valid[rng.int(valid.length)]!;
      // Mostly where the original went (a producer retry), sometimes elsewhere (another producer instance).
      if (rng.chance(0.7)) partition = prev.partition;
      yield { value: prev.value, partition, role: 'repeat', eventId: prev.eventId };
    } else {
      const rec = record(n);
      const value = encode(rec);
      valid.push({ value, partition, eventId: rec.event_id });
      yield { value, partition, role: 'valid', eventId: rec.event_id };
    }
  }
}

export async function produceCuratedEvents(opts: ProduceOptions): Promise<ProduceResult> {
  const started = Date.now();
  const partitions = opts.partitions ?? 4;
  const prefix = opts.prefix ?? `evt-${Date.now().toString(36)}`;
  if (opts.createTopic) await opts.kafka.createTopic(opts.topic, partitions);

  const garbageByKind: Record<string, number> = {};
  const perPartition = Array.from({ length: partitions }, () => 0);
  let distinctValid = 0;
  let repeats = 0;
  let garbage = 0;
  const producer = opts.kafka.producer;
  const chunk = opts.chunk ?? 2000;
  let pending: MessageToProduce[] = [];
  let sent = 0;
  const flush = async () => {
    if (pending.length === 0) return;
    await producer.send({ messages: pending, acks: ProduceAcks.ALL });
    sent += pending.length;
    pending = [];
    opts.onProgress?.(sent);
  };
  for (const m of curatedMessages({ ...opts, partitions, prefix })) {
    if (m.role === 'garbage') {
      garbage++;
      garbageByKind[m.garbageKind!] = (garbageByKind[m.garbageKind!] ?? 0) + 1;
    } else if (m.role === 'repeat') repeats++;
    else distinctValid++;
    perPartition[m.partition]!++;
    // A null value is a tombstone (no value at all), as a compacting upstream sends them.
    pending.push({ topic: opts.topic, partition: m.partition, value: m.value as Buffer });
    if (pending.length >= chunk) await flush();
  }
  await flush();
  return {
    topic: opts.topic,
    messages: opts.count,
    distinctValid,
    repeats,
    garbage,
    garbageByKind,
    perPartition,
    prefix,
    seconds: (Date.now() - started) / 1000,
  };
}

async function main(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      topic: { type: 'string', default: 'curated-program-events' },
      count: { type: 'string', default: '10000' },
      partitions: { type: 'string', default: '4' },
      repeats: { type: 'string', default: '0.1' },
      garbage: { type: 'string', default: '0.05' },
      'wire-format': { type: 'string', default: 'avro-raw' },
      seed: { type: 'string', default: String(Date.now() % 100000) },
      prefix: { type: 'string' },
    },
    strict: true,
  });
  const num = (name: string, v: string | undefined) => {
    const n = Number(v);
    if (!Number.isFinite(n)) throw new Error(`--${name} must be a number, got ${JSON.stringify(v)}`);
    return n;
  };
  const wireFormat = values['wire-format'];
  if (wireFormat !== 'avro-raw' && wireFormat !== 'confluent') throw new Error('--wire-format must be avro-raw or confluent');
  const kafka = new KafkaTools(env(), 'scheduled-job.produce-curated-events');
  const exists = (await kafka.topics()).includes(values.topic!);
  // An existing topic keeps its partition count; messages are spread over the partitions it has.
  const partitions = exists ? await kafka.partitionCount(values.topic!) : num('partitions', values.partitions);
  const result = await produceCuratedEvents({
    kafka,
    topic: values.topic!,
    count: num('count', values.count),
    partitions,
    repeatShare: num('repeats', values.repeats),
    garbageShare: num('garbage', values.garbage),
    seed: num('seed', values.seed),
    wireFormat,
    createTopic: !exists,
    ...(values.prefix ? { prefix: values.prefix } : {}),
  }).finally(() => kafka.close());
  console.log(JSON.stringify(result, null, 2));
}

if (require.main === module) {
  main(process.argv.slice(2)).catch((err: unknown) => {
    console.error(err instanceof Error ? err.message : err);
    process.exitCode = 1;
  });
}
