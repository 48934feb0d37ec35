import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import { dependenciesUp } from './dependencies';

// The series this service exports. Only `events.ts` writes them (the dependency and worker gauges aside): code
// elsewhere reports what happened, in its own terms.

/** One registry per process; the API serves it at /metrics. */
export const registry = new Registry();
collectDefaultMetrics({ register: registry, prefix: 'scheduled_job_' });

new Gauge({
  name: 'scheduled_job_dependency_up',
  help: '1 while this process reaches the dependency (postgres, temporal, schema-registry), 0 during an outage (see the log)',
  labelNames: ['dependency'] as const,
  registers: [registry],
  collect() {
    for (const [dependency, up] of dependenciesUp()) this.set({ dependency }, up ? 1 : 0);
  },
});

export const runsFinished = new Counter({
  name: 'scheduled_job_runs_finished_total',
  help: 'Job attempts that ended, by job and status',
  labelNames: ['job', 'status'] as const,
  registers: [registry],
});

export const runDuration = new Histogram({
  name: 'scheduled_job_run_duration_seconds',
  help: 'Wall time of job attempts, by job and status',
  labelNames: ['job', 'status'] as const,
  buckets: [0.1, 0.5, 1, 5, 15, 60, 300, 900, 3600, 4 * 3600],
  registers: [registry],
});

export const scheduleTicks = new Counter({
  name: 'scheduled_job_schedule_ticks_total',
  help: "Ticks of jobs' schedules, by job and outcome (started, skipped, buffered: waiting for the lock)",
  labelNames: ['job', 'outcome'] as const,
  registers: [registry],
});

export const alertDeliveries = new Counter({
  name: 'scheduled_job_alert_deliveries_total',
  help: 'Tries to deliver alerts to their webhooks, by job, event type and outcome (delivered, refused, unreachable)',
  labelNames: ['job', 'type', 'outcome'] as const,
  registers: [registry],
});

export const triggers = new Counter({
  name: 'scheduled_job_triggers_total',
  help: 'Trigger requests, by job and outcome (started, already_running, invalid)',
  labelNames: ['job', 'outcome'] as const,
  registers: [registry],
});

export const httpRequests = new Histogram({
  name: 'scheduled_job_http_request_duration_seconds',
  help: 'HTTP API request latency, by route and status code',
  labelNames: ['method', 'route', 'code'] as const,
  buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
  registers: [registry],
});

export const ingestCounters = new Counter({
  name: 'scheduled_job_ingest_lines_total',
  help: 'Notification-view ingest: lines read and their outcome (rows_written, duplicates, rejected, skipped)',
  labelNames: ['kind'] as const,
  registers: [registry],
});

export const kafkaMessages = new Counter({
  name: 'scheduled_job_kafka_messages_total',
  help: 'Kafka messages handled by a consumer, by outcome (valid, dead_letter); redeliveries after a crash count again',
  labelNames: ['consumer', 'outcome'] as const,
  registers: [registry],
});

export const kafkaSignals = new Counter({
  name: 'scheduled_job_kafka_batches_signalled_total',
  help: 'Batches a consumer signalled into its ingest workflows',
  labelNames: ['consumer'] as const,
  registers: [registry],
});

export const consumerRowsWritten = new Counter({
  name: 'scheduled_job_consumer_rows_total',
  help: 'Rows of consumer batches written, by consumer and outcome (inserted, duplicate)',
  labelNames: ['consumer', 'outcome'] as const,
  registers: [registry],
});

export const kafkaLag = new Gauge({
  name: 'scheduled_job_kafka_consumer_lag',
  help: 'Offsets not yet written, per partition: Kafka\'s end offset minus the applied offset in Postgres (the worker: at its consumer\'s last pass; the API: at the scrape)',
  labelNames: ['consumer', 'topic', 'partition'] as const,
  registers: [registry],
});

export const kafkaApplied = new Gauge({
  name: 'scheduled_job_kafka_consumer_applied',
  help: 'What a consumer has applied since it was first started, from Postgres (exactly once; survives restarts): messages, rows (new), duplicates, dead_letters, lost_offsets (deleted by Kafka retention before they were applied)',
  labelNames: ['consumer', 'kind'] as const,
  registers: [registry],
});

export const kafkaDeadLetters = new Gauge({
  name: 'scheduled_job_kafka_consumer_dead_letters',
  help: 'Dead letters of a consumer in kafka_dead_letters now (after replays and retention)',
  labelNames: ['consumer'] as const,
  registers: [registry],
});

export const kafkaConsumerState = new Gauge({
  name: 'scheduled_job_kafka_consumer_state',
  help: 'A consumer\'s state as `scheduled-job consumers` shows it: 1 for the current state (running, paused, backing_off, stale, starting, stopped), 0 for the others',
  labelNames: ['consumer', 'state'] as const,
  registers: [registry],
});

export const kafkaReportAge = new Gauge({
  name: 'scheduled_job_kafka_consumer_report_age_seconds',
  help: 'Seconds since the activity hosting a consumer last reported that it is alive (stale past 5)',
  labelNames: ['consumer'] as const,
  registers: [registry],
});

export const activityDuration = new Histogram({
  name: 'scheduled_job_activity_duration_seconds',
  help: 'Wall time of activity executions on this worker, by activity type and outcome (completed, failed, cancelled)',
  labelNames: ['activity', 'outcome'] as const,
  buckets: [0.01, 0.05, 0.25, 1, 5, 30, 120, 600, 3600],
  registers: [registry],
});
