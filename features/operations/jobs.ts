import { z } from 'zod';
import { KAFKA_TOPIC, LOWER_SNAKE_NAME } from '../../config/definitionFields';
import { defineJob } from '../../jobs/definition';

// Operations jobs: run like any job (CLI, HTTP, Airflow, `temporal workflow start`), logged in job_runs.

const keepDays = z.number().int().min(1, 'must be at least 1 day').max(36_500);

export const retention = defineJob({
  name: 'retention',
  description:
    'Deletes old rows in batches: finished job_runs (never the newest succeeded run of a workflow ID), ingest_rejects, kafka_dead_letters, stale ingest_objects checkpoints and schedule_ticks.',
  handler: 'retention',
  args: z.object({
    jobRunsKeepDays: keepDays,
    ingestRejectsKeepDays: keepDays,
    deadLettersKeepDays: keepDays,
    ingestObjectsKeepDays: keepDays,
    scheduleTicksKeepDays: keepDays,
    /** Rows per DELETE: each batch is its own short statement. */
    batchSize: z.number().int().min(1).max(100_000),
  }),
  defaultArgs: { jobRunsKeepDays: 90, ingestRejectsKeepDays: 30, deadLettersKeepDays: 30, ingestObjectsKeepDays: 14, scheduleTicksKeepDays: 90, batchSize: 5000 },
  retry: { retries: 2, initialInterval: '1m' },
  timeouts: { activityStartToClose: '2h', activityHeartbeat: '1m' },
});

const reasonPrefix = z.string().min(1).max(300);
const replayBatch = z.number().int().min(1).max(10_000);

export const replayDeadLetters = defineJob({
  name: 'replay_dead_letters',
  description:
    "Re-decodes one consumer's dead letters (kafka_dead_letters) with its current schema and decoder: messages that now decode are written by its batch writer (idempotently) and leave the table in the same transaction. Optional `topic`, `reason` (a prefix), and `reasonClass` (a group of `scheduled-job consumers dead-letters`: the reason with its numbers as <n>).",
  handler: 'replay_dead_letters',
  args: z.object({
    consumer: z.string().regex(LOWER_SNAKE_NAME, 'must be a consumer name (lower_snake_case)'),
    topic: z.string().regex(KAFKA_TOPIC, 'must be a Kafka topic name').optional(),
    reason: reasonPrefix.optional(),
    reasonClass: reasonPrefix.optional(),
    batchSize: replayBatch,
  }),
  defaultArgs: { batchSize: 1000 },
  retry: { retries: 2, initialInterval: '30s', nonRetryable: ['UnknownConsumer', 'UnknownHandler'] },
  timeouts: { activityStartToClose: '2h', activityHeartbeat: '1m' },
  lockKey: ['consumer'],
});
