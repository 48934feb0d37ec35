import { ScheduleNotFoundError, WorkflowExecutionAlreadyStartedError, type Client } from '@temporalio/client';
import type { DataSource } from 'typeorm';
import { keepTrying } from '../client/keepTrying';
import { hasPollers } from '../client/taskQueues';
import * as alertEvents from '../db/alertEvents';
import { alertKindsOf } from '../jobs/alerts';
import type { JobDefinition } from '../jobs/definition';
import type { JobRegistry } from '../jobs/registry';
import type { Logger } from '../observability/logger';
import { ALERT_EVENT_TYPES, alertWorkflowId, freshnessWorkflowId, type AlertKind } from '../workflows/alertTypes';
import { deliverAlert, freshnessRefreshSignal, freshnessWatch } from '../workflows/alerts';
import { SCHEDULE_MEMO_KEY, scheduleIdOf } from '../workflows/tickTypes';

const alertsOn = (def: JobDefinition, kind: AlertKind) => def.alerts !== undefined && alertKindsOf(def.alerts, def.schedule !== undefined).includes(kind);

/**
 * Makes sure each job with a freshness deadline has its watch `freshness/<job>` running, and tells a running one to
 * work its deadline out again (the definition may have changed): a signal-with-start, so workers starting together
 * make one watch. A watch left on a task queue that no worker polls any more is moved here (it would never fire).
 */
export async function ensureFreshnessWatches(client: Client, jobs: JobRegistry, taskQueue: string, log?: Logger): Promise<string[]> {
  const started: string[] = [];
  for (const def of jobs.list().filter((d) => alertsOn(d, 'late'))) {
    const workflowId = freshnessWorkflowId(def.name);
    const start = () =>
      client.workflow.signalWithStart(freshnessWatch, {
        workflowId,
        taskQueue,
        args: [{ job: def.name }],
        signal: freshnessRefreshSignal,
        signalArgs: [],
        workflowIdReusePolicy: 'ALLOW_DUPLICATE',
      });
    const handle = await start();
    const d = await handle.describe();
    if (d.taskQueue !== taskQueue && !(await hasPollers(client, d.taskQueue))) {
      log?.warn({ workflowId, itsTaskQueue: d.taskQueue, taskQueue }, 'the freshness watch was orphaned on a task queue without workers; moving it here');
      await handle.terminate(`orphaned on task queue ${d.taskQueue} (no pollers); restarted on ${taskQueue}`).catch(() => undefined);
      await start();
    }
    started.push(workflowId);
  }
  return started;
}

/**
 * Alerts `tick_missed` for each job whose schedule the server counts ticks missed for (the Temporal server was away
 * longer than the catch-up window): one event per new count, named by the schedule's creation and the count, so every
 * worker asking makes the same one and a later look does not repeat it (`alert_events` keeps it past Temporal's
 * retention).
 */
export async function alertMissedTicks(client: Client, ds: DataSource, jobs: JobRegistry, taskQueue: string): Promise<number> {
  let sent = 0;
  for (const def of jobs.list().filter((d) => d.schedule !== undefined && alertsOn(d, 'tick_missed'))) {
    let d;
    try {
      d = await client.schedule.getHandle(scheduleIdOf(def.name)).describe();
    } catch (err) {
      if (err instanceof ScheduleNotFoundError) continue;
      throw err;
    }
    const missed = d.info.numActionsMissedCatchupWindow;
    if (missed === 0 || !d.memo?.[SCHEDULE_MEMO_KEY]) continue;
    const id = alertWorkflowId(def.name, 'tick_missed', `${d.info.createdAt.getTime()}-${missed}`);
    if (await alertEvents.exists(ds, id)) continue;
    try {
      await client.workflow.start(deliverAlert, {
        workflowId: id,
        taskQueue,
        args: [
          {
            id,
            type: ALERT_EVENT_TYPES.tick_missed,
            job: def.name,
            occurredAt: new Date().toISOString(),
            partition: null,
            missed: { total: missed, scheduleId: scheduleIdOf(def.name) },
          },
        ],
        workflowIdReusePolicy: 'REJECT_DUPLICATE',
      });
      sent++;
    } catch (err) {
      if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
    }
  }
  return sent;
}

/** How often the workers look for missed ticks. */
const MISSED_TICKS_EVERY_MS = 60_000;

/** The worker's calls: the freshness watches at start-up, and the missed-tick check every minute; never fatal. */
export function keepWatchingAlerts(client: Client, ds: DataSource, jobs: JobRegistry, taskQueue: string, log: Logger): () => void {
  const stopEnsuring = keepTrying(
    'start the freshness watches',
    async () => {
      const watches = await ensureFreshnessWatches(client, jobs, taskQueue, log);
      if (watches.length > 0) log.info({ watches }, 'freshness deadlines watched');
    },
    log,
  );
  if (!jobs.list().some((d) => d.schedule !== undefined && alertsOn(d, 'tick_missed'))) return stopEnsuring;
  const timer = setInterval(() => {
    alertMissedTicks(client, ds, jobs, taskQueue)
      .then((n) => n > 0 && log.warn({ alerts: n }, 'schedule ticks missed: alerts sent'))
      .catch((err: unknown) => log.debug({ err }, 'could not look for missed ticks; will look again'));
  }, MISSED_TICKS_EVERY_MS);
  timer.unref();
  return () => {
    clearInterval(timer);
    stopEnsuring();
  };
}
