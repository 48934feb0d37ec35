import type { Schema } from 'avsc';
import { SchemaRegistryUnavailableError, UnknownSchemaIdError, type RegisteredSchema } from '../connections/schemaRegistry';
import { reportDown, reportUp } from '../observability/dependencies';
import { confluentFramingProblem, confluentSchemaIdOf, oneLine } from './avro';
import type { MessageDecoder } from './registry';

/** Where writer schemas come from: the schema registry (SchemaRegistryClient), or a fixed set in pure tests. */
export interface WriterSchemaSource {
  /** Named in reasons and status lines. */
  readonly url: string;
  /** Throws UnknownSchemaIdError for an id it does not know, anything else when it cannot answer. */
  schemaById(id: number): Promise<RegisteredSchema>;
}

/** A writer schema id's decoder, or why its messages are dead letters. */
type Entry = { ok: true; decode: MessageDecoder } | { ok: false; reason: string; expires: number };

export interface ConfluentDecodersOptions {
  source: WriterSchemaSource;
  /** The handler's decoder for messages written with `writer`; throws when `writer` cannot be resolved to the reader's schema. */
  build: (writer: Schema) => MessageDecoder;
  /** Ids accepted in the header; any id when omitted. */
  schemaIds?: readonly number[];
  /** Writer schemas kept (default 1000), least recently used out first. */
  maxEntries?: number;
  /** How long an id the registry did not know stays unknown before it is asked again (default 60 s). */
  unknownIdTtlMs?: number;
}

/** Registry look-ups of one chunk at once: enough to hide the round trips, few enough not to flood the registry. */
const FETCH_CONCURRENCY = 8;

/**
 * The Confluent wire format with writer schemas from a registry: a decoder per writer schema id, built once per id
 * with Avro schema resolution to the consumer's reader schema, kept in a bounded cache. `decoderFor` fetches the ids
 * a chunk names before any of its messages is decoded, so decoding stays synchronous; and since a chunk's decoder
 * holds its own entries, an eviction meanwhile (other chunks, other partitions) cannot touch it.
 */
export class ConfluentDecoders {
  private readonly entries = new Map<number, Entry>();
  private readonly inFlight = new Map<number, Promise<Entry>>();
  private readonly accepted: ReadonlySet<number> | undefined;
  private readonly maxEntries: number;
  private readonly unknownIdTtlMs: number;

  constructor(private readonly opts: ConfluentDecodersOptions) {
    this.accepted = opts.schemaIds ? new Set(opts.schemaIds) : undefined;
    this.maxEntries = opts.maxEntries ?? 1000;
    this.unknownIdTtlMs = opts.unknownIdTtlMs ?? 60_000;
  }

  /**
   * The decoder of these values, once the writer schema of every id they carry is known. Throws
   * SchemaRegistryUnavailableError while the registry cannot answer: the caller waits and asks again, and nothing
   * about the messages is decided meanwhile.
   */
  async decoderFor(values: readonly (Buffer | null)[]): Promise<MessageDecoder> {
    const chunk = new Map<number, Entry>();
    const missing: number[] = [];
    const now = Date.now();
    let previous = -1;
    for (const v of values) {
      const id = confluentSchemaIdOf(v);
      // Messages of one id come in runs: most of a chunk is skipped here.
      if (id === previous || id < 0 || chunk.has(id) || (this.accepted && !this.accepted.has(id))) continue;
      previous = id;
      const e = this.entries.get(id);
      if (e && (e.ok || e.expires > now)) {
        this.entries.delete(id); // most recently used last
        this.entries.set(id, e);
        chunk.set(id, e);
      } else if (!missing.includes(id)) {
        missing.push(id);
      }
    }
    for (let i = 0; i < missing.length; i += FETCH_CONCURRENCY) {
      const ids = missing.slice(i, i + FETCH_CONCURRENCY);
      const got = await Promise.all(ids.map((id) => this.load(id)));
      ids.forEach((id, k) => chunk.set(id, got[k]!));
    }
    let lastId = -1;
    let last: Entry | undefined;
    return (value) => {
      const id = confluentSchemaIdOf(value);
      if (id < 0) return { ok: false, reason: confluentFramingProblem(value) };
      if (id !== lastId) {
        if (this.accepted && !this.accepted.has(id)) {
          return { ok: false, reason: `schema id ${id} is not one of the consumer's schemaIds (${[...this.accepted].join(', ')})` };
        }
        last = chunk.get(id);
        // A decoder serves the values it was made for; any other value would need a look-up it cannot wait for.
        if (!last) throw new Error(`schema id ${id} was not among the values this decoder was made for`);
        lastId = id;
      }
      return last!.ok ? last!.decode(value) : { ok: false, reason: last!.reason };
    };
  }

  private load(id: number): Promise<Entry> {
    let p = this.inFlight.get(id);
    if (!p) {
      p = this.fetch(id).finally(() => this.inFlight.delete(id));
      this.inFlight.set(id, p);
    }
    return p;
  }

  private async fetch(id: number): Promise<Entry> {
    let registered: RegisteredSchema | undefined;
    try {
      registered = await this.opts.source.schemaById(id);
    } catch (err) {
      if (!(err instanceof UnknownSchemaIdError)) {
        const unavailable =
          err instanceof SchemaRegistryUnavailableError ? err : new SchemaRegistryUnavailableError(`schema registry at ${this.opts.source.url} unavailable: ${String((err as Error)?.message ?? err)}`);
        reportDown('schema-registry', unavailable, 'writer schema', `${unavailable.message}; the partitions that need it wait (logged once per outage)`);
        throw unavailable;
      }
      reportUp('schema-registry');
      return this.keep(id, { ok: false, reason: err.message, expires: Date.now() + this.unknownIdTtlMs });
    }
    reportUp('schema-registry');
    return this.keep(id, this.entryOf(registered));
  }

  /** An id's schema never changes in a registry, so what it decodes to (or why not) is kept until evicted. */
  private entryOf(r: RegisteredSchema): Entry {
    const forever = Number.POSITIVE_INFINITY;
    if (r.schemaType.toUpperCase() !== 'AVRO') return { ok: false, reason: `schema id ${r.id} is a ${r.schemaType} schema, not Avro`, expires: forever };
    let writer: Schema;
    try {
      writer = JSON.parse(r.schema) as Schema;
    } catch (err) {
      return { ok: false, reason: `schema id ${r.id} is not JSON: ${oneLine(err)}`, expires: forever };
    }
    try {
      return { ok: true, decode: this.opts.build(writer) };
    } catch (err) {
      return { ok: false, reason: `schema id ${r.id} cannot be resolved to the consumer's reader schema: ${oneLine(err)}`, expires: forever };
    }
  }

  private keep(id: number, e: Entry): Entry {
    this.entries.delete(id);
    this.entries.set(id, e);
    while (this.entries.size > this.maxEntries) this.entries.delete(this.entries.keys().next().value!);
    return e;
  }

  /** Writer schemas held now (for tests of the bound). */
  get size(): number {
    return this.entries.size;
  }
}
