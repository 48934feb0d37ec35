import { z } from 'zod';
import { dayArg } from '../../jobs/args';
import { defineJob } from '../../jobs/definition';

export const ingestNotificationViews = defineJob({
  name: 'ingest_notification_views',
  description:
    'Loads one day of notification-view logs from s3://$S3_BUCKET/notification-logs/day=YYYY-MM-DD/ into notification_views, quarantining bad lines in ingest_rejects.',
  handler: 'ingest_notification_views',
  args: z.object({
    day: dayArg,
    /** Objects ingested at once in each batch. */
    parallelism: z.number().int().min(1).max(32).optional(),
    /** Objects per child workflow. */
    batchSize: z.number().int().min(1).max(1000),
  }),
  defaultArgs: { batchSize: 100 },
  retry: { retries: 2, initialInterval: '30s', nonRetryable: ['PlanMissing'] },
  activityRetry: { maximumAttempts: 10, initialInterval: '1s', maximumInterval: '1m' },
  timeouts: { activityStartToClose: '4h', activityHeartbeat: '30s' },
  lockKey: ['day'],
  partition: { arg: 'day', kind: 'day' },
  // The talk's `default_arguments: [~T[11:00:00]]`: every day at 11:00 UTC, for the day before.
  schedule: { cron: '0 11 * * *', timeZone: 'UTC', partitionOffset: -1 },
  keyMetrics: { rows: 'rowsWritten', rejects: 'rejected' },
});

export const replayIngestRejects = defineJob({
  name: 'replay_ingest_rejects',
  description:
    "Re-parses one day's quarantined lines (ingest_rejects) with the current parser: lines that now pass are written to notification_views (idempotently) and leave quarantine in the same transaction. Optional `reason`: only rejects whose reason starts with it.",
  handler: 'replay_ingest_rejects',
  args: z.object({
    day: dayArg,
    reason: z.string().min(1).max(300).optional(),
    batchSize: z.number().int().min(1).max(10_000),
  }),
  defaultArgs: { batchSize: 1000 },
  retry: { retries: 2, initialInterval: '30s' },
  timeouts: { activityStartToClose: '2h', activityHeartbeat: '1m' },
  // the same day as its ingest's lock value, but a lock of its own: a replay may run beside the day's re-ingest
  lockKey: ['day'],
  partition: { arg: 'day', kind: 'day' },
  keyMetrics: { rows: 'replayed', rejects: 'stillRejected' },
});
