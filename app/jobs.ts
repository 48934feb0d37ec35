import type { JobDefinition } from '../jobs/definition';
import { exampleFlaky, exampleSteps } from '../features/examples/jobs';
import { ingestNotificationViews, replayIngestRejects } from '../features/notificationViews/jobs';
import { replayDeadLetters, retention } from '../features/operations/jobs';

/** The jobs this service ships; JOBS_MODULE replaces the list (spread this one into it to keep them). */
export const builtinJobs: JobDefinition[] = [
  exampleSteps,
  exampleFlaky,
  ingestNotificationViews,
  retention,
  replayIngestRejects,
  replayDeadLetters,
];
