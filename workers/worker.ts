import { makeWorkflowExporter } from '@temporalio/interceptors-opentelemetry';
import { NativeConnection, Worker } from '@temporalio/worker';
import { featureActivities } from '../app/activities';
import { consumerHandlers } from '../app/consumerHandlers';
import { builtinConsumers } from '../app/consumers';
import { createConsumerControlActivities } from '../activities/consumerControl';
import { createKafkaConsumerActivities } from '../activities/kafkaConsumer';
import { createKafkaRangeIngestActivities } from '../activities/kafkaRangeIngest';
import { KafkaRangeReader } from '../activities/kafkaRangeReader';
import { createAlertActivities } from '../activities/alerts';
import { createBackfillActivities } from '../activities/backfill';
import { createLockActivities } from '../activities/locks';
import { createPermitActivities } from '../activities/permits';
import { createRunLogActivities } from '../activities/runLog';
import { createScheduleTickActivities } from '../activities/scheduleTicks';
import { keepPublishingJobCatalog } from '../client/jobCatalog';
import { keepTrying } from '../client/keepTrying';
import { fillPartitionKeys } from '../db/jobRuns';
import { temporalConnectionOptions } from '../client/temporalConnection';
import { createS3Client } from '../connections/s3';
import { schemaRegistryFromEnv } from '../connections/schemaRegistry';
import { loadConsumerRegistry } from '../consumers/load';
import { keepEnsuringConsumers } from '../consumers/start';
import { openIngestDatabase } from '../db/ingestDataSource';
import { isDependencyOutage, untilReachable } from '../connections/untilReachable';
import { watchDependencies } from '../observability/dependencies';
import { activityInterceptors } from '../observability/activityInterceptors';
import { logger } from '../observability/logger';
import { startWorkerMetrics } from '../observability/workerMetrics';
import { keepWatchingAlerts } from './alertWatch';
import { openRuntime } from './runtime';
import { reconcileStale } from './runReconciler';
import { keepSyncingSchedules } from './scheduleSync';
import { prepareWorkflowBundle } from './workflowBundle';

const RECONCILE_EVERY_MS = 3_000;
/** Connections of each pool (the owner's and the ingest role's). */
const POOL_SIZE = 20;

/** `scheduled-job worker`: runs every workflow and activity; any number of these may share the task queue. */
export async function runWorker(): Promise<void> {
  const rt = await openRuntime({ poolSize: POOL_SIZE, service: 'scheduled-job-worker' });
  // A webhook whose URL or secret variable is missing stops the worker here, naming the job and the field.
  rt.jobs.requireAlertEnvironment(process.env);
  // Before the NativeConnection: it installs the Temporal Runtime, whose metrics exporter is fixed at install.
  const metrics =
    rt.env.WORKER_METRICS_PORT === undefined
      ? undefined
      : await startWorkerMetrics({ host: rt.env.WORKER_METRICS_HOST, port: rt.env.WORKER_METRICS_PORT });
  const consumers = loadConsumerRegistry(rt.env.CONSUMERS_MODULE, { consumers: builtinConsumers, handlers: consumerHandlers }, schemaRegistryFromEnv(rt.env));
  // The ingest's writes go through the least-privilege role when INGEST_DATABASE_URL is set (README, Least privilege).
  const ingest = await openIngestDatabase(rt.env, rt.ds, POOL_SIZE);
  const shuttingDown = new AbortController();
  const connection = await untilReachable('temporal', rt.env.TEMPORAL_ADDRESS, () =>
    NativeConnection.connect(temporalConnectionOptions(rt.env)),
  );
  // The gauge scheduled_job_dependency_up and one log line per outage, even while no activity touches a dependency.
  const stopWatching = watchDependencies(rt.probes, { postgres: 2_000, temporal: 500 });
  const workflowBundle = await prepareWorkflowBundle();
  // One Kafka client for every range the ingest workflows hand to this worker.
  const rangeReader = new KafkaRangeReader(rt.env);
  const activities = {
    ...createRunLogActivities(rt.ds, rt.jobs),
    ...createScheduleTickActivities(rt.ds, rt.jobs),
    ...createLockActivities(rt.temporal, rt.client),
    ...createPermitActivities({ ds: rt.ds, temporal: rt.temporal, jobs: rt.jobs, client: rt.client, shutdownSignal: shuttingDown.signal }),
    ...createAlertActivities(rt.ds, rt.jobs),
    ...createBackfillActivities(rt.ds, rt.jobs),
    ...createKafkaConsumerActivities({
      ds: ingest.ds,
      consumers,
      env: rt.env,
      temporal: rt.temporal,
      taskQueue: rt.env.TEMPORAL_TASK_QUEUE,
      shutdownSignal: shuttingDown.signal,
    }),
    ...createKafkaRangeIngestActivities({ ds: ingest.ds, consumers, reader: rangeReader, temporal: rt.temporal }),
    ...createConsumerControlActivities(ingest.ds),
    ...featureActivities({ ds: rt.ds, ingestDs: ingest.ds, s3: createS3Client(rt.env), bucket: rt.env.S3_BUCKET, poolSize: POOL_SIZE, consumers }),
  };
  const worker = await untilReachable('temporal', rt.env.TEMPORAL_ADDRESS, () => Worker.create({
    connection,
    namespace: rt.env.TEMPORAL_NAMESPACE,
    taskQueue: rt.env.TEMPORAL_TASK_QUEUE,
    workflowBundle,
    activities,
    shutdownGraceTime: '20s',
    // The workflow interceptors are in the bundle, and their spans leave the sandbox through this sink.
    interceptors: { activity: activityInterceptors },
    sinks: { exporter: makeWorkflowExporter(rt.tracing.spanProcessor, rt.tracing.resource) },
  }));

  // Runs that Temporal ended without our code (terminate, timeout, deleted) would otherwise stay `running` forever.
  const reconciler = setInterval(() => {
    reconcileStale(rt.ds, rt.temporal, RECONCILE_EVERY_MS)
      .then((n) => n > 0 && logger.info({ closed: n }, 'reconciled runs that Temporal had ended'))
      .catch((err: unknown) => isDependencyOutage(err) || logger.warn({ err }, 'reconcile failed; will retry'));
  }, RECONCILE_EVERY_MS);

  // Each configured consumer's long-running workflow (idempotent; retried in the background, never fatal).
  const stopEnsuring = keepEnsuringConsumers(rt.temporal, consumers, rt.env.TEMPORAL_TASK_QUEUE, logger);
  // Starters with only a Temporal client (the Airflow operator) read lock keys and defaults from here.
  const stopPublishing = keepPublishingJobCatalog(rt.temporal, rt.jobs, rt.env.TEMPORAL_TASK_QUEUE, logger);
  // Each declared schedule as the Temporal Schedule schedule/<job>; the ones we made for jobs that dropped theirs paused.
  const stopSyncing = keepSyncingSchedules(rt.temporal, rt.jobs, rt.env.TEMPORAL_TASK_QUEUE, logger);
  // Each freshness deadline's watch (a durable timer), and alerts for schedule ticks the server missed.
  const stopWatchingAlerts = keepWatchingAlerts(rt.temporal, rt.ds, rt.jobs, rt.env.TEMPORAL_TASK_QUEUE, logger);
  // Runs logged before their job declared its partition (or before the column) get it, for the days view and backfills.
  const stopFilling = keepTrying(
    'fill in the partitions of earlier runs',
    async () => {
      for (const def of rt.jobs.list()) {
        if (!def.partition) continue;
        const n = await fillPartitionKeys(rt.ds, def.name, def.partition.arg);
        if (n > 0) logger.info({ job: def.name, runs: n }, 'partitions of earlier runs filled in');
      }
    },
    logger,
  );

  const stop = (signal: string) => {
    logger.info({ signal }, 'shutting down: finishing in-flight tasks');
    shuttingDown.abort(); // Kafka consumers hand over at once instead of after the grace time
    worker.shutdown();
  };
  process.once('SIGTERM', () => stop('SIGTERM'));
  process.once('SIGINT', () => stop('SIGINT'));

  logger.info(
    {
      taskQueue: rt.env.TEMPORAL_TASK_QUEUE,
      jobs: rt.jobs.list().map((j) => j.name),
      consumers: consumers.list().map((c) => c.name),
      metricsUrl: metrics?.url,
      tracing: rt.tracing.enabled,
    },
    'worker started',
  );
  try {
    await worker.run();
  } finally {
    clearInterval(reconciler);
    await rangeReader.close();
    stopWatching();
    stopEnsuring();
    stopPublishing();
    stopSyncing();
    stopWatchingAlerts();
    stopFilling();
    await connection.close();
    await ingest.close();
    await metrics?.close();
    await rt.close();
    logger.info('worker stopped');
  }
}
