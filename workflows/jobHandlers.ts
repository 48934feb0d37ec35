import { exampleFlaky, exampleSteps } from './handlers/example';
import { ingestNotificationViews } from './handlers/ingestNotificationViews';
import { replayDeadLetters, replayIngestRejects, retention } from './handlers/operations';
import type { JobHandler } from './jobHandler';
import type { JobHandlerName } from './jobHandlerNames';

/** Every job handler the worker can run, by the name job definitions refer to (the type keeps both lists equal). */
export const jobHandlers: Record<JobHandlerName, JobHandler> = {
  example_steps: exampleSteps,
  example_flaky: exampleFlaky,
  ingest_notification_views: ingestNotificationViews,
  retention,
  replay_ingest_rejects: replayIngestRejects,
  replay_dead_letters: replayDeadLetters,
};
