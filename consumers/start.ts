import type { Client } from '@temporalio/client';
import { keepTrying } from '../client/keepTrying';
import { hasPollers } from '../client/taskQueues';
import type { Logger } from '../observability/logger';
import { consumerWorkflowId, isIngestWorkflowIdOf } from '../workflows/consumerIds';
import { CONSUMER_WORKFLOW_TYPE, type ConsumerWorkflowInput } from '../workflows/consumerTypes';
import type { ConsumerRegistry, ResolvedConsumer } from './registry';

/**
 * Makes sure each consumer's long-running workflow runs: an idempotent start (USE_EXISTING), so any number of
 * workers may call it at once and a running consumer is left alone. Returns the run of each consumer.
 *
 * A run started by workers of another task queue holds the ID (the lock) but only that queue serves it. When no worker
 * has polled that queue for minutes (a test's or a retired deployment's queue), the consumer would never run again:
 * its workflow is moved here (its state is status only; offsets are in Kafka and Postgres). Its ingest workflows on
 * such queues are ended first: what they held is described again by the consumer when it starts here (from each
 * partition's applied offset in Postgres up to what it had handed over), into new ingest workflows on this queue.
 */
export async function ensureConsumerWorkflows(
  client: Client,
  consumers: ResolvedConsumer[],
  taskQueue: string,
  log?: Logger,
): Promise<{ consumer: string; workflowId: string; runId: string }[]> {
  const out = [];
  for (const c of consumers) {
    const workflowId = consumerWorkflowId(c.name);
    const input: ConsumerWorkflowInput = { consumer: c.name, settings: c.workflow };
    const start = () =>
      client.workflow.start(CONSUMER_WORKFLOW_TYPE, {
        workflowId,
        taskQueue,
        args: [input],
        workflowIdConflictPolicy: 'USE_EXISTING',
        workflowIdReusePolicy: 'ALLOW_DUPLICATE',
      });
    let handle = await start();
    const d = await handle.describe();
    if (d.taskQueue !== taskQueue) {
      if (await hasPollers(client, d.taskQueue, POLLED_WITHIN_MS)) {
        log?.warn({ workflowId, itsTaskQueue: d.taskQueue, taskQueue }, 'the consumer workflow runs on another task queue, which has workers; leaving it there');
      } else {
        log?.warn({ workflowId, itsTaskQueue: d.taskQueue, taskQueue }, 'the consumer workflow was orphaned on a task queue without workers; moving it here');
        // Its ingest workflows first: once the consumer runs here, it describes again what they held.
        await endOrphanedIngests(client, c.name, taskQueue, log);
        await handle.terminate(`orphaned on task queue ${d.taskQueue} (no pollers); restarted on ${taskQueue}`).catch(() => undefined);
        handle = await start();
      }
    }
    out.push({ consumer: c.name, workflowId, runId: handle.firstExecutionRunId });
  }
  return out;
}

/**
 * A poller counts as a live worker when it polled within this long. A live worker's long poll returns within about a
 * minute and it polls again; the server lists a worker that is gone for several minutes more (seen: over 6).
 */
const POLLED_WITHIN_MS = 2 * 60_000;

/** Ends the consumer's open ingest workflows that wait on a task queue other than ours which no worker polls. */
async function endOrphanedIngests(client: Client, consumer: string, taskQueue: string, log?: Logger): Promise<void> {
  const served = new Map<string, Promise<boolean>>();
  const open = client.workflow.list({ query: `WorkflowId STARTS_WITH "ingest/${consumer}/" AND ExecutionStatus = "Running"` });
  for await (const wf of open) {
    if (wf.taskQueue === taskQueue || !isIngestWorkflowIdOf(consumer, wf.workflowId)) continue;
    if (!served.has(wf.taskQueue)) served.set(wf.taskQueue, hasPollers(client, wf.taskQueue, POLLED_WITHIN_MS));
    if (await served.get(wf.taskQueue)) continue;
    log?.warn({ workflowId: wf.workflowId, itsTaskQueue: wf.taskQueue, taskQueue }, 'an ingest workflow was orphaned on a task queue without workers; ending it (the consumer describes its ranges again here)');
    await client.workflow
      .getHandle(wf.workflowId, wf.runId)
      .terminate(`orphaned on task queue ${wf.taskQueue} (no pollers); its ranges are described again on ${taskQueue}`)
      .catch(() => undefined);
  }
}

/** The worker's start-up call: every consumer workflow started, retried in the background until it is. */
export function keepEnsuringConsumers(client: Client, registry: ConsumerRegistry, taskQueue: string, log: Logger): () => void {
  return keepTrying(
    'start the consumer workflows',
    async () => {
      const runs = await ensureConsumerWorkflows(client, registry.list(), taskQueue, log);
      if (runs.length > 0) log.info({ consumers: runs }, 'consumer workflows running');
    },
    log,
  );
}
