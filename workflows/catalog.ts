import { allHandlersFinished, condition, continueAsNew, defineQuery, defineSignal, setHandler, workflowInfo } from '@temporalio/workflow';
import { CATALOG_QUERY, catalogWorkflowId, PUBLISH_CATALOG_SIGNAL, type JobCatalog, type JobCatalogInput } from './catalogTypes';
import { requireOwnWorkflowId } from './ownWorkflowId';

export const publishCatalogSignal = defineSignal<[JobCatalog]>(PUBLISH_CATALOG_SIGNAL);
export const catalogQuery = defineQuery<JobCatalog | null>(CATALOG_QUERY);

/** Publications per run before it continues as new: each worker adds one an hour and one per start. */
const PUBLICATIONS_PER_RUN = 500;
/** A queue no worker has published to for this long is retired (a test's, an old deployment's): the catalog ends. */
const RETIRED_AFTER = '7 days';

/**
 * The job definitions of the workers on one task queue, for starters that have only a Temporal client (the Airflow
 * operator): they query it for a job's lock key, defaults and argument schema instead of keeping a copy. Workers
 * publish on start and every hour; the last publication wins.
 */
export async function jobCatalog(input: JobCatalogInput): Promise<void> {
  requireOwnWorkflowId(`the job catalog of task queue ${input.taskQueue}`, catalogWorkflowId(input.taskQueue));
  let catalog: JobCatalog | null = input.catalog ?? null;
  let publications = 0;
  setHandler(publishCatalogSignal, (c) => {
    catalog = c;
    publications++;
  });
  setHandler(catalogQuery, () => catalog);
  const due = () => publications >= PUBLICATIONS_PER_RUN || workflowInfo().continueAsNewSuggested;
  while (!due()) {
    const seen = publications;
    if (!(await condition(() => publications > seen || due(), RETIRED_AFTER))) return;
  }
  await condition(allHandlersFinished);
  await continueAsNew<typeof jobCatalog>({ taskQueue: input.taskQueue, ...(catalog ? { catalog } : {}) });
}
