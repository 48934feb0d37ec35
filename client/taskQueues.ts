import type { Client } from '@temporalio/client';

/** Whether any worker polled `taskQueue` recently (the server forgets pollers after a few minutes). */
export async function hasPollers(client: Client, taskQueue: string): Promise<boolean> {
  // 1 and 2 are TASK_QUEUE_TYPE_WORKFLOW and TASK_QUEUE_TYPE_ACTIVITY (temporal.api.enums.v1.TaskQueueType).
  for (const taskQueueType of [1, 2]) {
    const res = await client.workflowService.describeTaskQueue({
      namespace: client.options.namespace,
      taskQueue: { name: taskQueue },
      taskQueueType,
    });
    if ((res.pollers?.length ?? 0) > 0) return true;
  }
  return false;
}
