import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ConfigError, loadEnv } from '../../config/env';

test('defaults are the local stack', () => {
  const e = loadEnv({});
  assert.equal(e.TEMPORAL_ADDRESS, '127.0.0.1:7233');
  assert.equal(e.KAFKA_BROKERS, '127.0.0.1:9092');
  assert.equal(e.API_PORT, 8080);
});

test('an invalid variable is named with what is wrong', () => {
  assert.throws(
    () => loadEnv({ TEMPORAL_ADDRESS: 'localhost', KAFKA_BROKERS: 'a:1,b', API_PORT: '99999' }),
    (err: Error) =>
      err instanceof ConfigError &&
      /TEMPORAL_ADDRESS="localhost": must be host:port/.test(err.message) &&
      /KAFKA_BROKERS="a:1,b": must be a comma-separated list/.test(err.message) &&
      /API_PORT="99999"/.test(err.message),
  );
});

test('the schema registry: the local stack by default, credentials in their own variables, both or neither', () => {
  assert.equal(loadEnv({}).SCHEMA_REGISTRY_URL, 'http://127.0.0.1:8081/apis/ccompat/v7');
  const withAuth = loadEnv({ SCHEMA_REGISTRY_URL: 'https://registry.example.com/apis/ccompat/v7', SCHEMA_REGISTRY_USERNAME: 'u', SCHEMA_REGISTRY_PASSWORD: 'p' });
  assert.equal(withAuth.SCHEMA_REGISTRY_USERNAME, 'u');
  assert.throws(() => loadEnv({ SCHEMA_REGISTRY_URL: 'registry:8081' }), /SCHEMA_REGISTRY_URL="registry:8081": must be an http:\/\/ or https:\/\/ URL/);
  assert.throws(() => loadEnv({ SCHEMA_REGISTRY_URL: '//registry' }), /SCHEMA_REGISTRY_URL="\/\/registry": must be a URL/);
  assert.throws(() => loadEnv({ SCHEMA_REGISTRY_URL: 'ftp://registry/x' }), /SCHEMA_REGISTRY_URL="ftp:\/\/registry\/x": must be an http:\/\/ or https:\/\/ URL/);
  assert.throws(
    () => loadEnv({ SCHEMA_REGISTRY_URL: 'https://me:secret@registry.example.com' }),
    /SCHEMA_REGISTRY_URL=".*": must not hold credentials: set SCHEMA_REGISTRY_USERNAME and SCHEMA_REGISTRY_PASSWORD/,
  );
  assert.throws(
    () => loadEnv({ SCHEMA_REGISTRY_USERNAME: 'u' }),
    (err: Error) => /SCHEMA_REGISTRY_PASSWORD=<hidden>: must be set too/.test(err.message) && !err.message.includes('secret'),
  );
});
