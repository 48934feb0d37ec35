import { z } from 'zod';
import { builtinJobs } from '../../app/jobs';
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
  }),
  defineJob({
    name: 'test_day_flaky',
    description: 'example_flaky locked per day, for backfills with failing days',
    handler: 'example_flaky',
    args: z.object({ day: z.string().regex(/^\d{4}-\d{2}-\d{2}$/), failAttempts: z.number().int().min(0), tag: z.string().min(1) }),
    retry: { retries: 0 },
    lockKey: ['day'],
  }),
  defineJob({
    ...ingestNotificationViews,
    name: 'test_ingest_fast_failover',
    description: 'ingest_notification_views with a 5 s heartbeat timeout, so kill -9 tests fail over quickly',
    timeouts: { activityStartToClose: '4h', activityHeartbeat: '5s' },
    activityRetry: { maximumAttempts: 0, initialInterval: '200ms', maximumInterval: '2s' },
  }),
];
