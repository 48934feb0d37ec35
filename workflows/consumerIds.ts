// Workflow-ID conventions of the stream half; pure, so workflows, activities and clients compute them the same way.

/** The consumer's long-running workflow; one per consumer name, which makes the ID its lock. */
export function consumerWorkflowId(consumer: string): string {
  return `consumer/${consumer}`;
}

/**
 * The ingest workflow a partition's batches go to: `ingest/<consumer>/<topic>/<partition>`, or with several
 * partitions per workflow `ingest/<consumer>/<topic>/<first>-<last>`.
 */
export function ingestWorkflowId(consumer: string, topic: string, partition: number, partitionsPerWorkflow = 1): string {
  if (partitionsPerWorkflow <= 1) return `ingest/${consumer}/${topic}/${partition}`;
  const first = Math.floor(partition / partitionsPerWorkflow) * partitionsPerWorkflow;
  return `ingest/${consumer}/${topic}/${first}-${first + partitionsPerWorkflow - 1}`;
}

/** Whether `id` has the shape `ingestWorkflowId` gives the ingest workflows of `consumer`. */
export function isIngestWorkflowIdOf(consumer: string, id: string): boolean {
  const prefix = `ingest/${consumer}/`;
  return id.startsWith(prefix) && /^.+\/\d+(-\d+)?$/.test(id.slice(prefix.length));
}
