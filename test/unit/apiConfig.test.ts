import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ConfigError, loadEnv, requireApiToken } from '../../config/env';

test('the API binds loopback unless API_HOST says otherwise, and has no default token', () => {
  const e = loadEnv({});
  assert.equal(e.API_HOST, '127.0.0.1');
  assert.equal(e.API_TOKEN, undefined);
  assert.throws(() => requireApiToken(e), (err: Error) => err instanceof ConfigError && /API_TOKEN is not set/.test(err.message));
  assert.equal(requireApiToken(loadEnv({ API_TOKEN: 'a-real-secret' })), 'a-real-secret');
  assert.equal(loadEnv({ API_HOST: '0.0.0.0' }).API_HOST, '0.0.0.0');
});

test('INGEST_DATABASE_URL is optional and checked; a bad secret is named but never echoed', () => {
  assert.equal(loadEnv({}).INGEST_DATABASE_URL, undefined);
  assert.throws(
    () => loadEnv({ INGEST_DATABASE_URL: 'mysql://u:hunter2-db@h/db', API_TOKEN: 'short12' }),
    (err: Error) =>
      err instanceof ConfigError &&
      /INGEST_DATABASE_URL=<hidden>: must be a postgres:\/\/ URL/.test(err.message) &&
      /API_TOKEN=<hidden>: must be at least 8 characters/.test(err.message) &&
      !err.message.includes('hunter2') &&
      !err.message.includes('short12'),
  );
});
