/**
 * Demo and test producer for the curated-program topic: valid CuratedProgramEvent records, a share of repeats (the
 * same bytes again, as a retrying upstream sends them, sometimes to another partition) and a share of garbage of
 * several kinds. Garbage is garbage by construction (never "whatever the consumer's decoder refuses", which would
 * make a decoder bug invisible), and each kind has the dead-letter reason the consumer must give (GARBAGE_REASONS):
 * after consumption, `curated_program_events` holds `distinctValid` rows and `kafka_dead_letters` `garbage` rows.
 *
 * With the Confluent wire format it registers the schema versions it writes with under `<topic>-value` in the schema
 * registry (SCHEMA_REGISTRY_URL) and frames each message with the id the registry gave: events are written with any
 * mix of v1 (the consumer's schema), v2 (adds an optional field) and v3 (drops `title`, which has a default), and it
 * can add messages with ids the registry does not have and messages written with another topic's schema. A schema the
 * registry refuses (409: incompatible under the subject's rule) stops it before anything is produced, exit code 2.
 *
 *   node --import tsx scripts/produce-curated-events.ts --topic curated-program-events --count 10000 [--partitions 4]
 *        [--repeats 0.1] [--garbage 0.05] [--wire-format confluent|avro-raw] [--seed 7] [--prefix demo]
 *        [--schemas v1,v2,v3] [--unknown-ids 0.01] [--misrouted 0.01]        (Confluent only)
 *
 * The wire format defaults to the shipped consumer's (features/curatedPrograms/consumer.ts).
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { Type, type Schema } from 'avsc';
import { ProduceAcks, type MessageToProduce } from '@platformatic/kafka';
import { env } from '../config/env';
import { KafkaTools } from '../connections/kafkaTools';
import { SchemaRejectedError, schemaRegistryFromEnv, type SchemaRegistryClient } from '../connections/schemaRegistry';
import { curatedProgramConsumer } from '../features/curatedPrograms/consumer';
import {
  CURATED_PROGRAM_ACTIONS,
  type CuratedProgramEvent,
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

/**
 * Dead letters only a registry makes (Confluent format): an id the registry does not have, and a record written with
 * another topic's schema (its own subject), which Avro cannot resolve to the consumer's reader schema.
 */
export const REGISTRY_GARBAGE_KINDS = ['unknown_schema_id', 'misrouted_schema'] as const;
export type RegistryGarbageKind = (typeof REGISTRY_GARBAGE_KINDS)[number];
export const REGISTRY_GARBAGE_REASONS: Record<RegistryGarbageKind, RegExp> = {
  unknown_schema_id: /^unknown schema id (\d+) \(the schema registry at \S+ has no schema with this id\)$/,
  misrouted_schema: /^schema id (\d+) cannot be resolved to the consumer's reader schema: /,
};
/** Ids no registry of ours hands out (Apicurio counts content ids up from 1): what unknown_schema_id messages carry. */
export const UNKNOWN_ID_BASE = 0x7f000000;

/** The versions of the topic's value schema a producer can write with (scripts/schemas beside the consumer's v1). */
export const SCHEMA_VERSIONS = {
  v1: path.join(__dirname, '..', 'consumers', 'schemas', 'CuratedProgramEvent.avsc'),
  v2: path.join(__dirname, 'schemas', 'CuratedProgramEvent.v2.avsc'),
  v3: path.join(__dirname, 'schemas', 'CuratedProgramEvent.v3.avsc'),
  incompatible: path.join(__dirname, 'schemas', 'CuratedProgramEvent.incompatible.avsc'),
} as const;
export type SchemaVersion = keyof typeof SCHEMA_VERSIONS;
const MISROUTED_SCHEMA = path.join(__dirname, 'schemas', 'Misrouted.avsc');

/** The subject a topic's value schemas are registered under (Confluent's TopicNameStrategy). */
export const valueSubject = (topic: string) => `${topic}-value`;

/** A message the consumer must dead-letter: where it went, its bytes, and what made it garbage. */
export interface ExpectedDeadLetter {
  partition: number;
  raw: Buffer | null;
  kind: GarbageKind | RegistryGarbageKind;
}

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
  /** Confluent: where the schemas are registered; default the environment's (SCHEMA_REGISTRY_URL). */
  registry?: SchemaRegistryClient;
  /** Confluent: the schema versions events are written with, one of them at random per event (default v1 only). */
  versions?: SchemaVersion[];
  /** Confluent: share of messages framed with an id the registry does not have. */
  unknownIdShare?: number;
  /** Confluent: share of messages written with another topic's schema, registered under that topic's subject. */
  misroutedShare?: number;
  /** Keep the producer's record of what it sent: the rows and dead letters a consumer must end with. */
  record?: boolean;
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
  /** Confluent: the registry's id of each version written, by version (and `misrouted`). */
  schemaIds: Record<string, number>;
  /** Distinct events by the schema version that wrote them. */
  distinctByVersion: Record<string, number>;
  /** With `record`: each distinct event as the consumer must store it (the reader's default where the writer had no field). */
  expectedRows?: CuratedProgramEvent[];
  /** With `record`: every message that must become a dead letter. */
  expectedDeadLetters?: ExpectedDeadLetter[];
}

/** Reads a schema file; throws with the file named. */
function readSchema(file: string): Schema {
  return JSON.parse(readFileSync(file, 'utf8')) as Schema;
}

/**
 * Registers the versions (in the order given) and the misrouted schema under its own subject, and returns their ids.
 * A version the registry refuses throws SchemaRejectedError naming the version's file.
 */
export async function registerSchemas(registry: SchemaRegistryClient, topic: string, versions: readonly SchemaVersion[], misrouted: boolean): Promise<Record<string, number>> {
  const ids: Record<string, number> = {};
  for (const v of versions) {
    try {
      ids[v] = await registry.register(valueSubject(topic), readSchema(SCHEMA_VERSIONS[v]));
    } catch (err) {
      if (err instanceof SchemaRejectedError) throw new SchemaRejectedError(`${v} (${SCHEMA_VERSIONS[v]}): ${err.message}`, err.status);
      throw err;
    }
  }
  if (misrouted) ids['misrouted'] = await registry.register(`${topic}-misrouted-value`, readSchema(MISROUTED_SCHEMA));
  return ids;
}

export const SCHEMA_PATH = SCHEMA_VERSIONS.v1;

/** One message as the generator made it: what it is by construction, so a reader can tell what must come of it. */
export interface CuratedMessage {
  value: Buffer | null;
  partition: number;
  /** A new valid event, the same bytes again as an earlier one, or garbage of `garbageKind`. */
  role: 'valid' | 'repeat' | 'garbage';
  /** The event_id of a valid message or of the one a repeat copies. */
  eventId?: string;
  garbageKind?: GarbageKind | RegistryGarbageKind;
  /** A valid message: the schema version that wrote it, and the row the consumer must store for it. */
  version?: SchemaVersion;
  row?: CuratedProgramEvent;
}

export type CuratedMessageOptions = Pick<
  ProduceOptions,
  'partitions' | 'repeatShare' | 'garbageShare' | 'seed' | 'wireFormat' | 'versions' | 'unknownIdShare' | 'misroutedShare'
> & {
  /** Messages to make; Infinity for an endless stream. */
  count: number;
  prefix: string;
  /** Confluent: the registry's ids of the versions written (and `misrouted`), from registerCuratedSchemas. */
  schemaIds: Record<string, number>;
};

/**
 * Confluent: registers v1, the versions written and (with a misrouted share) the other topic's schema, before the
 * topic and anything on it, so a refused schema leaves nothing behind. Nothing to register for the raw format.
 */
export async function registerCuratedSchemas(
  opts: Pick<ProduceOptions, 'topic' | 'wireFormat' | 'registry' | 'versions' | 'misroutedShare'>,
): Promise<Record<string, number>> {
  if ((opts.wireFormat ?? 'avro-raw') !== 'confluent') return {};
  const versions = [...new Set<SchemaVersion>(['v1', ...(opts.versions ?? ['v1'])])];
  return registerSchemas(opts.registry ?? schemaRegistryFromEnv(env()), opts.topic, versions, (opts.misroutedShare ?? 0) > 0);
}

/** The messages of a run, one at a time, each with what it is; the same options give the same bytes. */
export function* curatedMessages(opts: CuratedMessageOptions): Generator<CuratedMessage> {
  const partitions = opts.partitions ?? 4;
  const wireFormat = opts.wireFormat ?? 'avro-raw';
  const confluent = wireFormat === 'confluent';
  const versions: readonly SchemaVersion[] = opts.versions ?? ['v1'];
  if (!confluent && (opts.versions || opts.unknownIdShare || opts.misroutedShare)) {
    throw new Error('versions, unknown ids and misrouted schemas need the Confluent wire format (a registry says which schema wrote a message)');
  }
  const schemaIds = opts.schemaIds;
  const rng = new Rng(opts.seed ?? 7);
  const prefix = opts.prefix;
  const v1 = readSchema(SCHEMA_VERSIONS.v1);
  const types = Object.fromEntries(versions.map((v) => [v, Type.forSchema(readSchema(SCHEMA_VERSIONS[v]))])) as Record<SchemaVersion, Type>;
  const v1Type = Type.forSchema(v1);
  // Same layout with `action` as a plain int, to write an enum index the schema does not have.
  const loose = Type.forSchema({
    ...(v1 as object),
    fields: (v1 as { fields: { name: string }[] }).fields.map((f) => (f.name === 'action' ? { name: 'action', type: 'int' } : f)),
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
  /** The record as version `v` has it: v2 adds curator_id, v3 also drops title, the refused one adds region. */
  const asVersion = (r: CuratedProgramRecord, v: SchemaVersion): Record<string, unknown> => {
    if (v === 'v1') return { ...r };
    const curator = { curator_id: rng.chance(0.5) ? `curator-${rng.int(50)}` : null };
    if (v === 'v2') return { ...r, ...curator };
    if (v === 'v3') {
      const { title: _dropped, ...rest } = r;
      return { ...rest, ...curator };
    }
    return { ...r, region: 'eu' };
  };
  const header = (id: number) => encodeAvro(Type.forSchema('null'), null, { wireFormat: 'confluent', schemaId: id });
  // Garbage is framed as a v1 producer frames it: the consumer reads its body with v1's schema.
  const v1Header = confluent ? header(schemaIds['v1']!) : Buffer.alloc(0);
  const framed = (body: Buffer) => Buffer.concat([v1Header, body]);
  const encode = (r: CuratedProgramRecord) => framed(v1Type.toBuffer(r));

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
        const body = good.subarray(v1Header.length);
        return framed(body.subarray(0, 1 + rng.int(body.length - 1)));
      }
      case 'trailing_bytes':
        return Buffer.concat([good, Buffer.from(Array.from({ length: 1 + rng.int(4) }, () => rng.int(256)))]);
      case 'empty_event_id':
        return encode({ ...record(n), event_id: '' });
      case 'bad_enum':
        return framed(loose.toBuffer({ ...record(n), action: 3 + rng.int(50) }));
      case 'json':
        return framed(Buffer.from(JSON.stringify(record(n))));
      case 'nul_in_title':
        return encode({ ...record(n), title: 'bad\u0000title' });
      case 'huge_timestamp':
        return encode({ ...record(n), occurred_at: 300_000_000_000_000 });
    }
  };
  const misroutedType = confluent && schemaIds['misrouted'] !== undefined ? Type.forSchema(readSchema(MISROUTED_SCHEMA)) : undefined;
  const makeRegistryGarbage = (kind: RegistryGarbageKind, n: number): Buffer => {
    if (kind === 'unknown_schema_id') return Buffer.concat([header(UNKNOWN_ID_BASE + rng.int(100_000)), v1Type.toBuffer(record(n))]);
    return Buffer.concat([header(schemaIds['misrouted']!), misroutedType!.toBuffer({ session_id: `s-${n}`, position_ms: n * 1000 })]);
  };

  const garbageShare = opts.garbageShare ?? 0.05;
  const unknownShare = opts.unknownIdShare ?? 0;
  const misroutedShare = opts.misroutedShare ?? 0;
  const repeatShare = opts.repeatShare ?? 0.1;
  for (let n = 0; n < opts.count; n++) {
    const r = rng.next();
    let partition = rng.int(partitions);
    if (r < garbageShare) {
      const kind = GARBAGE_KINDS[rng.int(GARBAGE_KINDS.length)]!;
      yield { value: makeGarbage(kind, n), partition, role: 'garbage', garbageKind: kind };
    } else if (r < garbageShare + unknownShare) {
      yield { value: makeRegistryGarbage('unknown_schema_id', n), partition, role: 'garbage', garbageKind: 'unknown_schema_id' };
    } else if (r < garbageShare + unknownShare + misroutedShare) {
      yield { value: makeRegistryGarbage('misrouted_schema', n), partition, role: 'garbage', garbageKind: 'misrouted_schema' };
    } else if (r < garbageShare + unknownShare + misroutedShare + repeatShare && valid.length > 0) {
      const prev = valid[rng.int(valid.length)]!;
      // Mostly where the original went (a producer retry), sometimes elsewhere (another producer instance).
      if (rng.chance(0.7)) partition = prev.partition;
      yield { value: prev.value, partition, role: 'repeat', eventId: prev.eventId };
    } else {
      const v = versions.length === 1 ? versions[0]! : versions[rng.int(versions.length)]!;
      const rec = record(n);
      const value = confluent ? Buffer.concat([header(schemaIds[v]!), types[v].toBuffer(asVersion(rec, v))]) : encodeAvro(types[v], rec, { wireFormat });
      valid.push({ value, partition, eventId: rec.event_id });
      const row: CuratedProgramEvent = {
        eventId: rec.event_id,
        programId: rec.program_id,
        creatorId: rec.creator_id,
        action: rec.action,
        occurredAt: new Date(rec.occurred_at).toISOString(),
        // A v3 writer has no title: the reader's default (null) fills it in.
        title: v === 'v3' ? null : rec.title,
      };
      yield { value, partition, role: 'valid', eventId: rec.event_id, version: v, row };
    }
  }
}

export async function produceCuratedEvents(opts: ProduceOptions): Promise<ProduceResult> {
  const started = Date.now();
  const partitions = opts.partitions ?? 4;
  const prefix = opts.prefix ?? `evt-${Date.now().toString(36)}`;
  const schemaIds = await registerCuratedSchemas(opts);
  if (opts.createTopic) await opts.kafka.createTopic(opts.topic, partitions);

  const garbageByKind: Record<string, number> = {};
  const distinctByVersion: Record<string, number> = {};
  const perPartition = Array.from({ length: partitions }, () => 0);
  const expectedRows: CuratedProgramEvent[] = [];
  const expectedDeadLetters: ExpectedDeadLetter[] = [];
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
  for (const m of curatedMessages({ ...opts, partitions, prefix, schemaIds })) {
    if (m.role === 'garbage') {
      garbage++;
      garbageByKind[m.garbageKind!] = (garbageByKind[m.garbageKind!] ?? 0) + 1;
      if (opts.record) expectedDeadLetters.push({ partition: m.partition, raw: m.value, kind: m.garbageKind! });
    } else if (m.role === 'repeat') {
      repeats++;
    } else {
      distinctValid++;
      distinctByVersion[m.version!] = (distinctByVersion[m.version!] ?? 0) + 1;
      if (opts.record) expectedRows.push(m.row!);
    }
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
    schemaIds,
    distinctByVersion,
    ...(opts.record ? { expectedRows, expectedDeadLetters } : {}),
  };
}

/** Bad arguments and a schema the registry refuses: exit 2 with the reason, as the CLI does for bad input. */
class UsageError extends Error {}

async function main(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      topic: { type: 'string', default: 'curated-program-events' },
      count: { type: 'string', default: '10000' },
      partitions: { type: 'string', default: '4' },
      repeats: { type: 'string', default: '0.1' },
      garbage: { type: 'string', default: '0.05' },
      'wire-format': { type: 'string', default: curatedProgramConsumer.wireFormat },
      schemas: { type: 'string', default: 'v1' },
      'unknown-ids': { type: 'string', default: '0' },
      misrouted: { type: 'string', default: '0' },
      seed: { type: 'string', default: String(Date.now() % 100000) },
      prefix: { type: 'string' },
    },
    strict: true,
  });
  const num = (name: string, v: string | undefined) => {
    const n = Number(v);
    if (!Number.isFinite(n)) throw new UsageError(`--${name} must be a number, got ${JSON.stringify(v)}`);
    return n;
  };
  const wireFormat = values['wire-format'];
  if (wireFormat !== 'avro-raw' && wireFormat !== 'confluent') throw new UsageError('--wire-format must be avro-raw or confluent');
  const versions = values.schemas!.split(',').map((v) => v.trim());
  const unknownVersion = versions.find((v) => !(v in SCHEMA_VERSIONS));
  if (unknownVersion !== undefined) throw new UsageError(`--schemas: ${JSON.stringify(unknownVersion)} is not one of ${Object.keys(SCHEMA_VERSIONS).join(', ')}`);
  const confluentOnly = wireFormat === 'confluent' ? {
    versions: versions as SchemaVersion[],
    unknownIdShare: num('unknown-ids', values['unknown-ids']),
    misroutedShare: num('misrouted', values.misrouted),
  } : {};
  if (wireFormat !== 'confluent' && (values.schemas !== 'v1' || values['unknown-ids'] !== '0' || values.misrouted !== '0')) {
    throw new UsageError('--schemas, --unknown-ids and --misrouted need --wire-format confluent');
  }
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
    ...confluentOnly,
    createTopic: !exists,
    ...(values.prefix ? { prefix: values.prefix } : {}),
  }).finally(() => kafka.close());
  console.log(JSON.stringify(result, null, 2));
}

if (require.main === module) {
  main(process.argv.slice(2)).catch((err: unknown) => {
    console.error(err instanceof Error ? err.message : err);
    process.exitCode = err instanceof UsageError || err instanceof SchemaRejectedError ? 2 : 1;
  });
}
