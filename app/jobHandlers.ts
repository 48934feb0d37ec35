import { exampleFlaky, exampleSteps } from '../features/examples/workflows';
import { ingestNotificationViews, replayIngestRejects } from '../features/notificationViews/workflows';
import { replayDeadLetters, retention } from '../features/operations/workflows';
import type { JobHandler } from '../workflows/jobHandler';
import type { JobHandlerName } from './jobHandlerNames';

/** Every job handler the worker can run, by the name job definitions refer to (the type keeps both lists equal). */
export const jobHandlers: Record<JobHandlerName, JobHandler<never>> = {
  example_steps: exampleSteps,
  example_flaky: exampleFlaky,
  ingest_notification_views: ingestNotificationViews,
  retention,
  replay_ingest_rejects: replayIngestRejects,
  replay_dead_letters: replayDeadLetters,
};
