import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { z } from 'zod';
import { workflowIdFor } from '../../client/workflowId';
import { builtinJobs, JOB_HANDLER_NAMES } from '../../app/jobs';
import { defineJob, type JobDefinition } from '../../jobs/definition';
import { activityPolicyOf, InvalidArgumentsError, JobDefinitionError, JobRegistry, resolveJob, UnknownJobError } from '../../jobs/registry';

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
    ['a partition that is not an argument', { lockKey: ['day'], partition: { arg: 'hour', kind: 'day' } }, /job demo_job: partition\.arg: hour is not an argument/],
    ['a partition outside the lock key', { partition: { arg: 'day', kind: 'day' } }, /job demo_job: partition\.arg: day must be in lockKey/],
    ['a partition of an unknown kind', { lockKey: ['day'], partition: { arg: 'day', kind: 'week' as never } }, /job demo_job: partition\.kind/],
    [
      'a partition whose schema refuses the kind',
      { args: z.object({ day: z.string().regex(/^\d{8}$/) }), lockKey: ['day'], partition: { arg: 'day', kind: 'day' } },
      /job demo_job: partition: the schema of args\.day refuses "2024-05-01", a day/,
    ],
    ['an optional partition', { args: z.object({ day: z.string().optional() }), lockKey: ['day'], partition: { arg: 'day', kind: 'day' } }, /job demo_job: partition: args\.day must be required/],
    ['an invalid cron', { schedule: { cron: '61 11 * * *' } }, /job demo_job: schedule\.cron: "61 11 \* \* \*" is not a cron expression/],
    ['a cron of six fields', { schedule: { cron: '0 0 11 * * *' } }, /job demo_job: schedule\.cron: must be five fields/],
    ['both cron and every', { schedule: { cron: '@daily', every: '1h' } }, /job demo_job: schedule: declare exactly one of cron and every/],
    ['an interval under a second', { schedule: { every: '500ms' } }, /job demo_job: schedule\.every: must be a duration of at least 1s/],
    ['an unknown time zone', { schedule: { cron: '0 11 * * *', timeZone: 'Mars/Olympus' } }, /job demo_job: schedule\.timeZone: "Mars\/Olympus" is not an IANA time zone/],
    ['an unknown overlap rule', { schedule: { every: '1h', overlap: 'allow' as never } }, /job demo_job: schedule\.overlap/],
    ['a partition offset without a partition', { schedule: { every: '1h', partitionOffset: -1 } }, /job demo_job: schedule\.partitionOffset: the job declares no partition/],
    [
      'a partition offset that is not whole',
      { lockKey: ['day'], partition: { arg: 'day', kind: 'day' }, schedule: { every: '1h', partitionOffset: 0.5 } },
      /job demo_job: schedule\.partitionOffset: must be a whole number/,
    ],
  ];
  for (const [what, over, message] of invalid) {
    test(`rejects ${what}, naming the job and the field`, () => {
      assert.throws(() => new JobRegistry([base(over)], JOB_HANDLER_NAMES), (err: Error) => err instanceof JobDefinitionError && message.test(err.message));
    });
  }

  test('accepts a partitioned job with a schedule, and resolves its partition', () => {
    const reg = new JobRegistry(
      [base({ lockKey: ['day'], partition: { arg: 'day', kind: 'day' }, schedule: { cron: '0 11 * * *', timeZone: 'Europe/Paris', overlap: 'buffer_one', catchupWindow: '1h' } })],
      JOB_HANDLER_NAMES,
    );
    assert.deepEqual(resolveJob(reg, 'demo_job', { day: '2024-05-01' }).partition, { kind: 'day', key: '2024-05-01' });
    const whole = new JobRegistry([base({})], JOB_HANDLER_NAMES);
    assert.equal(resolveJob(whole, 'demo_job', { day: '2024-05-01' }).partition, undefined, 'no declaration, no partition');
  });

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
