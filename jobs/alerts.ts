import { Cron } from 'croner';
import { PARTITION_KINDS } from './partition';
import { DEFAULT_PARTITION_OFFSET, DEFAULT_TIME_ZONE, isTimeZone } from './schedule';
import type { AlertKind } from '../workflows/alertTypes';

export type { AlertKind };

/**
 * Where a job's alerts go and which ones it sends. Each alert is one JSON event POSTed to the webhook, retried with
 * backoff until it is delivered (or a day has passed), signed with an HMAC-SHA256 of the body when a secret is set.
 * The URL and the secret never reach the logs, `job_runs`, Temporal histories or the API.
 */
export interface AlertsDeclaration {
  webhook: {
    /** The webhook's URL (http or https); or `urlEnv`, the environment variable of the workers that holds it. */
    url?: string;
    urlEnv?: string;
    /** The environment variable of the workers that holds the HMAC secret; the events go unsigned without one. */
    secretEnv?: string;
  };
  /**
   * Which events it sends; without it, every one that applies to the job: `failed` (a run failed after its
   * retries), `late` (with `expectedBy`), `tick_skipped` and `tick_missed` (with a `schedule`).
   */
  on?: AlertKind[];
  /** For a job partitioned by day: the time by which each day's partition must have succeeded. */
  expectedBy?: ExpectedBy;
}

/** At `at` (HH:MM or HH:MM:SS) in `timeZone`, the day `partitionOffset` days from that day must have succeeded. */
export interface ExpectedBy {
  at: string;
  /** IANA; `UTC` unless declared. */
  timeZone?: string;
  /** Which day is due at that time, from the day the deadline falls on: -1, the default, is the day before. */
  partitionOffset?: number;
}

export const ALERT_KINDS: readonly AlertKind[] = ['failed', 'late', 'tick_skipped', 'tick_missed'];
const TIME_OF_DAY = /^([01]\d|2[0-3]):([0-5]\d)(?::([0-5]\d))?$/;

/** The first thing wrong with a declaration, as `field: problem`, or undefined when it is valid. */
export function alertsProblem(a: AlertsDeclaration, job: { partitionKind: string | undefined; scheduled: boolean }): string | undefined {
  if (typeof a !== 'object' || a === null) return 'alerts: must be an object with a webhook';
  const w = a.webhook as AlertsDeclaration['webhook'] | undefined;
  if (typeof w !== 'object' || w === null) return 'alerts.webhook: required: { url } or { urlEnv }, and optionally secretEnv';
  if ((w.url === undefined) === (w.urlEnv === undefined)) return 'alerts.webhook: declare exactly one of url and urlEnv';
  if (w.url !== undefined) {
    const scheme = urlSchemeProblem(w.url);
    if (scheme) return `alerts.webhook.url: ${scheme}`;
  }
  for (const key of ['urlEnv', 'secretEnv'] as const) {
    const v = w[key];
    if (v !== undefined && (typeof v !== 'string' || !/^[A-Za-z_][A-Za-z0-9_]*$/.test(v))) return `alerts.webhook.${key}: must be the name of an environment variable`;
  }
  if (a.on !== undefined) {
    if (!Array.isArray(a.on)) return `alerts.on: must be a list of ${ALERT_KINDS.join(', ')}`;
    for (const kind of a.on) {
      if (!ALERT_KINDS.includes(kind)) return `alerts.on: ${JSON.stringify(kind)} is not one of ${ALERT_KINDS.join(', ')}`;
      if (kind === 'late' && !a.expectedBy) return 'alerts.on: late needs alerts.expectedBy';
      if ((kind === 'tick_skipped' || kind === 'tick_missed') && !job.scheduled) return `alerts.on: ${kind} needs a schedule`;
    }
  }
  if (a.expectedBy !== undefined) {
    const e = a.expectedBy;
    if (job.partitionKind !== 'day') return 'alerts.expectedBy: needs a job partitioned by day (`partition` in its definition)';
    if (typeof e !== 'object' || e === null || typeof e.at !== 'string' || !TIME_OF_DAY.test(e.at)) {
      return `alerts.expectedBy.at: must be a time of day as HH:MM or HH:MM:SS (00:00 to 23:59:59), got ${JSON.stringify(e?.at)}`;
    }
    if (e.timeZone !== undefined && !isTimeZone(e.timeZone)) return `alerts.expectedBy.timeZone: ${JSON.stringify(e.timeZone)} is not an IANA time zone (such as "UTC" or "Europe/Paris")`;
    if (e.partitionOffset !== undefined && (!Number.isInteger(e.partitionOffset) || Math.abs(e.partitionOffset) > 366)) {
      return `alerts.expectedBy.partitionOffset: must be a whole number from -366 to 366, got ${JSON.stringify(e.partitionOffset)}`;
    }
  }
  return undefined;
}

/** Why `url` cannot be a webhook, naming only its scheme (a webhook URL often carries a token). */
export function urlSchemeProblem(url: unknown): string | undefined {
  if (typeof url !== 'string') return 'must be an http or https URL';
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return 'must be an http or https URL (it does not parse as a URL)';
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') return `must be an http or https URL, not ${parsed.protocol}`;
  return undefined;
}

/** The events a declaration sends: those listed, or every one that applies to the job. */
export function alertKindsOf(a: AlertsDeclaration, scheduled: boolean): AlertKind[] {
  if (a.on) return [...new Set(a.on)];
  return ALERT_KINDS.filter((k) => k === 'failed' || (k === 'late' && a.expectedBy !== undefined) || ((k === 'tick_skipped' || k === 'tick_missed') && scheduled));
}

/** A webhook as the delivery needs it, read from the definition and the workers' environment. */
export interface Webhook {
  url: string;
  secret: string | null;
}

/**
 * The webhook with its URL and secret, or what is missing from the environment as `field: problem` (the worker checks
 * every job at start-up, so a missing variable stops it there, naming the job and the field).
 */
export function webhookOf(a: AlertsDeclaration, environment: NodeJS.ProcessEnv): Webhook | string {
  const w = a.webhook;
  let url = w.url;
  if (w.urlEnv !== undefined) {
    url = environment[w.urlEnv];
    if (!url) return `alerts.webhook.urlEnv: the environment variable ${w.urlEnv} is not set`;
    const scheme = urlSchemeProblem(url);
    if (scheme) return `alerts.webhook.urlEnv: ${w.urlEnv} ${scheme}`;
  }
  let secret: string | null = null;
  if (w.secretEnv !== undefined) {
    secret = environment[w.secretEnv] ?? '';
    if (secret === '') return `alerts.webhook.secretEnv: the environment variable ${w.secretEnv} is not set`;
  }
  return { url: url!, secret };
}

/** The settings as listings show them: where the webhook comes from, never its URL or secret. */
export function describeAlerts(a: AlertsDeclaration, scheduled: boolean): AlertsDescription {
  return {
    on: alertKindsOf(a, scheduled),
    webhook: a.webhook.urlEnv !== undefined ? `from $${a.webhook.urlEnv}` : 'in the definition',
    signed: a.webhook.secretEnv !== undefined,
    expectedBy: a.expectedBy ? describeExpectedBy(a.expectedBy) : null,
  };
}

export interface AlertsDescription {
  on: AlertKind[];
  /** `in the definition` or `from $NAME`: where the workers read the URL. */
  webhook: string;
  /** Whether the events carry an HMAC signature (a secret is declared). */
  signed: boolean;
  expectedBy: string | null;
}

/** `09:00 Europe/Paris, for the day before`. */
export function describeExpectedBy(e: ExpectedBy): string {
  const offset = e.partitionOffset ?? DEFAULT_PARTITION_OFFSET;
  const which = offset === 0 ? 'the same day' : offset === -1 ? 'the day before' : `the day ${offset} days away`;
  return `${e.at} ${e.timeZone ?? DEFAULT_TIME_ZONE}, for ${which}`;
}

/** The first deadline after `after`: its moment and the day's partition that must have succeeded by then. */
export function nextDeadline(e: ExpectedBy, after: Date): { at: Date; partition: string } {
  const [, h, m, s] = TIME_OF_DAY.exec(e.at)!;
  const timeZone = e.timeZone ?? DEFAULT_TIME_ZONE;
  // Croner reads the time of day in the zone, DST included (a time that a spring-forward skips falls on the next one).
  const at = new Cron(`${Number(s ?? 0)} ${Number(m)} ${Number(h)} * * *`, { timezone: timeZone, paused: true }).nextRun(after)!;
  return { at, partition: PARTITION_KINDS.day.at(at, timeZone, e.partitionOffset ?? DEFAULT_PARTITION_OFFSET) };
}
