// The names job definitions may give as `handler`, without the handlers' workflow code, so that the processes that
// only validate definitions and start workflows (the API, the CLI) never load @temporalio/workflow.
export const JOB_HANDLER_NAMES = [
  'example_steps',
  'example_flaky',
  'ingest_notification_views',
  'retention',
  'replay_ingest_rejects',
  'replay_dead_letters',
] as const;

export type JobHandlerName = (typeof JOB_HANDLER_NAMES)[number];
