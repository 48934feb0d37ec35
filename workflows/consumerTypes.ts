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
  /** Counted in descriptors (signals) received. */
  continueAsNewAfterBatches: number;
  /** Heartbeat timeout of the range activity: how soon a range moves to another worker when its worker dies. */
  heartbeatTimeoutMs?: number;
}

export interface PartitionLag {
  topic: string;
  partition: number;
  /** The group's committed offset (the next message to read); null before the first commit. */
  committed: string | null;
  /** High watermark: the offset the next produced message gets. */
  high: string;
  lag: number;
  /** The next offset the consumer will describe (hand to the ingest side); null before the consumer looked. */
  described?: string | null;
  /** The highest offset the ingest side has written (kafka_applied_offsets); null before its first write. */
  applied?: string | null;
  /** Offsets described but not yet written: what the backpressure bound (`maxLead`) limits. */
  lead?: number;
}

/**
 * The consumer's counts. Since batches became descriptors the consumer no longer decodes: `messages` counts offsets
 * described and `signals` descriptors sent; rows and dead letters are the ingest workflows' (`progress`).
 */
export interface ConsumerCounts {
  messages: number;
  rows: number;
  deadLetters: number;
  signals: number;
}

export const zeroConsumerCounts = (): ConsumerCounts => ({ messages: 0, rows: 0, deadLetters: 0, signals: 0 });

/** What the consumer activity reports to its workflow when something changed (also its heartbeat details). */
export interface ConsumerReport {
  at: string;
  host: { pid: number; hostname: string };
  attempt: number;
  partitions: PartitionLag[];
  lag: number;
  /** Sum of the partitions' leads, and the bound per partition the consumer keeps it under. */
  lead?: number;
  maxLead?: number;
  /** Counts since the previous report of the same activity attempt (redeliveries after a crash count again). */
  delta: ConsumerCounts;
}

/**
 * A partition whose ingest waits on a dependency without which it cannot decide what its messages are (the schema
 * registry), sent by the ingest activity when the wait starts (`reason`) and when it ends (`reason: null`).
 */
export interface PartitionWait {
  topic: string;
  partition: number;
  reason: string | null;
  /** When the ingest activity saw it (ISO-8601). */
  at: string;
}

export interface ConsumerCarried {
  paused: boolean;
  /** Runs of this workflow chain before this one (continue-as-new count). */
  generation: number;
  report?: ConsumerReport;
  totals: ConsumerCounts;
  startedAt: string;
  lastError?: string;
  waiting?: PartitionWait[];
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
  /** Offsets described to the ingest side and not yet written, over all partitions, at the last report. */
  lead: number | null;
  /** The backpressure bound: the consumer describes no further than this many offsets ahead of a partition's writes. */
  maxLead: number | null;
  host: ConsumerReport['host'] | null;
  reportedAt: string | null;
  totals: ConsumerCounts;
  startedAt: string;
  lastError: string | null;
  /** Partitions whose ingest is waiting, and on what (the schema registry unreachable), since when; empty when none. */
  waiting: { topic: string; partition: number; reason: string; since: string }[];
}

/**
 * A batch descriptor: one signal into an ingest workflow. It names an offset range of one partition; the messages
 * stay in Kafka (the claim-check store) and the ingest side reads them there.
 */
export interface KafkaRange {
  topic: string;
  partition: number;
  firstOffset: string;
  lastOffset: string;
  /** lastOffset - firstOffset + 1 (offsets, including any transaction markers among them). */
  messages: number;
}

export interface RangeIngestInput {
  consumer: string;
  topic: string;
  partition: number;
  firstOffset: string;
  lastOffset: string;
}

export interface RangeIngestResult {
  /** Messages read and decoded (offsets at or below the applied offset are skipped, not read). */
  messages: number;
  rows: number;
  inserted: number;
  deadLetters: number;
  /** Offsets of the range that an earlier write had already applied. */
  skipped: number;
  /** The partition's applied offset after this write. */
  appliedOffset: string;
}

/** A decoded message for a batch writer: the handler's row plus its Kafka offset. */
export type IngestRow = Record<string, unknown> & { offset: string };

/**
 * Before descriptors: one signal of decoded rows. Only runs started before the change (and consumer activities of
 * workers not yet upgraded) send these; the ingest workflow still writes them (see consumerIngest).
 */
export interface IngestBatch {
  topic: string;
  partition: number;
  firstOffset: string;
  lastOffset: string;
  rows: IngestRow[];
  /** Serialized size, so the workflow can bound what it carries across continue-as-new. */
  bytes: number;
}

export interface PartitionIngestTotals {
  /** Writes done: ranges (and row batches of the old flow). */
  batches: number;
  rows: number;
  inserted: number;
  duplicates: number;
  messages?: number;
  deadLetters?: number;
  skipped?: number;
}

export interface IngestCarried {
  /** Row batches of the old flow not yet written (empty once every sender runs the descriptor flow). */
  pending: IngestBatch[];
  /** Descriptors accepted and not yet written, in order. */
  ranges?: KafkaRange[];
  /** Highest offset accepted per `topic/partition`: a descriptor at or below it is a redelivery and is dropped. */
  acceptedUpTo?: Record<string, string>;
  generation: number;
  totals: PartitionIngestTotals;
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
  /** Serialized size of the old flow's row batches not yet written. */
  pendingBytes: number;
  /** Descriptors accepted and not yet written, and the offsets they cover. */
  pendingRanges?: number;
  pendingMessages?: number;
  acceptedUpTo?: Record<string, string>;
  batchesThisRun: number;
  historyLength: number;
  totals: PartitionIngestTotals;
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
