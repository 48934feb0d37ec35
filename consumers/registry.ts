import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { msToNumber } from '@temporalio/common/lib/time';
import { Type, type Schema } from 'avsc';
import { z } from 'zod';
import { durationField, KAFKA_TOPIC, KAFKA_TOPIC_RULE, LOWER_SNAKE_NAME, LOWER_SNAKE_NAME_RULE } from '../config/definitionFields';
import { PACKAGE_ROOT } from '../config/packageRoot';
import { WIRE_FORMATS, type Decoded } from './avro';
import { ConfluentDecoders, type WriterSchemaSource } from './confluentDecoders';
import type { ConsumerWorkflowSettings, IngestWorkflowSettings } from '../workflows/consumerTypes';
import type { ConsumerDefinition } from './definition';
import type { ConsumerHandler } from './handler';

export class ConsumerDefinitionError extends Error {
  override name = 'ConsumerDefinitionError';
}

/** A name no definition has: a request to fix (CLI exit 2, HTTP 404), with the names there are. */
export class UnknownConsumerError extends Error {
  override name = 'UnknownConsumerError';
  constructor(
    readonly consumer: string,
    readonly known: string[],
  ) {
    super(`unknown consumer ${consumer} (known: ${known.join(', ') || 'none'})`);
  }
}

export const SCHEMAS_DIR = path.join(PACKAGE_ROOT, 'consumers', 'schemas');

/** Turns a message value into a row for the handler's writer, or a reason for the dead-letter table. */
export type MessageDecoder = (value: Buffer | null) => Decoded<object>;

/** A validated definition with every default filled in and its decoders ready. */
export interface ResolvedConsumer {
  name: string;
  topics: string[];
  groupId: string;
  /** The handler's name, as workflow inputs carry it. */
  handler: string;
  /** The handler's writer: stores what `decode` gives. */
  write: ConsumerHandler['write'];
  fromBeginning: boolean;
  batchSize: number;
  rangeMaxMessages: number;
  maxLead: number;
  partitionsPerIngestWorkflow: number;
  reportEveryMs: number;
  workflow: ConsumerWorkflowSettings;
  ingest: IngestWorkflowSettings;
  /**
   * The decoder for these message values. With the Confluent format it first fetches the writer schemas of the ids
   * they carry that are not cached, and throws SchemaRegistryUnavailableError while the registry cannot answer
   * (the caller waits: an outage is never a reason to dead-letter). Bad input is never an exception.
   */
  decoderFor(values: readonly (Buffer | null)[]): Promise<MessageDecoder>;
}

const isHandlerShaped = (h: Record<string, unknown>): boolean =>
  typeof h['name'] === 'string' && LOWER_SNAKE_NAME.test(h['name']) && typeof h['readerSchema'] === 'string' && typeof h['createDecoder'] === 'function' && typeof h['write'] === 'function';

const Shape = z.object({
  name: z.string().regex(LOWER_SNAKE_NAME, LOWER_SNAKE_NAME_RULE),
  description: z.string().min(1, 'must say what the consumer does'),
  topics: z
    .array(
      z
        .string()
        .regex(KAFKA_TOPIC, KAFKA_TOPIC_RULE)
        .refine((t) => t !== '.' && t !== '..', 'must not be "." or ".."'),
    )
    .min(1, 'must name at least one topic'),
  groupId: z.string().regex(/^\S{1,255}$/, 'must be 1-255 characters without spaces'),
  // A name is checked against the registry's handlers below; an object must have the contract's parts.
  handler: z.custom<ConsumerHandler | string>(
    (v) => typeof v === 'string' || (typeof v === 'object' && v !== null && isHandlerShaped(v as Record<string, unknown>)),
    'must name a handler or be one (defineConsumerHandler: name, readerSchema, createDecoder, write)',
  ),
  wireFormat: z.enum(WIRE_FORMATS as [string, ...string[]], { message: `must be one of ${WIRE_FORMATS.join(', ')}` }),
  schema: z.string().min(1, 'must name an Avro schema file'),
  schemaIds: z.array(z.number().int().min(0).max(0xffffffff)).min(1).optional(),
  fromBeginning: z.boolean().optional(),
  batchSize: z.number().int().min(1).max(50_000).optional(),
  rangeMaxMessages: z.number().int().min(1).max(10_000_000).optional(),
  maxLead: z.number().int().min(1).max(100_000_000).optional(),
  partitionsPerIngestWorkflow: z.number().int().min(1).max(1024).optional(),
  ingestContinueAsNewAfter: z.number().int().min(1).max(5_000).optional(),
  continueAsNewAfterReports: z.number().int().min(1).max(5_000).optional(),
  timeouts: z.object({ heartbeat: durationField, report: durationField }).optional(),
  retry: z.object({ initialInterval: durationField, maximumInterval: durationField }).optional(),
});

const ms = (d: unknown, fallback: number): number => (d === undefined ? fallback : msToNumber(d as never));

/** The validated consumers of a process; built once at start-up, so a bad definition stops the worker. */
export class ConsumerRegistry {
  private readonly byName = new Map<string, ResolvedConsumer>();
  private readonly handlers = new Map<string, ConsumerHandler>();

  /**
   * `handlers`: those a definition may name by `handler: '<name>'` (a definition may also hold its own).
   * `writerSchemas`: where consumers with the Confluent format find writer schemas (the schema registry); a process
   * that only lists consumers needs none.
   */
  constructor(defs: ConsumerDefinition[], opts: { handlers?: readonly ConsumerHandler[]; schemasDir?: string; writerSchemas?: WriterSchemaSource } = {}) {
    for (const h of opts.handlers ?? []) this.handlers.set(h.name, h);
    // A definition that holds its handler resolves to that object; by name, the shipped handlers come first. (A
    // CONSUMERS_MODULE in TypeScript loads its own copy of the shipped modules, so the same handler can arrive as
    // two objects under one name.)
    for (const def of defs) {
      const h = def?.handler;
      if (typeof h === 'object' && h !== null && !this.handlers.has(h.name)) this.handlers.set(h.name, h);
    }
    const groups = new Map<string, string>();
    for (const def of defs) {
      const resolved = resolveConsumer(def, this.handlers, opts.schemasDir ?? SCHEMAS_DIR, opts.writerSchemas);
      if (this.byName.has(resolved.name)) throw new ConsumerDefinitionError(`consumer ${resolved.name}: name: defined twice`);
      const other = groups.get(resolved.groupId);
      if (other) {
        throw new ConsumerDefinitionError(
          `consumer ${resolved.name}: groupId: ${resolved.groupId} is already the group of consumer ${other}; two consumers in one group split its partitions`,
        );
      }
      groups.set(resolved.groupId, resolved.name);
      this.byName.set(resolved.name, resolved);
    }
  }

  list(): ResolvedConsumer[] {
    return [...this.byName.values()];
  }

  has(name: string): boolean {
    return this.byName.has(name);
  }

  get(name: string): ResolvedConsumer {
    const c = this.byName.get(name);
    if (!c) throw new UnknownConsumerError(name, [...this.byName.keys()]);
    return c;
  }
}

function resolveConsumer(
  def: ConsumerDefinition,
  handlers: ReadonlyMap<string, ConsumerHandler>,
  schemasDir: string,
  writerSchemas: WriterSchemaSource | undefined,
): ResolvedConsumer {
  const label = `consumer ${typeof def?.name === 'string' ? def.name : JSON.stringify(def?.name)}`;
  // Settings that did nothing (the consumer joins no Kafka group) are refused by name rather than silently ignored.
  for (const [field, present] of [
    ['partitionsConsumedConcurrently', (def as { partitionsConsumedConcurrently?: unknown })?.partitionsConsumedConcurrently !== undefined],
    ['timeouts.kafkaSession', (def?.timeouts as { kafkaSession?: unknown } | undefined)?.kafkaSession !== undefined],
  ] as const) {
    if (present) {
      throw new ConsumerDefinitionError(`${label}: ${field}: no longer a setting (the consumer joins no Kafka group: each partition has its own ingest workflow); remove it`);
    }
  }
  const parsed = Shape.safeParse(def);
  if (!parsed.success) {
    const first = parsed.error.issues[0]!;
    throw new ConsumerDefinitionError(`${label}: ${first.path.join('.') || '(definition)'}: ${first.message}`);
  }
  if (def.schemaIds && def.wireFormat !== 'confluent') {
    throw new ConsumerDefinitionError(`${label}: schemaIds: only applies to wireFormat "confluent"`);
  }
  const handler = typeof def.handler === 'string' ? handlers.get(def.handler) : def.handler;
  if (!handler) {
    throw new ConsumerDefinitionError(`${label}: handler: must be one of the consumer handlers: ${[...handlers.keys()].join(', ') || 'none'} (got ${def.handler as string})`);
  }
  const schemaPath = schemaFile(def.schema, schemasDir);
  const writerSchema = readSchema(schemaPath, `${label}: schema`);
  const readerSchema = readSchema(schemaFile(handler.readerSchema, schemasDir), `handler ${handler.name}: readerSchema`);
  let decode: MessageDecoder;
  try {
    // Also for the Confluent format: the declared schema (what the topic's producers register) must resolve to the
    // handler's, or the consumer would dead-letter every message.
    decode = handler.createDecoder({ wireFormat: def.wireFormat, readerSchema, writerSchema });
  } catch (err) {
    throw new ConsumerDefinitionError(
      `${label}: schema: ${schemaPath} cannot be read as handler ${handler.name}'s ${handler.readerSchema}: ${(err as Error).message}`,
    );
  }
  let decoderFor: ResolvedConsumer['decoderFor'] = () => Promise.resolve(decode);
  if (def.wireFormat === 'confluent') {
    const decoders = writerSchemas
      ? new ConfluentDecoders({
          source: writerSchemas,
          build: (writer) => handler.createDecoder({ wireFormat: 'confluent', readerSchema, writerSchema: writer }),
          ...(def.schemaIds ? { schemaIds: def.schemaIds } : {}),
        })
      : undefined;
    decoderFor = async (values) => {
      if (!decoders) throw new ConsumerDefinitionError(`${label}: reads the Confluent wire format, and this process was given no schema registry`);
      return decoders.decoderFor(values);
    };
  }
  const t = def.timeouts ?? {};
  const heartbeatTimeoutMs = ms(t.heartbeat, 20_000);
  const retryInitialIntervalMs = ms(def.retry?.initialInterval, 1_000);
  const retryMaximumIntervalMs = ms(def.retry?.maximumInterval, 30_000);
  return {
    name: def.name,
    topics: [...def.topics],
    groupId: def.groupId,
    handler: handler.name,
    write: handler.write.bind(handler),
    fromBeginning: def.fromBeginning ?? true,
    batchSize: def.batchSize ?? 5000,
    rangeMaxMessages: def.rangeMaxMessages ?? 50_000,
    maxLead: Math.max(def.maxLead ?? 200_000, def.rangeMaxMessages ?? 1),
    partitionsPerIngestWorkflow: def.partitionsPerIngestWorkflow ?? 1,
    reportEveryMs: ms(t.report, 5_000),
    workflow: {
      heartbeatTimeoutMs,
      retryInitialIntervalMs,
      retryMaximumIntervalMs,
      continueAsNewAfterReports: def.continueAsNewAfterReports ?? 1000,
    },
    ingest: {
      retryInitialIntervalMs,
      retryMaximumIntervalMs,
      continueAsNewAfterBatches: def.ingestContinueAsNewAfter ?? 500,
      heartbeatTimeoutMs,
    },
    decoderFor,
  };
}

function schemaFile(name: string, dir: string): string {
  return path.isAbsolute(name) || name.includes('/') ? path.resolve(name) : path.join(dir, name);
}

function readSchema(file: string, label: string): Schema {
  if (!existsSync(file)) throw new ConsumerDefinitionError(`${label}: schema file ${file} does not exist`);
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new ConsumerDefinitionError(`${label}: ${file} is not JSON: ${(err as Error).message}`);
  }
  try {
    // Parse once here so a bad schema names its file at start-up instead of failing inside the decoder.
    Type.forSchema(json as Schema);
  } catch (err) {
    throw new ConsumerDefinitionError(`${label}: ${file} is not a valid Avro schema: ${(err as Error).message}`);
  }
  return json as Schema;
}
