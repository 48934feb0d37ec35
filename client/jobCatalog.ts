import type { Client } from '@temporalio/client';
import { jobCatalogOf } from '../jobs/catalog';
import type { JobRegistry } from '../jobs/registry';
import type { Logger } from '../observability/logger';
import type { jobCatalog } from '../workflows/catalog';
import { catalogWorkflowId, PUBLISH_CATALOG_SIGNAL, type JobCatalog } from '../workflows/catalogTypes';
import { keepTrying } from './keepTrying';

/** Publishes this worker's job definitions to its task queue's catalog, starting the catalog if none runs. */
export async function publishJobCatalog(client: Client, registry: JobRegistry, taskQueue: string): Promise<JobCatalog> {
  const catalog = jobCatalogOf(registry, taskQueue);
  // By type name: the signal definitions live in workflow code, which client processes never load.
  await client.workflow.signalWithStart<typeof jobCatalog, [JobCatalog]>('jobCatalog', {
    workflowId: catalogWorkflowId(taskQueue),
    taskQueue,
    args: [{ taskQueue }],
    signal: PUBLISH_CATALOG_SIGNAL,
    signalArgs: [catalog],
  });
  return catalog;
}

/** A live worker publishes this often, so the catalog of a queue whose workers are all gone can retire itself. */
const REPUBLISH_EVERY_MS = 60 * 60_000;

/** The worker's call: at start-up and every hour, retried in the background, never fatal. Returns a stop function. */
export function keepPublishingJobCatalog(client: Client, registry: JobRegistry, taskQueue: string, log: Logger): () => void {
  const publish = () =>
    keepTrying(
      'publish the job catalog',
      async () => {
        const c = await publishJobCatalog(client, registry, taskQueue);
        log.info({ workflowId: catalogWorkflowId(taskQueue), jobs: c.jobs.length }, 'job catalog published');
      },
      log,
    );
  let stopCurrent = publish();
  const timer = setInterval(() => {
    stopCurrent();
    stopCurrent = publish();
  }, REPUBLISH_EVERY_MS);
  timer.unref();
  return () => {
    clearInterval(timer);
    stopCurrent();
  };
}
