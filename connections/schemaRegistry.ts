import type { Env } from '../config/env';

/**
 * A client of a Schema Registry's Confluent-compatible API (Apicurio's `/apis/ccompat/v7`, or Confluent's own): the
 * four calls this project makes, on Node's fetch. Its errors tell apart what waiting mends (the registry is away,
 * answers 5xx or refuses the credentials) from an answer about the request (an id it does not know, a schema it refuses).
 */

/** The registry could not answer: a dependency outage, never a verdict on a message. */
export class SchemaRegistryUnavailableError extends Error {
  override name = 'SchemaRegistryUnavailableError';
}

/** The registry answered 40403: no schema has this id. */
export class UnknownSchemaIdError extends Error {
  override name = 'UnknownSchemaIdError';
  constructor(
    readonly id: number,
    registryUrl: string,
  ) {
    super(`unknown schema id ${id} (the schema registry at ${registryUrl} has no schema with this id)`);
  }
}

/** The registry refused to register a schema: incompatible with the subject's versions (409) or invalid (422). */
export class SchemaRejectedError extends Error {
  override name = 'SchemaRejectedError';
  constructor(
    message: string,
    readonly status: number,
  ) {
    super(message);
  }
}

export interface RegisteredSchema {
  /** The registry's id for the schema (Apicurio: a content id, so the same schema text has the same id everywhere). */
  id: number;
  /** AVRO, JSON or PROTOBUF. */
  schemaType: string;
  /** The schema as the registry holds it (JSON text for Avro). */
  schema: string;
}

export interface SchemaRegistryOptions {
  /** The Confluent-compatible API's base URL, e.g. http://127.0.0.1:8081/apis/ccompat/v7. */
  url: string;
  auth?: { username: string; password: string };
  /** Per request (default 5 s): a registry that hangs is as away as one that refuses connections. */
  timeoutMs?: number;
}

const CONTENT_TYPE = 'application/vnd.schemaregistry.v1+json';
const SCHEMA_NOT_FOUND = 40403;

export class SchemaRegistryClient {
  readonly url: string;
  private readonly headers: Record<string, string>;
  private readonly timeoutMs: number;

  constructor(opts: SchemaRegistryOptions) {
    this.url = opts.url.replace(/\/+$/, '');
    this.timeoutMs = opts.timeoutMs ?? 5_000;
    this.headers = { Accept: CONTENT_TYPE, 'Content-Type': CONTENT_TYPE };
    if (opts.auth) this.headers['Authorization'] = `Basic ${Buffer.from(`${opts.auth.username}:${opts.auth.password}`).toString('base64')}`;
  }

  /** The schema with this id. Throws UnknownSchemaIdError when the registry has none, SchemaRegistryUnavailableError when it cannot say. */
  async schemaById(id: number): Promise<RegisteredSchema> {
    const r = await this.request('GET', `/schemas/ids/${id}`);
    if (r.status === 404 && r.errorCode === SCHEMA_NOT_FOUND) throw new UnknownSchemaIdError(id, this.url);
    const body = this.expectOk(r, `schema id ${id}`) as { schema?: unknown; schemaType?: unknown };
    if (typeof body.schema !== 'string') throw this.unavailable(`schema id ${id}: the answer has no schema`);
    return { id, schemaType: typeof body.schemaType === 'string' ? body.schemaType : 'AVRO', schema: body.schema };
  }

  /**
   * Registers an Avro schema under a subject (`<topic>-value` for a topic's values) and returns its id; registering
   * a schema the subject already has returns the existing id. Throws SchemaRejectedError when the subject's
   * compatibility rule refuses it (409) or the registry finds it invalid (422).
   */
  async register(subject: string, schema: object | string): Promise<number> {
    const text = typeof schema === 'string' ? schema : JSON.stringify(schema);
    const r = await this.request('POST', `/subjects/${encodeURIComponent(subject)}/versions`, { schema: text, schemaType: 'AVRO' });
    if (r.status === 409 || r.status === 422) {
      const why = r.status === 409 ? 'incompatible with the versions it has under its compatibility rule' : 'not a valid schema';
      throw new SchemaRejectedError(`the schema registry refused the schema for subject ${subject}: ${why} (HTTP ${r.status}: ${r.message})`, r.status);
    }
    const body = this.expectOk(r, `registering under ${subject}`) as { id?: unknown };
    if (typeof body.id !== 'number') throw this.unavailable(`registering under ${subject}: the answer has no id`);
    return body.id;
  }

  /** Sets the compatibility level, globally or for one subject (BACKWARD, FORWARD, FULL, NONE, and their _TRANSITIVE forms). */
  async setCompatibility(level: string, subject?: string): Promise<void> {
    const r = await this.request('PUT', subject ? `/config/${encodeURIComponent(subject)}` : '/config', { compatibility: level });
    this.expectOk(r, `setting compatibility ${level}`);
  }

  /** The compatibility level, globally or of one subject. */
  async compatibility(subject?: string): Promise<string> {
    const r = await this.request('GET', subject ? `/config/${encodeURIComponent(subject)}` : '/config');
    const body = this.expectOk(r, 'reading the compatibility level') as { compatibilityLevel?: unknown };
    return String(body.compatibilityLevel);
  }

  private async request(method: string, path: string, body?: unknown): Promise<{ status: number; json: unknown; errorCode?: number; message: string }> {
    let res: Response;
    let text: string;
    try {
      res = await fetch(this.url + path, {
        method,
        headers: this.headers,
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        signal: AbortSignal.timeout(this.timeoutMs),
      });
      text = await res.text();
    } catch (err) {
      throw this.unavailable(`${method} ${path}: ${causeText(err)}`);
    }
    let json: unknown;
    try {
      json = text ? JSON.parse(text) : undefined;
    } catch {
      json = undefined;
    }
    const o = (json ?? {}) as { error_code?: unknown; message?: unknown };
    return {
      status: res.status,
      json,
      ...(typeof o.error_code === 'number' ? { errorCode: o.error_code } : {}),
      message: typeof o.message === 'string' ? o.message.slice(0, 300) : text.slice(0, 300),
    };
  }

  /** Anything but a 2xx here is the registry (or its address, or the credentials) being wrong, not the request. */
  private expectOk(r: { status: number; json: unknown; message: string }, what: string): unknown {
    if (r.status >= 200 && r.status < 300 && r.json !== undefined) return r.json;
    const hint =
      r.status === 401 || r.status === 403
        ? ': check SCHEMA_REGISTRY_USERNAME and SCHEMA_REGISTRY_PASSWORD'
        : r.status === 404
          ? ': is SCHEMA_REGISTRY_URL the Confluent-compatible API (Apicurio: <base>/apis/ccompat/v7)?'
          : '';
    throw this.unavailable(`${what}: HTTP ${r.status}${r.message ? ` (${r.message})` : ''}${hint}`);
  }

  private unavailable(message: string): SchemaRegistryUnavailableError {
    return new SchemaRegistryUnavailableError(`schema registry at ${this.url} unavailable: ${message}`);
  }
}

/** The registry the environment names (SCHEMA_REGISTRY_URL, with basic auth when its user and password are set). */
export function schemaRegistryFromEnv(e: Env): SchemaRegistryClient {
  return new SchemaRegistryClient({
    url: e.SCHEMA_REGISTRY_URL,
    ...(e.SCHEMA_REGISTRY_USERNAME && e.SCHEMA_REGISTRY_PASSWORD ? { auth: { username: e.SCHEMA_REGISTRY_USERNAME, password: e.SCHEMA_REGISTRY_PASSWORD } } : {}),
  });
}

/** fetch's "fetch failed" hides the reason (ECONNREFUSED, a timeout) in its cause. */
function causeText(err: unknown): string {
  const e = err as { name?: string; message?: string; cause?: { code?: string; message?: string } } | undefined;
  if (e?.name === 'TimeoutError') return 'no answer in time';
  const cause = e?.cause;
  if (cause) return [cause.code, cause.message].filter(Boolean).join(': ');
  return e?.message ?? String(err);
}
