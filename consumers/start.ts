import type { Client } from '@temporalio/client';
import { keepTrying } from '../client/keepTrying';
import { hasPollers } from '../client/taskQueues';
import type { Logger } from '../observability/logger';
import { kafkaConsumer } from '../workflows/consumers';
import { consumerWorkflowId } from '../workflows/consumerIds';
import type { ConsumerRegistry, ResolvedConsumer } from './registry';

/**
 * Makes sure each consumer's long-running workflow runs: an idempotent start (USE_EXISTING), so any number of
 * workers may call it at once and a running consumer is left alone. Returns the run of each consumer.
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
    const start = () =>
      client.workflow.start(kafkaConsumer, {
        workflowId,
        taskQueue,
        args: [{ consumer: c.name, settings: c.workflow }],
        workflowIdConflictPolicy: 'USE_EXISTING',
        workflowIdReusePolicy: 'ALLOW_DUPLICATE',
      });
    let handle = await start();
    // A run started by workers of another task queue holds the ID (the lock) but only that queue serves it. When no
    // worker has polled that queue for minutes (a test's or a retired deployment's queue), the consumer would never
    // run again: move it here. Its state is only status and offsets are in Kafka, so nothing is lost.
    const d = await handle.describe();
    if (d.taskQueue !== taskQueue) {
      if (await hasPollers(client, d.taskQueue)) {
        log?.warn({ workflowId, itsTaskQueue: d.taskQueue, taskQueue }, 'the consumer workflow runs on another task queue, which has workers; leaving it there');
      } else {
        log?.warn({ workflowId, itsTaskQueue: d.taskQueue, taskQueue }, 'the consumer workflow was orphaned on a task queue without workers; moving it here');
        await handle.terminate(`orphaned on task queue ${d.taskQueue} (no pollers); restarted on ${taskQueue}`).catch(() => undefined);
        handle = await start();
      }
    }
    out.push({ consumer: c.name, workflowId, runId: handle.firstExecutionRunId });
  }
  return out;
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
