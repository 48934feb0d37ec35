import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { z } from 'zod';
import { JOB_HANDLER_NAMES } from '../../app/jobs';
import { signatureOf } from '../../activities/alerts';
import { describeJob } from '../../jobs/catalog';
import { defineJob, type JobDefinition } from '../../jobs/definition';
import { alertKindsOf, nextDeadline, webhookOf } from '../../jobs/alerts';
import { JobDefinitionError, JobRegistry, resolveJob } from '../../jobs/registry';

const base = (over: Partial<JobDefinition>): JobDefinition =>
  defineJob({
    name: 'demo_job',
    description: 'a job',
    handler: 'example_steps',
    args: z.object({ day: z.string().regex(/^\d{4}-\d{2}-\d{2}$/), source: z.string().optional() }),
    retry: { retries: 2 },
    lockKey: ['day'],
    partition: { arg: 'day', kind: 'day' },
    ...over,
  } as JobDefinition);

const HOOK = { url: 'https://hooks.example.com/services/T000/B000/XXXX' };

describe('concurrency limits and alerts in job definitions', () => {
  const invalid: [string, Partial<JobDefinition>, RegExp][] = [
    ['a limit of 0', { concurrency: { limit: 0 } }, /^job demo_job: concurrency\.limit: must be a whole number of at least 1, got 0$/],
    ['a fractional limit', { concurrency: { limit: 1.5 } }, /job demo_job: concurrency\.limit: must be a whole number of at least 1/],
    ['a limit that is not a number', { concurrency: { limit: '2' as never } }, /job demo_job: concurrency\.limit/],
    ['a group by an unknown argument', { concurrency: { limit: 2, groupBy: ['region'] } }, /job demo_job: concurrency\.groupBy: region is not an argument of the job/],
    ['an unknown limit field', { concurrency: { limit: 2, perSource: 1 } as never }, /job demo_job: concurrency\.perSource: unknown field/],
    ['a webhook that is not http(s)', { alerts: { webhook: { url: 'ftp://hooks.example.com/x' } } }, /^job demo_job: alerts\.webhook\.url: must be an http or https URL, not ftp:$/],
    ['a webhook that does not parse', { alerts: { webhook: { url: 'hooks.example.com' } } }, /job demo_job: alerts\.webhook\.url: must be an http or https URL/],
    ['no webhook', { alerts: {} as never }, /job demo_job: alerts\.webhook: required/],
    ['both url and urlEnv', { alerts: { webhook: { url: HOOK.url, urlEnv: 'HOOK' } } }, /job demo_job: alerts\.webhook: declare exactly one of url and urlEnv/],
    ['an unparseable deadline', { alerts: { webhook: HOOK, expectedBy: { at: '9am' } } }, /^job demo_job: alerts\.expectedBy\.at: must be a time of day as HH:MM or HH:MM:SS \(00:00 to 23:59:59\), got "9am"$/],
    ['a deadline past midnight', { alerts: { webhook: HOOK, expectedBy: { at: '24:00' } } }, /job demo_job: alerts\.expectedBy\.at: must be a time of day/],
    ['a deadline in an unknown zone', { alerts: { webhook: HOOK, expectedBy: { at: '09:00', timeZone: 'Mars/Olympus' } } }, /job demo_job: alerts\.expectedBy\.timeZone: "Mars\/Olympus" is not an IANA time zone/],
    ['a deadline without a partition', { partition: undefined, alerts: { webhook: HOOK, expectedBy: { at: '09:00' } } }, /job demo_job: alerts\.expectedBy: needs a job partitioned by day/],
    ['late without a deadline', { alerts: { webhook: HOOK, on: ['late'] } }, /job demo_job: alerts\.on: late needs alerts\.expectedBy/],
    ['tick alerts without a schedule', { alerts: { webhook: HOOK, on: ['tick_skipped'] } }, /job demo_job: alerts\.on: tick_skipped needs a schedule/],
    ['an unknown alert', { alerts: { webhook: HOOK, on: ['slow' as never] } }, /job demo_job: alerts\.on: "slow" is not one of failed, late, tick_skipped, tick_missed/],
  ];
  for (const [what, over, message] of invalid) {
    test(`rejects ${what}, naming the job and the field`, () => {
      assert.throws(() => new JobRegistry([base(over)], JOB_HANDLER_NAMES), (err: Error) => err instanceof JobDefinitionError && message.test(err.message));
    });
  }

  test('a refused webhook URL is never repeated in the message (it may carry a token)', () => {
    const url = 'gopher://hooks.example.com/secret-token-123';
    assert.throws(
      () => new JobRegistry([base({ alerts: { webhook: { url } } })], JOB_HANDLER_NAMES),
      (err: Error) => !err.message.includes('secret-token-123') && /alerts\.webhook\.url/.test(err.message),
    );
  });

  test('the worker refuses to start when a webhook variable is missing, naming the job and the field', () => {
    const reg = new JobRegistry([base({ alerts: { webhook: { urlEnv: 'DEMO_HOOK_URL', secretEnv: 'DEMO_HOOK_SECRET' } } })], JOB_HANDLER_NAMES);
    assert.throws(() => reg.requireAlertEnvironment({}), /^JobDefinitionError: job demo_job: alerts\.webhook\.urlEnv: the environment variable DEMO_HOOK_URL is not set$/);
    assert.throws(() => reg.requireAlertEnvironment({ DEMO_HOOK_URL: 'file:///etc/passwd' }), /job demo_job: alerts\.webhook\.urlEnv: DEMO_HOOK_URL must be an http or https URL, not file:/);
    assert.throws(() => reg.requireAlertEnvironment({ DEMO_HOOK_URL: HOOK.url }), /job demo_job: alerts\.webhook\.secretEnv: the environment variable DEMO_HOOK_SECRET is not set/);
    reg.requireAlertEnvironment({ DEMO_HOOK_URL: HOOK.url, DEMO_HOOK_SECRET: 's' });
    assert.deepEqual(webhookOf(reg.get('demo_job').alerts!, { DEMO_HOOK_URL: HOOK.url, DEMO_HOOK_SECRET: 's' }), { url: HOOK.url, secret: 's' });
  });

  test('a limited job resolves to its queue (per group with groupBy); the limit itself stays with the workers', () => {
    const reg = new JobRegistry(
      [base({ concurrency: { limit: 2 } }), base({ name: 'per_source', lockKey: ['source', 'day'], partition: undefined, concurrency: { limit: 1, groupBy: ['source'] } })],
      JOB_HANDLER_NAMES,
    );
    const job = resolveJob(reg, 'demo_job', { day: '2024-05-01' });
    assert.equal(job.concurrencyQueue, 'demo_job');
    assert.equal(resolveJob(reg, 'per_source', { day: '2024-05-01', source: 'eu' }).concurrencyQueue, 'per_source/eu');
    assert.equal(JSON.stringify(job).includes('"limit"'), false);
  });

  test('listings show the limit and the alert settings, never the webhook URL', () => {
    const d = describeJob(
      base({
        concurrency: { limit: 3, groupBy: ['source'] },
        alerts: { webhook: { url: HOOK.url, secretEnv: 'HOOK_SECRET' }, expectedBy: { at: '09:00', timeZone: 'Europe/Paris' } },
      }),
    );
    assert.deepEqual(d.concurrency, { limit: 3, groupBy: ['source'] });
    assert.deepEqual(d.alerts, { on: ['failed', 'late'], webhook: 'in the definition', signed: true, expectedBy: '09:00 Europe/Paris, for the day before' });
    assert.equal(JSON.stringify(d).includes('hooks.example.com'), false);
  });

  test('alerts go out for every kind that applies unless listed', () => {
    assert.deepEqual(alertKindsOf({ webhook: HOOK }, false), ['failed']);
    assert.deepEqual(alertKindsOf({ webhook: HOOK, expectedBy: { at: '09:00' } }, true), ['failed', 'late', 'tick_skipped', 'tick_missed']);
    assert.deepEqual(alertKindsOf({ webhook: HOOK, on: ['late'], expectedBy: { at: '09:00' } }, true), ['late']);
  });

  test('a deadline is the next moment at that time of day in its zone, for the day its offset names', () => {
    const paris = { at: '09:15:30', timeZone: 'Europe/Paris' };
    // Winter (UTC+1), then the day clocks move forward (UTC+2 from 01:00 UTC on 2024-03-31).
    assert.deepEqual(nextDeadline(paris, new Date('2024-03-30T00:00:00Z')), { at: new Date('2024-03-30T08:15:30Z'), partition: '2024-03-29' });
    assert.deepEqual(nextDeadline(paris, new Date('2024-03-30T08:15:30Z')), { at: new Date('2024-03-31T07:15:30Z'), partition: '2024-03-30' });
    assert.deepEqual(nextDeadline({ at: '23:59', partitionOffset: 0 }, new Date('2024-05-01T12:00:00Z')), {
      at: new Date('2024-05-01T23:59:00Z'),
      partition: '2024-05-01',
    });
  });

  test('the signature is the HMAC-SHA256 of the exact body', () => {
    // RFC 4231 test case 2.
    assert.equal(signatureOf('what do ya want for nothing?', 'Jefe'), 'sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843');
  });
});
