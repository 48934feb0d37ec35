import { createHmac } from 'node:crypto';
import { ApplicationFailure, Context } from '@temporalio/activity';
import type { DataSource } from 'typeorm';
import * as alertEvents from '../db/alertEvents';
import * as jobRuns from '../db/jobRuns';
import { alertKindsOf, describeExpectedBy, nextDeadline, webhookOf } from '../jobs/alerts';
import type { JobRegistry } from '../jobs/registry';
import { events } from '../observability/events';
import type { AlertEvent, NextDeadline } from '../workflows/alertTypes';

/** A webhook that neither answers nor fails within this is tried again later. */
const WEBHOOK_TIMEOUT_MS = 10_000;
export const SIGNATURE_HEADER = 'x-scheduled-job-signature';
export const EVENT_ID_HEADER = 'x-scheduled-job-event-id';

/** `sha256=<hex>`: the HMAC-SHA256 of the exact body with the job's secret, as the webhook receives it. */
export function signatureOf(body: string, secret: string): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
}

/** The system error code under a failed fetch (ECONNREFUSED, ENOTFOUND, ...), never its message: it may hold the URL. */
function reachFailure(err: unknown): string {
  const cause = (err as { cause?: { code?: unknown; name?: unknown } })?.cause;
  const code = typeof cause?.code === 'string' ? cause.code : typeof cause?.name === 'string' ? cause.name : (err as Error)?.name;
  return `the webhook could not be reached (${code ?? 'error'})`;
}

/** Alerts: delivering an event to its job's webhook, and the steps of a job's freshness watch. */
export function createAlertActivities(ds: DataSource, jobs: JobRegistry, environment: NodeJS.ProcessEnv = process.env) {
  return {
    /**
     * POSTs the event to the webhook its job declares on these workers, signed when a secret is set; a failure (no
     * answer, or not 2xx) throws so Temporal tries again with backoff. An event delivered already is not sent again,
     * so a retry after a lost completion repeats a POST only when the worker died between the webhook's answer and
     * recording it. Errors name a status or an error code, never the URL.
     */
    async deliverAlertEvent(event: AlertEvent): Promise<{ attempts: string }> {
      const def = jobs.has(event.job) ? jobs.get(event.job) : undefined;
      if (!def?.alerts) throw ApplicationFailure.nonRetryable(`job ${event.job} declares no alerts on these workers`, 'NoWebhook');
      const hook = webhookOf(def.alerts, environment);
      if (typeof hook === 'string') throw ApplicationFailure.nonRetryable(`job ${event.job}: ${hook}`, 'NoWebhook');
      if ((await alertEvents.beginDelivery(ds, event)).delivered) return { attempts: 'delivered before' };
      const body = JSON.stringify(event);
      const headers: Record<string, string> = {
        'content-type': 'application/json',
        'user-agent': 'scheduled-job',
        'x-scheduled-job-event': event.type,
        [EVENT_ID_HEADER]: event.id,
        ...(hook.secret ? { [SIGNATURE_HEADER]: signatureOf(body, hook.secret) } : {}),
      };
      const signal = AbortSignal.any([Context.current().cancellationSignal, AbortSignal.timeout(WEBHOOK_TIMEOUT_MS)]);
      let answer: Response;
      try {
        // A redirect is not followed: the declared URL is the only place the event goes.
        answer = await fetch(hook.url, { method: 'POST', headers, body, signal, redirect: 'manual' });
      } catch (err) {
        const why = reachFailure(err);
        events.alertDelivery(event.job, event.type, 'unreachable');
        await alertEvents.recordFailure(ds, event.id, why);
        throw ApplicationFailure.retryable(why, 'WebhookUnreachable');
      }
      await answer.body?.cancel();
      if (!answer.ok) {
        const why = `the webhook answered ${answer.status}`;
        events.alertDelivery(event.job, event.type, 'refused');
        await alertEvents.recordFailure(ds, event.id, why);
        throw ApplicationFailure.retryable(why, 'WebhookRefused');
      }
      await alertEvents.recordDelivered(ds, event.id);
      events.alertDelivery(event.job, event.type, 'delivered');
      return { attempts: `delivered on try ${Context.current().info.attempt}` };
    },

    /** The first deadline of `job` after `after`, from this worker's definition; null when it declares none now. */
    async nextDeadline(input: { job: string; after: string }): Promise<NextDeadline> {
      const alerts = jobs.has(input.job) ? jobs.get(input.job).alerts : undefined;
      if (!alerts?.expectedBy || !alertKindsOf(alerts, jobs.get(input.job).schedule !== undefined).includes('late')) return null;
      const next = nextDeadline(alerts.expectedBy, new Date(input.after));
      return { at: next.at.toISOString(), partition: next.partition, expectedBy: describeExpectedBy(alerts.expectedBy) };
    },

    /** Whether a run of the partition has succeeded, and its latest run (null when none exists). */
    async partitionState(input: { job: string; partition: string }): Promise<{ succeeded: boolean; status: string; runId: string | null }> {
      const [succeeded, latest] = await Promise.all([
        jobRuns.partitionSucceeded(ds, input.job, input.partition),
        jobRuns.latestOfPartition(ds, input.job, input.partition),
      ]);
      return { succeeded, status: latest?.status ?? 'missing', runId: latest?.first_run_id ?? null };
    },
  };
}

export type AlertActivities = ReturnType<typeof createAlertActivities>;
