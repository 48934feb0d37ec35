import { z } from 'zod';
import { builtinJobs } from '../../app/jobs';
import { dayArg } from '../../jobs/args';
import { defineJob } from '../../jobs/definition';
import { ingestNotificationViews } from '../../features/notificationViews/jobs';

// The shipped jobs plus variants with other retry policies and lock keys, loaded by test workers via JOBS_MODULE.
export const jobs = [
  ...builtinJobs,
  defineJob({
    name: 'test_flaky_retries_1',
    description: 'example_flaky with one whole-job retry',
    handler: 'example_flaky',
    args: z.object({ failAttempts: z.number().int().min(0), tag: z.string().min(1) }),
    retry: { retries: 1, initialInterval: '200ms', backoffCoefficient: 1 },
    lockKey: ['tag'],
  }),
  defineJob({
    name: 'test_steps',
    description: 'example_steps with a per-test lock key and a short heartbeat timeout',
    handler: 'example_steps',
    args: z.object({ steps: z.number().int().min(1), stepMs: z.number().int().min(0), tag: z.string().min(1) }),
    retry: { retries: 0 },
    timeouts: { activityHeartbeat: '3s', activityStartToClose: '10m' },
    activityRetry: { initialInterval: '200ms', maximumInterval: '1s' },
    lockKey: ['tag'],
  }),
  defineJob({
    name: 'test_steps_deadline',
    description: 'example_steps with a 2 s attempt timeout and one retry',
    handler: 'example_steps',
    args: z.object({ steps: z.number().int().min(1), stepMs: z.number().int().min(0), tag: z.string().min(1) }),
    retry: { retries: 1, initialInterval: '100ms' },
    timeouts: { attempt: '2s', activityHeartbeat: '3s' },
    lockKey: ['tag'],
  }),
  // Day-shaped jobs for the CLI's backfill: cheap runs keyed by day, without S3 data behind them.
  defineJob({
    name: 'test_day_steps',
    description: 'example_steps locked per day, for backfills',
    handler: 'example_steps',
    args: z.object({ day: z.string().regex(/^\d{4}-\d{2}-\d{2}$/), steps: z.number().int().min(1), stepMs: z.number().int().min(0) }),
    retry: { retries: 0 },
    timeouts: { activityHeartbeat: '5s', activityStartToClose: '10m' },
    lockKey: ['day'],
    partition: { arg: 'day', kind: 'day' },
  }),
  defineJob({
    name: 'test_day_flaky',
    description: 'example_flaky locked per day, for backfills with failing days',
    handler: 'example_flaky',
    args: z.object({ day: z.string().regex(/^\d{4}-\d{2}-\d{2}$/), failAttempts: z.number().int().min(0), tag: z.string().min(1) }),
    retry: { retries: 0 },
    lockKey: ['day'],
    partition: { arg: 'day', kind: 'day' },
  }),
  defineJob({
    ...ingestNotificationViews,
    name: 'test_ingest_fast_failover',
    description: 'ingest_notification_views with a 5 s heartbeat timeout, so kill -9 tests fail over quickly',
    timeouts: { activityStartToClose: '4h', activityHeartbeat: '5s' },
    activityRetry: { maximumAttempts: 0, initialInterval: '200ms', maximumInterval: '2s' },
    schedule: undefined, // the shipped ingest's schedule is enough; every test's workers would keep another
  }),
  // Runs per day under a concurrency limit (TEST_LIMIT, 2 unless set), declared only by the workers of the test that
  // sets TEST_LIMITED_JOB (its name), so its queue and permits are its own; the limits tests change TEST_LIMIT between
  // worker starts. Beside it, a limit per group: at most one run per source at once.
  ...(process.env['TEST_LIMITED_JOB']
    ? [
        defineJob({
          name: process.env['TEST_LIMITED_JOB'],
          description: 'example_steps per day, at most TEST_LIMIT (2) at once across the cluster',
          handler: 'example_steps',
          args: z.object({ day: dayArg, steps: z.number().int().min(1), stepMs: z.number().int().min(0) }),
          defaultArgs: { steps: 3, stepMs: 500 },
          retry: { retries: 0 },
          timeouts: { activityHeartbeat: '3s', activityStartToClose: '10m' },
          activityRetry: { initialInterval: '200ms', maximumInterval: '1s' },
          lockKey: ['day'],
          partition: { arg: 'day', kind: 'day' },
          concurrency: { limit: Number(process.env['TEST_LIMIT'] ?? 2) },
        }),
        defineJob({
          name: `${process.env['TEST_LIMITED_JOB']}_per_source`,
          description: 'example_steps per day and source, at most one at once per source',
          handler: 'example_steps',
          args: z.object({ day: dayArg, source: z.string().min(1), steps: z.number().int().min(1), stepMs: z.number().int().min(0) }),
          defaultArgs: { steps: 3, stepMs: 500 },
          retry: { retries: 0 },
          lockKey: ['source', 'day'],
          concurrency: { limit: 1, groupBy: ['source'] },
        }),
        // One at a time, failing its first attempts: a retry waits its 3 s backoff without the permit.
        defineJob({
          name: `${process.env['TEST_LIMITED_JOB']}_flaky`,
          description: 'example_flaky, one at a time, with one retry after 3 s',
          handler: 'example_flaky',
          args: z.object({ failAttempts: z.number().int().min(0), tag: z.string().min(1) }),
          retry: { retries: 1, initialInterval: '3s', backoffCoefficient: 1 },
          lockKey: ['tag'],
          concurrency: { limit: 1 },
        }),
        // One at a time, each attempt cut after 3 s (the timer starts once the run holds its permit), never retried.
        defineJob({
          name: `${process.env['TEST_LIMITED_JOB']}_deadline`,
          description: 'example_steps, one at a time, each attempt timed out after 3 s',
          handler: 'example_steps',
          args: z.object({ steps: z.number().int().min(1), stepMs: z.number().int().min(0), tag: z.string().min(1) }),
          retry: { retries: 0 },
          timeouts: { attempt: '3s', activityHeartbeat: '3s' },
          lockKey: ['tag'],
          concurrency: { limit: 1 },
        }),
      ]
    : []),
  // Alerts to the webhook in TEST_ALERT_URL (signed with TEST_ALERT_SECRET), declared only by the workers of the test
  // that sets TEST_ALERT_JOB (the prefix of their names): a job that fails after its retry, and one whose day is due by
  // TEST_ALERT_DEADLINE (HH:MM:SS UTC) of the same day.
  ...(process.env['TEST_ALERT_JOB']
    ? [
        defineJob({
          name: `${process.env['TEST_ALERT_JOB']}_fail`,
          description: 'example_flaky with one retry and a failed alert',
          handler: 'example_flaky',
          args: z.object({ failAttempts: z.number().int().min(0), tag: z.string().min(1) }),
          retry: { retries: 1, initialInterval: '200ms', backoffCoefficient: 1 },
          lockKey: ['tag'],
          alerts: { webhook: { urlEnv: 'TEST_ALERT_URL', secretEnv: 'TEST_ALERT_SECRET' }, on: ['failed'] },
        }),
        defineJob({
          name: `${process.env['TEST_ALERT_JOB']}_late`,
          description: 'example_steps per day, due by TEST_ALERT_DEADLINE UTC of the same day',
          handler: 'example_steps',
          args: z.object({ day: dayArg, steps: z.number().int().min(1), stepMs: z.number().int().min(0) }),
          defaultArgs: { steps: 1, stepMs: 100 },
          retry: { retries: 0 },
          lockKey: ['day'],
          partition: { arg: 'day', kind: 'day' },
          alerts: {
            webhook: { urlEnv: 'TEST_ALERT_URL', secretEnv: 'TEST_ALERT_SECRET' },
            expectedBy: { at: process.env['TEST_ALERT_DEADLINE'] ?? '23:59:59', timeZone: 'UTC', partitionOffset: 0 },
          },
        }),
      ]
    : []),
  // A schedule that ticks every few seconds, declared only by the workers of the test that sets TEST_TICK_JOB (its
  // name), so no other test's workers create it. Each tick runs today's day (UTC), whose run takes TEST_TICK_STEPS
  // steps of TEST_TICK_STEP_MS: a tick that comes while the day still runs meets its lock.
  ...(process.env['TEST_TICK_JOB']
    ? [
        defineJob({
          name: process.env['TEST_TICK_JOB'],
          description: 'example_steps per day on a schedule of a few seconds, for the schedule tests',
          handler: 'example_steps',
          args: z.object({ day: dayArg, steps: z.number().int().min(1), stepMs: z.number().int().min(0) }),
          defaultArgs: { steps: Number(process.env['TEST_TICK_STEPS'] ?? 4), stepMs: Number(process.env['TEST_TICK_STEP_MS'] ?? 1000) },
          retry: { retries: 0 },
          timeouts: { activityHeartbeat: '3s', activityStartToClose: '10m' },
          activityRetry: { initialInterval: '200ms', maximumInterval: '1s' },
          lockKey: ['day'],
          partition: { arg: 'day', kind: 'day' },
          schedule: {
            every: process.env['TEST_TICK_EVERY'] ?? '3s',
            partitionOffset: 0,
            overlap: process.env['TEST_TICK_OVERLAP'] === 'buffer_one' ? 'buffer_one' : 'skip',
            catchupWindow: process.env['TEST_TICK_CATCHUP'] ?? '10m',
            paused: process.env['TEST_TICK_PAUSED'] === '1',
          },
          // With TEST_TICK_ALERTS=1, a skipped tick alerts the webhook of the alerts test; with =missed, ticks the server
          // counts missed (TEST_TICK_CATCHUP: its catch-up window) alert it.
          ...(process.env['TEST_TICK_ALERTS'] === '1' || process.env['TEST_TICK_ALERTS'] === 'missed'
            ? {
                alerts: {
                  webhook: { urlEnv: 'TEST_ALERT_URL', secretEnv: 'TEST_ALERT_SECRET' },
                  on: [process.env['TEST_TICK_ALERTS'] === 'missed' ? ('tick_missed' as const) : ('tick_skipped' as const)],
                },
              }
            : {}),
        }),
      ]
    : []),
];
