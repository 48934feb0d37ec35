import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { z } from 'zod';
import { workflowIdFor } from '../../client/workflowId';
import { JOB_HANDLER_NAMES } from '../../app/jobHandlerNames';
import { builtinJobs } from '../../app/jobs';
import { defineJob, type JobDefinition } from '../../jobs/definition';
import { activityPolicyOf, InvalidArgumentsError, JobDefinitionError, JobRegistry, UnknownJobError } from '../../jobs/registry';

const base = (over: Partial<JobDefinition>): JobDefinition =>
  defineJob({
    name: 'demo_job',
    description: 'a job',
    handler: 'example_steps',
    args: z.object({ day: z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'must be YYYY-MM-DD'), limit: z.number().optional() }),
    retry: { retries: 2 },
    ...over,
  } as JobDefinition);

describe('job definitions', () => {
  test('the shipped jobs are valid', () => {
    assert.ok(new JobRegistry(builtinJobs, JOB_HANDLER_NAMES).list().length >= 2);
  });

  const invalid: [string, Partial<JobDefinition>, RegExp][] = [
    ['bad name', { name: 'Bad-Name' }, /job "?Bad-Name"?: name: must be lower_snake_case/],
    ['unknown handler', { handler: 'nope' }, /job demo_job: handler: must be one of the workflow handlers/],
    ['negative retries', { retry: { retries: -1 } }, /job demo_job: retry\.retries/],
    ['bad duration', { retry: { retries: 1, initialInterval: 'soon' as never } }, /job demo_job: retry\.initialInterval: must be a duration/],
    ['lock key not an argument', { lockKey: ['hour'] }, /job demo_job: lockKey: hour is not an argument/],
    ['default that fails the schema', { defaultArgs: { day: 'tomorrow' } }, /job demo_job: defaultArgs\.day: must be YYYY-MM-DD/],
    ['no description', { description: '' }, /job demo_job: description/],
  ];
  for (const [what, over, message] of invalid) {
    test(`rejects ${what}, naming the job and the field`, () => {
      assert.throws(() => new JobRegistry([base(over)], JOB_HANDLER_NAMES), (err: Error) => err instanceof JobDefinitionError && message.test(err.message));
    });
  }

  test('rejects a name defined twice', () => {
    assert.throws(() => new JobRegistry([base({}), base({})], JOB_HANDLER_NAMES), /demo_job: name: defined twice/);
  });

  test('merges defaults under given args and names each invalid field', () => {
    const reg = new JobRegistry([base({ defaultArgs: { limit: 5 } })], JOB_HANDLER_NAMES);
    assert.deepEqual(reg.resolveArgs('demo_job', { day: '2024-05-01' }), { day: '2024-05-01', limit: 5 });
    assert.deepEqual(reg.resolveArgs('demo_job', { day: '2024-05-01', limit: 7 }), { day: '2024-05-01', limit: 7 });
    assert.throws(
      () => reg.resolveArgs('demo_job', { day: 'x', limit: 'y' }),
      (err: Error) => err instanceof InvalidArgumentsError && /args\.day: must be YYYY-MM-DD/.test(err.message) && /args\.limit/.test(err.message),
    );
    assert.throws(() => reg.resolveArgs('demo_job', [1]), /args: must be a JSON object/);
    assert.throws(() => reg.get('other'), UnknownJobError);
  });

  test('activity policy takes declared values over defaults', () => {
    const p = activityPolicyOf(base({ activityRetry: { maximumAttempts: 3, initialInterval: '2s' }, timeouts: { activityHeartbeat: '5s' } }));
    assert.equal(p.maximumAttempts, 3);
    assert.equal(p.initialIntervalMs, 2000);
    assert.equal(p.heartbeatTimeoutMs, 5000);
  });
});

describe('workflow-ID convention', () => {
  test('job name alone without a lock key', () => {
    assert.equal(workflowIdFor('example_steps', undefined, { steps: 3 }), 'example_steps');
  });
  test('lock-key values in declared order', () => {
    assert.equal(workflowIdFor('ingest_notification_views', ['day'], { day: '2024-05-01' }), 'ingest_notification_views/2024-05-01');
    assert.equal(workflowIdFor('j', ['b', 'a'], { a: 1, b: 'x' }), 'j/x/1');
  });
  test('a missing lock-key value is an error, not a wider lock', () => {
    assert.throws(() => workflowIdFor('j', ['day'], {}), /lock key day of j has no value/);
  });
});
