import type { JobDefinition } from '../jobs/definition';
import { exampleFlaky, exampleSteps } from '../features/examples/jobs';
import { ingestNotificationViews, replayIngestRejects } from '../features/notificationViews/jobs';
import { replayDeadLetters, retention } from '../features/operations/jobs';

/** The jobs this service ships, with their types: `app/jobHandlers.ts` is checked against each one's arguments. */
export const shippedJobs = [exampleSteps, exampleFlaky, ingestNotificationViews, retention, replayIngestRejects, replayDeadLetters] as const;

/** The jobs a worker runs unless JOBS_MODULE names others (spread this list into it to keep them). */
export const builtinJobs: JobDefinition[] = [...shippedJobs];

/** The names of the handlers the workflow bundle registers (`app/jobHandlers.ts`), which any definition may name. */
export type JobHandlerName = (typeof shippedJobs)[number]['handler'];

/**
 * The same names at run time, for the processes that validate definitions without loading workflow code (the API,
 * the CLI): a definition of JOBS_MODULE must name one of them.
 */
export const JOB_HANDLER_NAMES: readonly JobHandlerName[] = [...new Set(shippedJobs.map((j) => j.handler))];
