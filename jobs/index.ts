import type { JobDefinition } from './definition';
import { exampleFlaky, exampleSteps } from './examples';
import { ingestNotificationViews } from './ingestNotificationViews';
import { replayDeadLetters, replayIngestRejects, retention } from './operations';

/** The jobs this service ships; JOBS_MODULE replaces the list (spread this one into it to keep them). */
export const builtinJobs: JobDefinition[] = [
  exampleSteps,
  exampleFlaky,
  ingestNotificationViews,
  retention,
  replayIngestRejects,
  replayDeadLetters,
];
