import type { JobDefinition } from './definition';
import { exampleFlaky, exampleSteps } from './examples';
import { ingestNotificationViews } from './ingestNotificationViews';
import { replayDeadLetters, replayIngestRejects, retention } from './operations';

/** The jobs this service ships: the talk's job_providers. */
export const builtinJobs: JobDefinition[] = [
  exampleSteps,
  exampleFlaky,
  ingestNotificationViews,
  retention,
  replayIngestRejects,
  replayDeadLetters,
];
