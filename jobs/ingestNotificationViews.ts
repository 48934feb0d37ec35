import { z } from 'zod';
import { dayArg } from './args';
import { defineJob } from './definition';

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
    batchSize: z.number().int().min(1).max(1000).optional(),
  }),
  retry: { retries: 2, initialInterval: '30s', nonRetryable: ['PlanMissing'] },
  activityRetry: { maximumAttempts: 10, initialInterval: '1s', maximumInterval: '1m' },
  timeouts: { activityStartToClose: '4h', activityHeartbeat: '30s' },
  lockKey: ['day'],
});
