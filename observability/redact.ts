import type { LoggerOptions } from 'pino';

/**
 * Keys whose values never reach the logs: tokens, passwords, authorization headers, connection strings (their
 * credentials), the AWS secret, the Kafka SASL password, the schema registry's password, the Temporal API key. Each is matched at the top of a log
 * object and up to two levels down (`{ env: {...} }`, `{ req: { headers: {...} } }`), where pino's redaction can
 * reach without scanning every object.
 */
const SECRET_KEYS = [
  'password',
  'passwd',
  'secret',
  'token',
  'apiToken',
  'accessToken',
  'apiKey',
  'authorization',
  'Authorization',
  'cookie',
  'connectionString',
  'databaseUrl',
  'secretAccessKey',
  'sessionToken',
  'API_TOKEN',
  'DATABASE_URL',
  'INGEST_DATABASE_URL',
  'AWS_SECRET_ACCESS_KEY',
  'AWS_SESSION_TOKEN',
  'KAFKA_SASL_PASSWORD',
  'SCHEMA_REGISTRY_PASSWORD',
  'TEMPORAL_API_KEY',
];

export const REDACTED = '[Redacted]';

/** A URL keeps its scheme, host and path (useful when debugging a connection) and loses its user and password. */
export function censor(value: unknown): unknown {
  if (typeof value === 'string' && /^[a-z][a-z0-9+.-]*:\/\/[^/@\s]*@/i.test(value)) {
    return value.replace(/^([a-z][a-z0-9+.-]*:\/\/)[^/@\s]*@/i, `$1${REDACTED}@`);
  }
  return REDACTED;
}

export const redactOptions: LoggerOptions['redact'] = {
  paths: SECRET_KEYS.flatMap((k) => [k, `*.${k}`, `*.*.${k}`]),
  censor,
};
