import {
  condition,
  continueAsNew,
  defineSignal,
  ParentClosePolicy,
  proxyActivities,
  proxyLocalActivities,
  setHandler,
  startChild,
  workflowInfo,
} from '@temporalio/workflow';
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/common';
import type { AlertActivities } from '../activities/alerts';
import { LOCAL_STEP_OPTIONS } from './activityOptions';
import {
  ALERT_EVENT_TYPES,
  alertWorkflowId,
  FRESHNESS_REFRESH_SIGNAL,
  freshnessWorkflowId,
  type AlertEvent,
  type AlertKind,
  type FreshnessInput,
} from './alertTypes';
import { requireOwnWorkflowId } from './ownWorkflowId';

export const freshnessRefreshSignal = defineSignal(FRESHNESS_REFRESH_SIGNAL);

/**
 * Delivery is retried with backoff (1 s doubling to 5 min between tries) for a day at most; then the alert workflow
 * fails, which the Web UI and `alert_events` (delivered_at still empty) show.
 */
const delivery = proxyActivities<Pick<AlertActivities, 'deliverAlertEvent'>>({
  startToCloseTimeout: '30s',
  scheduleToCloseTimeout: '1 day',
  retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '5m', nonRetryableErrorTypes: ['NoWebhook'] },
});
const local = proxyLocalActivities<Pick<AlertActivities, 'nextDeadline' | 'partitionState'>>(LOCAL_STEP_OPTIONS);

/** Delivers one alert to its job's webhook; its workflow ID is the event's ID, so each event is sent by one workflow. */
export async function deliverAlert(event: AlertEvent): Promise<{ attempts: string }> {
  requireOwnWorkflowId(`the alert ${event.id}`, event.id);
  return delivery.deliverAlertEvent(event);
}

/**
 * Starts the delivery of one alert as a child that outlives this workflow (abandoned when it closes), under the
 * event's own ID, refused if it was ever started before: however often this code runs, the event is sent once.
 */
export async function sendAlert(job: string, kind: AlertKind, key: string, details: Omit<AlertEvent, 'id' | 'type' | 'job'>): Promise<void> {
  const id = alertWorkflowId(job, kind, key);
  try {
    await startChild(deliverAlert, {
      workflowId: id,
      args: [{ id, type: ALERT_EVENT_TYPES[kind], job, ...details }],
      parentClosePolicy: ParentClosePolicy.ABANDON,
      workflowIdReusePolicy: 'REJECT_DUPLICATE',
    });
  } catch (err) {
    if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
  }
}

/** About 15 history events a deadline: a month of days per run keeps each history small. */
const DEADLINES_PER_RUN = 31;

/**
 * A job's freshness deadline as a durable timer: it sleeps until the next deadline (a timer on the server, so it
 * fires while every worker is down and is handled as soon as one is back), then alerts `late` unless a run of the
 * day due has succeeded, and goes on to the next. The deadline is worked out by an activity from the workers'
 * definition; each worker start sends `refresh`, so a changed deadline is worked out again.
 */
export async function freshnessWatch(input: FreshnessInput): Promise<void> {
  requireOwnWorkflowId(`the freshness watch of ${input.job}`, freshnessWorkflowId(input.job));
  let refreshed = false;
  setHandler(freshnessRefreshSignal, () => {
    refreshed = true;
  });
  // Deadlines before the watch began are not its to judge (workflow time: deterministic).
  let checkedThrough = input.checkedThrough ?? new Date().toISOString();
  let checked = 0;
  while (checked < DEADLINES_PER_RUN && !workflowInfo().continueAsNewSuggested) {
    refreshed = false;
    const next = await local.nextDeadline({ job: input.job, after: checkedThrough });
    if (next === null) return;
    const waitMs = Date.parse(next.at) - Date.now();
    if (waitMs > 0 && (await condition(() => refreshed, waitMs))) continue;
    const day = await local.partitionState({ job: input.job, partition: next.partition });
    if (!day.succeeded) {
      await sendAlert(input.job, 'late', next.partition, {
        occurredAt: next.at,
        partition: next.partition,
        deadline: { at: next.at, declared: next.expectedBy, status: day.status, runId: day.runId },
      });
    }
    checkedThrough = next.at;
    checked++;
  }
  await continueAsNew<typeof freshnessWatch>({ job: input.job, checkedThrough });
}
