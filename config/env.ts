import { z } from 'zod';

const urlOrNull = (u: string): URL | null => (URL.canParse(u) ? new URL(u) : null);

// Defaults are the local stack's (`scheduled-job stack env`), so a newcomer needs no setup to run the demo.
const EnvSchema = z.object({
  DATABASE_URL: z
    .string()
    .regex(/^postgres(ql)?:\/\//, 'must be a postgres:// URL')
    .default('postgres://scheduled_job:scheduled_job@127.0.0.1:55432/scheduled_job'),
  /** Where the ingest activities write: a LOGIN member of the scheduled_job_ingest role. Unset: DATABASE_URL. */
  INGEST_DATABASE_URL: z.string().regex(/^postgres(ql)?:\/\//, 'must be a postgres:// URL').optional(),
  TEMPORAL_ADDRESS: z
    .string()
    .regex(/^[^:\s]+:\d+$/, 'must be host:port')
    .default('127.0.0.1:7233'),
  TEMPORAL_NAMESPACE: z.string().min(1).default('default'),
  TEMPORAL_TASK_QUEUE: z.string().min(1).default('scheduled-job'),
  TEMPORAL_TLS: z.enum(['true', 'false']).default('false'),
  TEMPORAL_TLS_CERT_PATH: z.string().optional(),
  TEMPORAL_TLS_KEY_PATH: z.string().optional(),
  TEMPORAL_API_KEY: z.string().optional(),
  KAFKA_BROKERS: z
    .string()
    .regex(/^[^,\s]+:\d+(,[^,\s]+:\d+)*$/, 'must be a comma-separated list of host:port')
    .default('127.0.0.1:9092'),
  KAFKA_SSL: z.enum(['true', 'false']).default('false'),
  KAFKA_SASL_MECHANISM: z.enum(['plain', 'scram-sha-256', 'scram-sha-512']).optional(),
  KAFKA_SASL_USERNAME: z.string().optional(),
  KAFKA_SASL_PASSWORD: z.string().optional(),
  // The Schema Registry's Confluent-compatible API (Apicurio: <base>/apis/ccompat/v7; Confluent's: its root), where
  // consumers with wireFormat "confluent" read writer schemas by id. Credentials go in the two variables below: a URL
  // with a user in it would end up in logs and status messages.
  SCHEMA_REGISTRY_URL: z
    .url('must be a URL such as http://127.0.0.1:8081/apis/ccompat/v7')
    .refine((u) => /^https?:$/.test(urlOrNull(u)?.protocol ?? 'http:'), 'must be an http:// or https:// URL')
    .refine((u) => !urlOrNull(u)?.username && !urlOrNull(u)?.password, 'must not hold credentials: set SCHEMA_REGISTRY_USERNAME and SCHEMA_REGISTRY_PASSWORD')
    .default('http://127.0.0.1:8081/apis/ccompat/v7'),
  /** Basic auth for the registry (both or neither). */
  SCHEMA_REGISTRY_USERNAME: z.string().min(1).optional(),
  SCHEMA_REGISTRY_PASSWORD: z.string().min(1).optional(),
  S3_ENDPOINT: z.url('must be a URL such as http://127.0.0.1:7070').default('http://127.0.0.1:7070'),
  S3_BUCKET: z.string().min(3, 'must be a bucket name').default('scheduled-job'),
  S3_REGION: z.string().min(1).default('us-east-1'),
  AWS_ACCESS_KEY_ID: z.string().min(1).default('scheduledjob'),
  AWS_SECRET_ACCESS_KEY: z.string().min(1).default('scheduledjob-secret'),
  API_PORT: z.coerce.number().int().min(1).max(65535).default(8080),
  API_HOST: z.string().default('127.0.0.1'),
  // No default: a token known to everyone is no token. `api` refuses to start without it (requireApiToken); the
  // local stack's `stack env` exports one.
  API_TOKEN: z.string().min(8, 'must be at least 8 characters').optional(),
  // The console (/console): read-only hides and refuses every action; the Temporal Web UI is where its run links go.
  CONSOLE_READ_ONLY: z.enum(['true', 'false'], 'must be true or false').default('false'),
  TEMPORAL_UI_URL: z.url('must be a URL such as http://127.0.0.1:8233').default('http://127.0.0.1:8233'),
  JOBS_MODULE: z.string().optional(),
  CONSUMERS_MODULE: z.string().optional(),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  // The worker's Prometheus endpoint (ours + the Temporal core SDK's metrics). Unset: off; 0: any free port (logged).
  WORKER_METRICS_PORT: z.coerce.number().int().min(0).max(65535).optional(),
  WORKER_METRICS_HOST: z.string().default('127.0.0.1'),
}).superRefine((e, ctx) => {
  if ((e.SCHEMA_REGISTRY_USERNAME === undefined) !== (e.SCHEMA_REGISTRY_PASSWORD === undefined)) {
    const missing = e.SCHEMA_REGISTRY_USERNAME === undefined ? 'SCHEMA_REGISTRY_USERNAME' : 'SCHEMA_REGISTRY_PASSWORD';
    ctx.addIssue({ code: 'custom', path: [missing], message: 'must be set too: basic auth for the schema registry takes both SCHEMA_REGISTRY_USERNAME and SCHEMA_REGISTRY_PASSWORD' });
  }
});

export type Env = z.infer<typeof EnvSchema>;

/** Every variable the processes read: what a deployment (docker-compose.yml, a manifest) may set. */
export const ENV_VARIABLES: readonly string[] = Object.keys(EnvSchema.shape);

export class ConfigError extends Error {
  override name = 'ConfigError';
}

const SECRET_VARIABLE = /TOKEN|PASSWORD|SECRET|API_KEY|DATABASE_URL/;

/** Reads and validates the environment once; an invalid variable stops start-up with its name and the fix. */
export function loadEnv(source: NodeJS.ProcessEnv = process.env): Env {
  const present = Object.fromEntries(Object.entries(source).filter(([, v]) => v !== undefined && v !== ''));
  const parsed = EnvSchema.safeParse(present);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => {
      const name = String(i.path[0]);
      // A secret is never echoed, not even a wrong one (it may be the right secret in the wrong variable).
      const shown = SECRET_VARIABLE.test(name) ? '<hidden>' : JSON.stringify(source[name] ?? '');
      return `  ${name}=${shown}: ${i.message}`;
    });
    throw new ConfigError(`invalid environment:\n${lines.join('\n')}`);
  }
  return parsed.data;
}

/** The API's bearer token, or a ConfigError saying how to set one: the API never starts open or on a default. */
export function requireApiToken(e: Env): string {
  if (!e.API_TOKEN) {
    throw new ConfigError(
      'API_TOKEN is not set: the HTTP API refuses to start without a bearer token. Set API_TOKEN to a secret of at least ' +
        '8 characters (for the local stack: eval "$(scheduled-job stack env)")',
    );
  }
  return e.API_TOKEN;
}

let cached: Env | undefined;
export function env(): Env {
  cached ??= loadEnv();
  return cached;
}
