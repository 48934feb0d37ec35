import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isTemporalUnavailable, isTransientPgError } from '../../connections/untilReachable';
import { checkDependencies, reportDown, reportUp } from '../../observability/dependencies';
import { registry } from '../../observability/metrics';

const err = (code: string | undefined, message = 'x') => Object.assign(new Error(message), code === undefined ? {} : { code });

test('a Postgres that is away is waited for; a mistake is not', () => {
  for (const e of [err('ECONNREFUSED'), err('ECONNRESET'), err('57P01'), err('57P03'), err('08006'), err(undefined, 'Connection terminated unexpectedly')]) {
    assert.equal(isTransientPgError(e), true, String((e as { code?: string }).code ?? e.message));
  }
  for (const e of [err('28P01', 'password authentication failed'), err('3D000', 'database "x" does not exist'), err('42P01'), err(undefined, 'syntax')]) {
    assert.equal(isTransientPgError(e), false, String((e as { code?: string }).code ?? e.message));
  }
  assert.equal(isTransientPgError(new AggregateError([err('ECONNREFUSED')])), true, 'a dual-stack connect failure');
});

test('a Temporal call is retried when the server is unavailable (gRPC 14 or 4, possibly as the cause)', () => {
  assert.equal(isTemporalUnavailable(Object.assign(new Error('svc'), { cause: { code: 14 } })), true);
  assert.equal(isTemporalUnavailable({ code: 4 }), true);
  assert.equal(isTemporalUnavailable(Object.assign(new Error('not found'), { code: 5 })), false);
});

test('the dependency gauge follows reports and probes; /readyz-style checks name what failed', async () => {
  const gauge = async () => (await registry.getSingleMetric('scheduled_job_dependency_up')!.get()).values;
  reportDown('postgres', err('ECONNREFUSED'));
  reportDown('postgres', err('ECONNREFUSED')); // the same outage: counted, not logged again
  assert.deepEqual((await gauge()).find((v) => v.labels['dependency'] === 'postgres')?.value, 0);
  reportUp('postgres');
  assert.deepEqual((await gauge()).find((v) => v.labels['dependency'] === 'postgres')?.value, 1);
  const results = await checkDependencies({ postgres: async () => 1, temporal: () => Promise.reject(err('ECONNREFUSED', 'connect ECONNREFUSED 127.0.0.1:7233')) });
  assert.deepEqual(results, { postgres: undefined, temporal: 'connect ECONNREFUSED 127.0.0.1:7233' });
  assert.deepEqual((await gauge()).find((v) => v.labels['dependency'] === 'temporal')?.value, 0);
  const slow = await checkDependencies({ postgres: () => new Promise(() => undefined), temporal: async () => 1 }, 50);
  assert.equal(slow.postgres, 'no answer in 50 ms');
});
