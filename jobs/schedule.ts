import type { Duration } from '@temporalio/common';
import { msToNumber } from '@temporalio/common/lib/time';
import { Cron } from 'croner';

/**
 * When a job runs on its own: the workers keep a Temporal Schedule `schedule/<job>` in step with this. Each tick
 * starts the job under its lock, as a trigger would, so a tick and a manual run of the same partition exclude each
 * other.
 */
export interface ScheduleDeclaration {
  /** Five fields (minute hour day-of-month month day-of-week), or @hourly, @daily, @weekly, @monthly, @yearly. */
  cron?: string;
  /** Or a fixed interval, such as `'1h'` (at least 1 s: Temporal takes at most one action a second). */
  every?: Duration;
  /** The IANA time zone the cron expression and a tick's partition are read in; `UTC` unless declared. */
  timeZone?: string;
  /**
   * What a tick does when a run of its partition holds the lock: `skip` (the default) records it skipped, naming the
   * holder; `buffer_one` waits for the holder to end and then starts, with at most one tick waiting per lock (a
   * further one is recorded skipped).
   */
  overlap?: ScheduleOverlap;
  /** How late a tick may still fire after the Temporal server was away; the server's default (a year) otherwise. */
  catchupWindow?: Duration;
  /** Created paused (an operator resumes it). A schedule's paused state is the operator's after creation. */
  paused?: boolean;
  /**
   * For a partitioned job: the partition a tick runs, counted from the one its scheduled time falls in (in
   * `timeZone`). The default -1 runs a daily job for the day before its tick.
   */
  partitionOffset?: number;
}

export type ScheduleOverlap = 'skip' | 'buffer_one';

/** A job that declares no schedule, or whose schedule the workers have not created yet. */
export class UnknownScheduleError extends Error {
  override name = 'UnknownSchedule';
}

export const DEFAULT_TIME_ZONE = 'UTC';
export const DEFAULT_PARTITION_OFFSET = -1;
/** The server refuses a catch-up window under ten seconds. */
const MIN_CATCHUP_MS = 10_000;
const CRON_MACROS = new Set(['@yearly', '@annually', '@monthly', '@weekly', '@daily', '@midnight', '@hourly']);

/** The first thing wrong with a declaration, as `field: problem`, or undefined when it is valid. */
export function scheduleProblem(s: ScheduleDeclaration, partitioned: boolean): string | undefined {
  if ((s.cron === undefined) === (s.every === undefined)) return 'schedule: declare exactly one of cron and every';
  if (s.cron !== undefined) {
    const cron = s.cron.trim();
    const fields = cron.split(/\s+/);
    if (!(CRON_MACROS.has(cron) || fields.length === 5)) {
      return `schedule.cron: must be five fields (minute hour day-of-month month day-of-week) or one of ${[...CRON_MACROS].join(', ')}, got ${JSON.stringify(s.cron)}`;
    }
    try {
      new Cron(cron, { paused: true });
    } catch (err) {
      return `schedule.cron: ${JSON.stringify(s.cron)} is not a cron expression (${(err as Error).message})`;
    }
  }
  if (s.every !== undefined) {
    const ms = durationMs(s.every);
    if (ms === undefined || ms < 1000) return `schedule.every: must be a duration of at least 1s, such as "1h", got ${JSON.stringify(s.every)}`;
  }
  if (s.timeZone !== undefined && !isTimeZone(s.timeZone)) {
    return `schedule.timeZone: ${JSON.stringify(s.timeZone)} is not an IANA time zone (such as "UTC" or "Europe/Paris")`;
  }
  if (s.overlap !== undefined && s.overlap !== 'skip' && s.overlap !== 'buffer_one') {
    return `schedule.overlap: must be "skip" or "buffer_one", got ${JSON.stringify(s.overlap)}`;
  }
  if (s.catchupWindow !== undefined) {
    const ms = durationMs(s.catchupWindow);
    if (ms === undefined || ms < MIN_CATCHUP_MS) return `schedule.catchupWindow: must be a duration of at least 10s, got ${JSON.stringify(s.catchupWindow)}`;
  }
  if (s.paused !== undefined && typeof s.paused !== 'boolean') return 'schedule.paused: must be true or false';
  if (s.partitionOffset !== undefined) {
    if (!partitioned) return 'schedule.partitionOffset: the job declares no partition';
    if (!Number.isInteger(s.partitionOffset) || Math.abs(s.partitionOffset) > 366) {
      return `schedule.partitionOffset: must be a whole number from -366 to 366, got ${JSON.stringify(s.partitionOffset)}`;
    }
  }
  return undefined;
}

/** How the declaration reads in listings: `cron 0 11 * * * (UTC)` or `every 1h`. */
export function describeSpec(s: ScheduleDeclaration): string {
  return s.cron !== undefined ? `cron ${s.cron.trim()} (${s.timeZone ?? DEFAULT_TIME_ZONE})` : `every ${String(s.every)}`;
}

function durationMs(d: Duration): number | undefined {
  try {
    const ms = msToNumber(d);
    return Number.isFinite(ms) ? ms : undefined;
  } catch {
    return undefined;
  }
}

export function isTimeZone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}
