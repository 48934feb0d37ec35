// The alerts' shared shapes and names: pure, so the worker, the clients and workflow code agree on them.

/** What a job may alert on (`alerts.on` in its definition). */
export type AlertKind = 'failed' | 'late' | 'tick_skipped' | 'tick_missed';

/** The `type` of each kind's event, as the webhook receives it. */
export const ALERT_EVENT_TYPES = {
  failed: 'job.failed',
  late: 'partition.late',
  tick_skipped: 'schedule.tick_skipped',
  tick_missed: 'schedule.tick_missed',
} as const satisfies Record<AlertKind, string>;
export type AlertEventType = (typeof ALERT_EVENT_TYPES)[AlertKind];

/**
 * One alert, the JSON body the webhook receives. `id` is the same for every delivery attempt of the event (it is the
 * workflow ID that delivers it, unique per event), so a receiver can drop a repeat.
 */
export interface AlertEvent {
  id: string;
  type: AlertEventType;
  job: string;
  /** When what it reports happened (the failure, the deadline, the tick's scheduled time). */
  occurredAt: string;
  partition: string | null;
  /** job.failed: the run, its last attempt and why it failed. */
  run?: { workflowId: string; runId: string; attempt: number; status: string; error: string };
  /** partition.late: the deadline (`at`, and as declared), and where the day stood then: its latest run or `missing`. */
  deadline?: { at: string; declared: string; status: string; runId: string | null };
  /** schedule.tick_skipped: why, and the run that held the lock if one did. */
  tick?: { scheduledAt: string; reason: string; heldBy: string | null };
  /** schedule.tick_missed: how many ticks the server has counted as missed (past the catch-up window) in all. */
  missed?: { total: number; scheduleId: string };
}

/** The workflow that delivers one event: `alert/<job>/<kind>/<key>`, so an event is started once however often asked. */
export function alertWorkflowId(job: string, kind: AlertKind, key: string): string {
  return `alert/${job}/${kind}/${key}`;
}

/** The long-running workflow that keeps a job's freshness deadline (a durable timer per day). */
export function freshnessWorkflowId(job: string): string {
  return `freshness/${job}`;
}

export interface FreshnessInput {
  job: string;
  /** Deadlines up to this moment have been checked; set by the workflow when it continues as new. */
  checkedThrough?: string;
}

/** Sent by each worker at start-up: the definitions may have changed, so the next deadline is worked out again. */
export const FRESHNESS_REFRESH_SIGNAL = 'refresh';

/** The next deadline of a job, or null when it no longer declares one (the watch then ends). */
export type NextDeadline = { at: string; partition: string; expectedBy: string } | null;
