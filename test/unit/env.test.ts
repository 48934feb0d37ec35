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
