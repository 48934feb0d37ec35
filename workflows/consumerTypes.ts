// Pure types of the stream half, shared by workflow code, activities and clients; no runtime imports.

/** Activity options of a consumer workflow, resolved from its definition when the worker starts it. */
export interface ConsumerWorkflowSettings {
  heartbeatTimeoutMs: number;
  retryInitialIntervalMs: number;
  retryMaximumIntervalMs: number;
  continueAsNewAfterReports: number;
}

export interface IngestWorkflowSettings {
  retryInitialIntervalMs: number;
  retryMaximumIntervalMs: number;
  continueAsNewAfterBatches: number;
}

export interface PartitionLag {
  topic: string;
  partition: number;
  /** The group's committed offset (the next message to read); null before the first commit. */
  committed: string | null;
  /** High watermark: the offset the next produced message gets. */
  high: string;
  lag: number;
}

export interface ConsumerCounts {
  messages: number;
  rows: number;
  deadLetters: number;
  signals: number;
}

/** What the consumer activity reports to its workflow when something changed (also its heartbeat details). */
export interface ConsumerReport {
  at: string;
  host: { pid: number; hostname: string };
  attempt: number;
  partitions: PartitionLag[];
  lag: number;
  /** Counts since the previous report of the same activity attempt (redeliveries after a crash count again). */
  delta: ConsumerCounts;
}

export interface ConsumerCarried {
  paused: boolean;
  /** Runs of this workflow chain before this one (continue-as-new count). */
  generation: number;
  report?: ConsumerReport;
  totals: ConsumerCounts;
  startedAt: string;
  lastError?: string;
}

export interface ConsumerWorkflowInput {
  consumer: string;
  settings: ConsumerWorkflowSettings;
  carried?: ConsumerCarried;
}

export interface ConsumerStatus {
  consumer: string;
  state: 'running' | 'paused' | 'backing_off';
  generation: number;
  reportsThisRun: number;
  historyLength: number;
  /** Total lag over all partitions at the last report; null before the first one. */
  lag: number | null;
  partitions: PartitionLag[];
  host: ConsumerReport['host'] | null;
  reportedAt: string | null;
  totals: ConsumerCounts;
  startedAt: string;
  lastError: string | null;
}

/** A decoded message for a batch writer: the handler's row plus its Kafka offset. */
export type IngestRow = Record<string, unknown> & { offset: string };

/** One signal into an ingest workflow: consecutive valid messages of one partition, in offset order. */
export interface IngestBatch {
  topic: string;
  partition: number;
  firstOffset: string;
  lastOffset: string;
  rows: IngestRow[];
  /** Serialized size, so the workflow can bound what it carries across continue-as-new. */
  bytes: number;
}

export interface IngestTotals {
  batches: number;
  rows: number;
  inserted: number;
  duplicates: number;
}

export interface IngestCarried {
  pending: IngestBatch[];
  generation: number;
  totals: IngestTotals;
  /** Highest offset written per `topic/partition`; for progress only (writes are idempotent, not skipped). */
  writtenUpTo: Record<string, string>;
}

export interface IngestWorkflowInput {
  consumer: string;
  handler: string;
  settings: IngestWorkflowSettings;
  carried?: IngestCarried;
}

export interface IngestProgress {
  consumer: string;
  generation: number;
  pendingBatches: number;
  /** Serialized size of the batches not yet written; the consumer holds back while it is over its limit. */
  pendingBytes: number;
  batchesThisRun: number;
  historyLength: number;
  totals: IngestTotals;
  writtenUpTo: Record<string, string>;
  lastError: string | null;
}

export interface WriteBatchesInput {
  consumer: string;
  handler: string;
  batches: IngestBatch[];
}

export interface WriteBatchesResult {
  rows: number;
  inserted: number;
}
