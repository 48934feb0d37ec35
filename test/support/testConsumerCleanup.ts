import type { Client } from '@temporalio/client';
import type { KafkaTools } from '../../connections/kafkaTools';
import { consumerWorkflowId } from '../../workflows/consumerIds';

/**
 * What a test file's consumers leave behind: their long-running workflows (which would otherwise wait forever on a
 * task queue nobody polls), their groups and their topics.
 */
export async function removeTestConsumers(temporal: Client, kafka: KafkaTools, consumers: readonly { name: string; topic: string; group: string }[]): Promise<void> {
  for (const c of consumers) {
    const open = temporal.workflow.list({
      query: `(WorkflowId = "${consumerWorkflowId(c.name)}" OR WorkflowId STARTS_WITH "ingest/${c.name}/") AND ExecutionStatus = "Running"`,
    });
    for await (const wf of open) await temporal.workflow.getHandle(wf.workflowId).terminate('test finished').catch(() => undefined);
  }
  await kafka.deleteGroups(consumers.map((c) => c.group)).catch(() => undefined);
  await kafka.deleteTopics(consumers.map((c) => c.topic)).catch(() => undefined);
}
