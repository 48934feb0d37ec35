import { createHash } from 'node:crypto';
import { ScheduleAlreadyRunning, ScheduleOverlapPolicy, type Client, type ScheduleDescription, type ScheduleOptions } from '@temporalio/client';
import { keepTrying } from '../client/keepTrying';
import { hasPollers } from '../client/taskQueues';
import type { JobDefinition } from '../jobs/definition';
import type { JobRegistry } from '../jobs/registry';
import { DEFAULT_TIME_ZONE, type ScheduleDeclaration } from '../jobs/schedule';
import type { Logger } from '../observability/logger';
import { SCHEDULE_MEMO_KEY, scheduleIdOf, tickWorkflowIdOf, type ScheduleMemo } from '../workflows/tickTypes';

/** The note of a schedule the workers paused because its job stopped declaring one; they resume only these. */
export const UNDECLARED_NOTE = 'paused by scheduled-job: the job no longer declares a schedule';
/** A worker that polled this recently is alive: it polls again within about a minute. */
const LIVE_POLLER_MS = 75_000;
/** A schedule left to another queue's live workers is looked at again this soon, to take it over once they are gone. */
const RECHECK_MS = 90_000;
/** Where the schedule's action keeps the digest of the declaration it was made from (an action's memo is updatable). */
const DECLARATION_MEMO = 'declaration';

export type SyncOutcome = 'created' | 'updated' | 'unchanged' | 'taken over' | 'resumed' | 'paused' | 'left alone';
export interface SyncResult {
  scheduleId: string;
  outcome: SyncOutcome;
  why?: string;
  /** Left alone while another queue's workers live: worth another look soon. */
  recheck?: boolean;
}

/** The Temporal Schedule a declaration makes: every tick is a `scheduleTick` workflow on this task queue. */
export function scheduleOptionsOf(def: JobDefinition & { schedule: ScheduleDeclaration }, taskQueue: string): ScheduleOptions {
  const s = def.schedule;
  const timezone = s.timeZone ?? DEFAULT_TIME_ZONE;
  const spec = s.cron !== undefined ? { cronExpressions: [s.cron.trim()], timezone } : { intervals: [{ every: s.every! }], timezone };
  const digest = createHash('sha256').update(JSON.stringify({ spec, catchupWindow: s.catchupWindow ?? null, taskQueue })).digest('hex').slice(0, 16);
  return {
    scheduleId: scheduleIdOf(def.name),
    spec,
    action: {
      type: 'startWorkflow',
      workflowType: 'scheduleTick',
      workflowId: tickWorkflowIdOf(def.name),
      taskQueue,
      args: [{ job: def.name }],
      memo: { [DECLARATION_MEMO]: digest },
    },
    // Ticks are short and each decides against the job's lock (skip or buffer_one), so the server lets all start.
    policies: { overlap: ScheduleOverlapPolicy.ALLOW_ALL, ...(s.catchupWindow !== undefined ? { catchupWindow: s.catchupWindow } : {}) },
    state: { paused: s.paused ?? false, ...(s.paused ? { note: 'declared paused: resume with scheduled-job schedule resume' } : {}) },
    memo: { [SCHEDULE_MEMO_KEY]: { job: def.name } satisfies ScheduleMemo },
  };
}

const ourMemo = (memo: Record<string, unknown> | undefined): ScheduleMemo | undefined => memo?.[SCHEDULE_MEMO_KEY] as ScheduleMemo | undefined;
const taskQueueOf = (d: ScheduleDescription) => (d.action.type === 'startWorkflow' ? d.action.taskQueue : undefined);
const digestOf = (d: ScheduleDescription) => (d.action.type === 'startWorkflow' ? d.action.memo?.[DECLARATION_MEMO] : undefined);

/**
 * Makes Temporal's schedules match the definitions: creates or updates `schedule/<job>` for each job that declares a
 * schedule, and pauses the ones the workers created for jobs that no longer declare one. Only schedules carrying the
 * workers' memo are touched, and of those only the ones whose ticks go to this task queue (another deployment's
 * are left alone unless no worker polls their queue any more). Idempotent: workers starting together make one
 * schedule each and no error, and an unchanged declaration is not written again. The paused state belongs to the
 * operator after creation.
 */
export async function syncSchedules(client: Client, jobs: JobRegistry, taskQueue: string): Promise<SyncResult[]> {
  const results: SyncResult[] = [];
  const declared = jobs.list().filter((d): d is JobDefinition & { schedule: ScheduleDeclaration } => d.schedule !== undefined);
  for (const def of declared) results.push(await ensureSchedule(client, def, taskQueue));

  const declaredIds = new Set(declared.map((d) => scheduleIdOf(d.name)));
  for await (const summary of client.schedule.list()) {
    if (declaredIds.has(summary.scheduleId) || !ourMemo(summary.memo)) continue;
    const handle = client.schedule.getHandle(summary.scheduleId);
    const d = await handle.describe();
    if (taskQueueOf(d) !== taskQueue || d.state.paused) continue;
    await handle.pause(UNDECLARED_NOTE);
    results.push({ scheduleId: summary.scheduleId, outcome: 'paused', why: 'its job no longer declares a schedule' });
  }
  return results;
}

async function ensureSchedule(client: Client, def: JobDefinition & { schedule: ScheduleDeclaration }, taskQueue: string): Promise<SyncResult> {
  const options = scheduleOptionsOf(def, taskQueue);
  const scheduleId = options.scheduleId;
  try {
    await client.schedule.create(options);
    return { scheduleId, outcome: 'created' };
  } catch (err) {
    if (!(err instanceof ScheduleAlreadyRunning)) throw err;
  }
  const handle = client.schedule.getHandle(scheduleId);
  const current = await handle.describe();
  if (!ourMemo(current.memo)) return { scheduleId, outcome: 'left alone', why: 'it was not created by scheduled-job' };
  let outcome: SyncOutcome = 'unchanged';
  const theirs = taskQueueOf(current);
  if (theirs !== taskQueue) {
    if (theirs !== undefined && (await hasPollers(client, theirs, LIVE_POLLER_MS))) {
      return { scheduleId, outcome: 'left alone', why: `its ticks go to task queue ${theirs}, which has workers`, recheck: true };
    }
    outcome = 'taken over';
  } else if (digestOf(current) !== (options.action as { memo: Record<string, unknown> }).memo[DECLARATION_MEMO]) {
    outcome = 'updated';
  }
  if (outcome !== 'unchanged') {
    // The state (paused or not, and its note) stays as the operator left it.
    await handle.update((prev) => ({ ...prev, spec: options.spec, action: options.action, policies: options.policies ?? {} }));
  }
  if (current.state.paused && current.state.note === UNDECLARED_NOTE) {
    await handle.unpause('resumed by scheduled-job: the job declares a schedule again');
    return { scheduleId, outcome: 'resumed' };
  }
  return { scheduleId, outcome };
}

/** Again this often, so a schedule deleted by hand comes back and one left by a retired queue is taken over. */
const RESYNC_EVERY_MS = 10 * 60_000;

/**
 * The worker's call: at start-up and every ten minutes (sooner while another queue's workers hold a schedule), retried
 * in the background, never fatal. Returns a stop function.
 */
export function keepSyncingSchedules(client: Client, jobs: JobRegistry, taskQueue: string, log: Logger): () => void {
  let synced = false;
  let stopCurrent = () => {};
  let next: NodeJS.Timeout | undefined;
  const sync = (): void => {
    stopCurrent();
    clearTimeout(next);
    stopCurrent = keepTrying(
      'sync the job schedules',
      async () => {
        const results = await syncSchedules(client, jobs, taskQueue);
        for (const r of results.filter((x) => x.outcome === 'left alone')) log.warn(r, 'schedule not touched');
        const changed = results.filter((x) => x.outcome !== 'unchanged' && x.outcome !== 'left alone');
        if (changed.length > 0 || !synced) log.info({ schedules: results }, 'job schedules in step with the definitions');
        synced = true;
        next = setTimeout(sync, results.some((r) => r.recheck) ? RECHECK_MS : RESYNC_EVERY_MS);
        next.unref();
      },
      log,
    );
  };
  sync();
  return () => {
    clearTimeout(next);
    stopCurrent();
  };
}
