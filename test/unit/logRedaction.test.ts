import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { test } from 'node:test';

const REPO = path.resolve(__dirname, '..', '..');

// The real logger in its own process, writing to stdout as in production, so the test sees exactly what ships.
function logLines(script: string): Record<string, unknown>[] {
  const out = execFileSync(process.execPath, ['--import', 'tsx', '-e', `const { logger } = require('./observability/logger');\n${script}\nlogger.flush();`], {
    cwd: REPO,
    env: { ...process.env, LOG_LEVEL: 'info' },
    encoding: 'utf8',
  });
  return out.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
}

const SECRETS = {
  token: 'tok-SECRET-1',
  apiToken: 'tok-SECRET-2',
  password: 'pw-SECRET-3',
  databaseUrl: 'postgres://scheduled_job:pw-SECRET-4@db.internal:5432/scheduled_job',
  awsSecret: 'aws-SECRET-5',
  saslPassword: 'sasl-SECRET-6',
  bearer: 'Bearer tok-SECRET-7',
  temporalKey: 'tmprl-SECRET-8',
};

test('tokens, passwords, authorization headers, database credentials, the AWS secret and the SASL password are never logged', () => {
  const [line] = logLines(`logger.info({
    token: ${JSON.stringify(SECRETS.token)},
    job: 'ingest_notification_views',
    env: {
      API_TOKEN: ${JSON.stringify(SECRETS.apiToken)},
      DATABASE_URL: ${JSON.stringify(SECRETS.databaseUrl)},
      INGEST_DATABASE_URL: ${JSON.stringify(SECRETS.databaseUrl)},
      AWS_SECRET_ACCESS_KEY: ${JSON.stringify(SECRETS.awsSecret)},
      KAFKA_SASL_PASSWORD: ${JSON.stringify(SECRETS.saslPassword)},
      TEMPORAL_API_KEY: ${JSON.stringify(SECRETS.temporalKey)},
      S3_BUCKET: 'scheduled-job',
    },
    req: { method: 'POST', url: '/jobs/x/runs', headers: { authorization: ${JSON.stringify(SECRETS.bearer)}, host: 'api' } },
    kafka: { sasl: { mechanism: 'plain', username: 'svc', password: ${JSON.stringify(SECRETS.password)} } },
  }, 'config loaded');`);
  const text = JSON.stringify(line);
  for (const [what, secret] of Object.entries(SECRETS)) {
    assert.ok(!text.includes(secret), `${what} leaked: ${text}`);
  }
  assert.ok(!text.includes('-SECRET-'), text);
  const l = line as any;
  // what is not secret stays, so the line is still useful
  assert.equal(l.msg, 'config loaded');
  assert.equal(l.job, 'ingest_notification_views');
  assert.equal(l.env.S3_BUCKET, 'scheduled-job');
  assert.equal(l.req.headers.host, 'api');
  assert.equal(l.kafka.sasl.username, 'svc');
  assert.equal(l.token, '[Redacted]');
  assert.equal(l.req.headers.authorization, '[Redacted]');
  // a connection string loses only its credentials
  assert.equal(l.env.DATABASE_URL, 'postgres://[Redacted]@db.internal:5432/scheduled_job');
});
