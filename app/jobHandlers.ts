import { exampleFlaky, exampleSteps } from '../features/examples/workflows';
import { ingestNotificationViews, replayIngestRejects } from '../features/notificationViews/workflows';
import { replayDeadLetters, retention } from '../features/operations/workflows';
import type { HandlersFor } from '../jobs/definition';
import type { shippedJobs } from './jobs';

/**
 * Every job handler the worker can run, under the name the definitions give. `satisfies` checks each handler against
 * the arguments of every shipped definition that names it, and that no name is missing or extra.
 */
export const jobHandlers = {
  example_steps: exampleSteps,
  example_flaky: exampleFlaky,
  ingest_notification_views: ingestNotificationViews,
  retention,
  replay_ingest_rejects: replayIngestRejects,
  replay_dead_letters: replayDeadLetters,
} satisfies HandlersFor<typeof shippedJobs>;
