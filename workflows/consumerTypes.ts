// Pure types of the stream half, shared by workflow code, activities and clients; no runtime imports.

/**
 * The names of the stream half's workflow types, signals and queries: what the `temporal` CLI and callers without
 * workflow code (the CLI, the API) address them by.
 */
export const CONSUMER_WORKFLOW_TYPE = 'kafkaConsumer';
export const INGEST_WORKFLOW_TYPE = 'consumerIngest';
export const consumerMessages = { pause: 'pause', resume: 'resume', report: 'report', status: 'status', range: 'range', progress: 'progress', ingestWaiting: 'ingestWaiting' } as const;

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
  /** The group's committed offset (the next message to describe); null before the first commit. */
  committed: string | null;
  /** High watermark: the offset the next produced message gets. */
  high: string;
  /** Offsets not yet applied: `high` minus the next offset to apply (reports before this release: minus `committed`). */
  lag: number;
  /** The next offset the consumer will describe (hand to the ingest side); null before the consumer looked. */
  described?: string | null;
  /** The highest offset the ingest side has written (kafka_applied_offsets); null before its first write. */
  applied?: string | null;
  /** Offsets described but not yet written: what the backpressure bound (`maxLead`) limits. */
  lead?: number;
}

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
  /** Whether the consumer saw itself paused (kafka_consumer_controls) when it made the report. */
  paused?: boolean;
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
  startedAt: string;
  lastError?: string;
  waiting?: PartitionWait[];
}

export interface ConsumerWorkflowInput {
  consumer: string;
  settings: ConsumerWorkflowSettings;
  carried?: ConsumerCarried;
}

/**
 * What the consumer workflow itself knows (its `status` query): its state and the activity's last report. The totals,
 * and lag computed at the time of asking, are `scheduled-job consumers status` (Postgres and Kafka, no report).
 */
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
  /** Offsets Kafka's retention deleted before they were read (recorded as `retention` dead letters). */
  lost?: number;
  /** The partition's applied offset after this write: short of the range's end when the write was handed back. */
  appliedOffset: string;
  /** Handed back because the consumer stayed paused until the activity's timeout drew near. */
  paused?: boolean;
}

/** A decoded message for a consumer's writer: the handler's row plus its Kafka offset. */
export type IngestRow = Record<string, unknown> & { offset: string };

/** What an ingest workflow chain has written (each write's result, summed): its `progress`. */
export interface PartitionIngestTotals {
  /** Range writes (activities) completed. */
  batches: number;
  rows: number;
  inserted: number;
  duplicates: number;
  messages?: number;
  deadLetters?: number;
  skipped?: number;
  lost?: number;
}

export interface IngestCarried {
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
  settings: IngestWorkflowSettings;
  carried?: IngestCarried;
}

export interface IngestProgress {
  consumer: string;
  generation: number;
  /** Descriptors accepted and not yet written, and the offsets they cover. */
  pendingRanges: number;
  pendingMessages: number;
  acceptedUpTo: Record<string, string>;
  batchesThisRun: number;
  historyLength: number;
  totals: PartitionIngestTotals;
  writtenUpTo: Record<string, string>;
  lastError: string | null;
}
