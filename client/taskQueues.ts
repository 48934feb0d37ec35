import type { Client } from '@temporalio/client';

/**
 * Whether any worker polled `taskQueue` recently. The server lists a poller for a few minutes after it stopped; with
 * `seenWithinMs`, only pollers seen that recently count (a live worker polls again within about a minute).
 */
export async function hasPollers(client: Client, taskQueue: string, seenWithinMs?: number): Promise<boolean> {
  // 1 and 2 are TASK_QUEUE_TYPE_WORKFLOW and TASK_QUEUE_TYPE_ACTIVITY (temporal.api.enums.v1.TaskQueueType).
  for (const taskQueueType of [1, 2]) {
    const res = await client.workflowService.describeTaskQueue({
      namespace: client.options.namespace,
      taskQueue: { name: taskQueue },
      taskQueueType,
    });
    const seen = (res.pollers ?? []).map((p) => Number(p.lastAccessTime?.seconds ?? 0) * 1000);
    if (seen.some((t) => seenWithinMs === undefined || Date.now() - t <= seenWithinMs)) return true;
  }
  return false;
}
