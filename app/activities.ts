import type { S3Client } from '@aws-sdk/client-s3';
import type { DataSource } from 'typeorm';
import type { ConsumerRegistry } from '../consumers/registry';
import { createExampleActivities } from '../features/examples/activities';
import { createNotificationIngestActivities } from '../features/notificationViews/activities';
import { createRejectReplayActivities } from '../features/notificationViews/replayRejects';
import { createDeadLetterReplayActivities } from '../features/operations/deadLetterReplay';
import { createRetentionActivities } from '../features/operations/retention';

/** What the features' activities need from the worker that hosts them. */
export interface FeatureActivityDeps {
  /** The owner's pool: operations on the run log and checkpoints. */
  ds: DataSource;
  /** The ingest role's pool (the owner's when INGEST_DATABASE_URL is unset): the features' writes. */
  ingestDs: DataSource;
  s3: S3Client;
  bucket: string;
  poolSize: number;
  consumers: ConsumerRegistry;
}

/** Every activity the shipped jobs' handlers call, beside the framework's own. */
export function featureActivities(d: FeatureActivityDeps) {
  return {
    ...createExampleActivities(),
    ...createNotificationIngestActivities({ ds: d.ingestDs, s3: d.s3, bucket: d.bucket, poolSize: d.poolSize }),
    ...createRejectReplayActivities(d.ingestDs),
    ...createDeadLetterReplayActivities({ ds: d.ingestDs, consumers: d.consumers }),
    ...createRetentionActivities(d.ds),
  };
}
