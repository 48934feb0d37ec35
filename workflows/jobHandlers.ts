import { exampleFlaky, exampleSteps } from './handlers/example';
import { ingestNotificationViews } from './handlers/ingestNotificationViews';
import { replayDeadLetters, replayIngestRejects, retention } from './handlers/operations';
import type { JobHandler } from './jobHandler';

/** Every job handler the worker can run, by the name job definitions refer to. */
export const jobHandlers: Record<string, JobHandler | undefined> = {
  example_steps: exampleSteps,
  example_flaky: exampleFlaky,
  ingest_notification_views: ingestNotificationViews,
  retention,
  replay_ingest_rejects: replayIngestRejects,
  replay_dead_letters: replayDeadLetters,
};
