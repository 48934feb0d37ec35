import type { Duration } from '@temporalio/common';
import type { WireFormat } from './avro';
import type { ConsumerHandler } from './handler';

/**
 * A Kafka consumer: its topics, consumer group and handler. The worker runs one
 * long-running Temporal workflow per consumer, `consumer/<name>`, which hosts the consumer in a heartbeating activity
 * and signals batch descriptors (offset ranges) into per-partition ingest workflows, which read and write them.
 */
export interface ConsumerDefinition {
  /** lower_snake_case; the workflow ID is `consumer/<name>`, so the name is also the consumer's lock. */
  name: string;
  description: string;
  topics: string[];
  groupId: string;
  /** How messages decode and rows are stored: a handler (`defineConsumerHandler`), or the name of a shipped one. */
  handler: ConsumerHandler | string;
  /** `avro-raw`: Avro binary of `schema`; `confluent`: magic byte 0 + 4-byte schema id + Avro binary. */
  wireFormat: WireFormat;
  /** The writer schema: a file in `consumers/schemas/`, or a path. It must resolve to the handler's reader schema. */
  schema: string;
  /** Confluent only: schema ids accepted in the header (others are dead-lettered); any id when omitted. */
  schemaIds?: number[];
  /** Where a group without committed offsets starts: the earliest offset (true, the default) or only new messages. */
  fromBeginning?: boolean;
  /** Most messages per Postgres transaction on the ingest side (default 5000). */
  batchSize?: number;
  /** Most offsets one descriptor covers (default 50,000): a large backlog goes in large ranges, light traffic in small ones. */
  rangeMaxMessages?: number;
  /**
   * Backpressure: the consumer describes no more than this many offsets of a partition ahead of what the ingest side
   * has written (default 200,000). Shown in `status` as `maxLead`.
   */
  maxLead?: number;
  /** Partitions per ingest workflow (default 1: one ingest workflow per partition). */
  partitionsPerIngestWorkflow?: number;
  /** An ingest workflow continues as new after this many descriptors (default 500), or earlier when Temporal suggests it. */
  ingestContinueAsNewAfter?: number;
  /** The consumer workflow continues as new after this many status reports (default 1000), or when suggested. */
  continueAsNewAfterReports?: number;
  timeouts?: {
    /** Temporal heartbeat timeout of the consumer activity (default 20s): the fail-over time. */
    heartbeat?: Duration;
    /**
     * How often the consumer reports lag and lead to its workflow while something changes (default 5s); also the
     * heartbeat timeout of the ingest side's range activity is `heartbeat`.
     */
    report?: Duration;
  };
  /** Backoff of the activity retries (unlimited attempts): default 1s doubling to 30s. */
  retry?: { initialInterval?: Duration; maximumInterval?: Duration };
}

export function defineConsumer(def: ConsumerDefinition): ConsumerDefinition {
  return def;
}
