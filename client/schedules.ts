import { ScheduleNotFoundError, type Client, type ScheduleDescription } from '@temporalio/client';
import type { Queryable } from '../db/jobRuns';
import * as ticks from '../db/scheduleTicks';
import type { JobDefinition } from '../jobs/definition';
import type { JobRegistry } from '../jobs/registry';
import { DEFAULT_PARTITION_OFFSET, DEFAULT_TIME_ZONE, describeSpec, UnknownScheduleError, type ScheduleDeclaration } from '../jobs/schedule';
import { scheduleIdOf } from '../workflows/tickTypes';

/** What operating a job's schedule needs: the server that runs it, the ticks' table and the definitions. */
export interface ScheduleDeps {
  temporal: Client;
  db: Queryable;
  jobs: JobRegistry;
}

/** What one tick did, as `schedules`, `GET /schedules` and the console show it. */
export interface TickView {
  scheduledAt: string;
  outcome: ticks.TickOutcome;
  reason: string | null;
  partition: string | null;
  workflowId: string | null;
  /** The run the tick started, or the one that held the lock. */
  runId: string | null;
  tickWorkflowId: string;
  recordedAt: string;
}

/** A job's schedule: its declaration, and how it stands on the Temporal server. */
export interface ScheduleView {
  job: string;
  scheduleId: string;
  /** `cron 0 11 * * * (UTC)` or `every 1h`. */
  spec: string;
  timeZone: string;
  overlap: 'skip' | 'buffer_one';
  /** For a partitioned job: the partition a tick runs, from the one its time falls in (-1: the day before). */
  partitionOffset: number | null;
  /** False until a worker has created it. */
  exists: boolean;
  paused: boolean | null;
  note: string | null;
  nextFireTimes: string[];
  taskQueue: string | null;
  lastTick: TickView | null;
}

/** A schedule's state in words, as every view of it says it. */
export function scheduleState(s: Pick<ScheduleView, 'exists' | 'paused'>): 'not created yet' | 'paused' | 'active' {
  return !s.exists ? 'not created yet' : s.paused ? 'paused' : 'active';
}

export function tickView(r: ticks.TickRow): TickView {
  return {
    scheduledAt: r.scheduled_at.toISOString(),
    outcome: r.outcome,
    reason: r.reason,
    partition: r.partition_key,
    workflowId: r.workflow_id,
    runId: r.run_id,
    tickWorkflowId: r.tick_workflow_id,
    recordedAt: r.recorded_at.toISOString(),
  };
}

type Scheduled = JobDefinition & { schedule: ScheduleDeclaration };

/** The definition of a job that declares a schedule; throws UnknownJobError or UnknownScheduleError. */
function scheduledJob(jobs: JobRegistry, job: string): Scheduled {
  const def = jobs.get(job);
  if (!def.schedule) throw new UnknownScheduleError(`job ${job} declares no schedule (\`schedule\` in its definition)`);
  return def as Scheduled;
}

async function describeOrUndefined(temporal: Client, scheduleId: string): Promise<ScheduleDescription | undefined> {
  try {
    return await temporal.schedule.getHandle(scheduleId).describe();
  } catch (err) {
    if (err instanceof ScheduleNotFoundError) return undefined;
    throw err;
  }
}

/** Every job that declares a schedule: its spec, the next three fire times, its last tick, paused or not. */
export async function listSchedules(deps: ScheduleDeps): Promise<ScheduleView[]> {
  const defs = deps.jobs.list().filter((d): d is Scheduled => d.schedule !== undefined);
  const last = await ticks.lastTicks(deps.db, defs.map((d) => d.name));
  return Promise.all(defs.map((def) => scheduleView(deps, def, last.get(def.name))));
}

/** One job's schedule, as `listSchedules` shows it; throws UnknownJobError or UnknownScheduleError. */
export async function getSchedule(deps: ScheduleDeps, job: string): Promise<ScheduleView> {
  const def = scheduledJob(deps.jobs, job);
  return scheduleView(deps, def, (await ticks.lastTicks(deps.db, [def.name])).get(def.name));
}

async function scheduleView(deps: ScheduleDeps, def: Scheduled, tick: ticks.TickRow | undefined): Promise<ScheduleView> {
  const scheduleId = scheduleIdOf(def.name);
  const d = await describeOrUndefined(deps.temporal, scheduleId);
  return {
    job: def.name,
    scheduleId,
    spec: describeSpec(def.schedule),
    timeZone: def.schedule.timeZone ?? DEFAULT_TIME_ZONE,
    overlap: def.schedule.overlap ?? 'skip',
    partitionOffset: def.partition ? (def.schedule.partitionOffset ?? DEFAULT_PARTITION_OFFSET) : null,
    exists: d !== undefined,
    paused: d ? d.state.paused : null,
    note: d?.state.note || null,
    nextFireTimes: d ? d.info.nextActionTimes.slice(0, 3).map((t) => t.toISOString()) : [],
    taskQueue: d?.action.type === 'startWorkflow' ? d.action.taskQueue : null,
    lastTick: tick ? tickView(tick) : null,
  };
}

/** A job's ticks, the latest scheduled first. */
export async function listTicks(deps: ScheduleDeps, job: string, limit = 20): Promise<TickView[]> {
  scheduledJob(deps.jobs, job);
  return (await ticks.ticksOf(deps.db, job, limit)).map(tickView);
}

async function existingHandle(deps: ScheduleDeps, job: string) {
  const scheduleId = scheduleIdOf(scheduledJob(deps.jobs, job).name);
  const handle = deps.temporal.schedule.getHandle(scheduleId);
  if (!(await describeOrUndefined(deps.temporal, scheduleId))) {
    throw new UnknownScheduleError(`${scheduleId} does not exist yet: a worker creates the declared schedules when it starts`);
  }
  return handle;
}

export async function pauseSchedule(deps: ScheduleDeps, job: string, note = 'paused by scheduled-job schedule pause'): Promise<void> {
  await (await existingHandle(deps, job)).pause(note);
}

export async function resumeSchedule(deps: ScheduleDeps, job: string, note = 'resumed by scheduled-job schedule resume'): Promise<void> {
  await (await existingHandle(deps, job)).unpause(note);
}

/**
 * One tick now, whatever the spec says (a paused schedule too). Its scheduled time is now, so it runs the partition
 * a tick at this moment runs (for the shipped ingest: yesterday). Returns when the server took it; the tick's
 * outcome follows in `schedule_ticks` (`awaitTick`).
 */
export async function triggerSchedule(deps: ScheduleDeps, job: string): Promise<{ scheduleId: string; triggeredAt: string }> {
  const handle = await existingHandle(deps, job);
  // Second precision: the time Temporal gives the tick is truncated to it.
  const triggeredAt = new Date(Math.floor(Date.now() / 1000) * 1000).toISOString();
  await handle.trigger();
  return { scheduleId: handle.scheduleId, triggeredAt };
}

/** The first tick of `job` scheduled at or after `since`, once a worker has recorded it; undefined after `timeoutMs`. */
export async function awaitTick(deps: ScheduleDeps, job: string, since: string, timeoutMs = 30_000): Promise<TickView | undefined> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const found = (await ticks.ticksOf(deps.db, job, 20)).filter((t) => t.scheduled_at.toISOString() >= since && t.outcome !== 'buffered');
    if (found.length > 0) return tickView(found[found.length - 1]!);
    if (Date.now() > deadline) return undefined;
    await new Promise((r) => setTimeout(r, 500));
  }
}
