import { Consumer, ListOffsetTimestamps, type ClusterMetadata } from '@platformatic/kafka';
import type { Env } from '../config/env';
import { kafkaClientOptions } from '../connections/kafka';

/** Messages of one fetch, inside the requested range, in offset order. */
export interface RangeChunk {
  offsets: bigint[];
  values: (Buffer | null)[];
  /** The last offset this chunk accounts for (past transaction markers and compacted gaps), at most the range's end. */
  upTo: bigint;
  /** Set when Kafka's retention deleted offsets `first`..`upTo` before they could be read: the chunk has no messages. */
  lostFrom?: bigint;
}

// Bit 5 of a record batch's attributes marks a control batch (transaction commit and abort markers): no messages.
const IS_CONTROL = 0x20;
/**
 * Bytes per fetch: about 5,000 curated-program events, one write transaction's worth; two fetches are in memory per
 * partition at most. 512 KiB took a 200,000-message drain's worker to 272–293 MiB, this 261–274 (BENCHMARKS.md).
 */
const FETCH_BYTES = 256 * 1024;
const EMPTY_FETCHES_BEFORE_FAILING = 20;

/**
 * Reads fixed offset ranges of a partition by fetching at an offset from the partition's leader: manual assignment,
 * no consumer group, so reading a range costs no group join or rebalance. One per worker: every ingest activity
 * shares its connections.
 */
export class KafkaRangeReader {
  private client: Consumer | undefined;

  constructor(private readonly env: Env) {}

  private consumer(): Consumer {
    // The group id is required by the client's constructor and never used: this client never joins a group.
    this.client ??= new Consumer({ ...kafkaClientOptions(this.env, 'scheduled-job.range-reader'), groupId: 'scheduled-job.range-reader.unused' });
    return this.client;
  }

  /**
   * Yields the messages of offsets `from`..`to` (inclusive) one fetch at a time, fetching the next chunk while the
   * caller works on the current one. Throws when the partition cannot be read (the caller's retry decides).
   */
  async *read(topic: string, partition: number, from: bigint, to: bigint): AsyncGenerator<RangeChunk> {
    if (from > to) return;
    let next: Promise<RangeChunk> | undefined = this.fetchChunk(topic, partition, from, to);
    while (next) {
      const chunk: RangeChunk = await next;
      next = chunk.upTo < to ? this.fetchChunk(topic, partition, chunk.upTo + 1n, to) : undefined;
      // A read-ahead that fails while the caller still works is reported when awaited, not as an unhandled rejection.
      next?.catch(() => undefined);
      yield chunk;
    }
  }

  private async fetchChunk(topic: string, partition: number, from: bigint, to: bigint): Promise<RangeChunk> {
    for (let attempt = 1; ; attempt++) {
      const metadata = await this.metadata(topic, attempt > 1);
      const t = metadata.topics.get(topic);
      const p = t?.partitions[partition];
      if (!t || !p) throw new Error(`topic ${topic} has no partition ${partition}`);
      let response;
      try {
        response = await this.consumer().fetch({
          node: p.leader,
          minBytes: 1,
          maxBytes: FETCH_BYTES,
          maxWaitTime: 500,
          topics: [{ topicId: t.id, partitions: [{ partition, currentLeaderEpoch: -1, fetchOffset: from, lastFetchedEpoch: -1, partitionMaxBytes: FETCH_BYTES }] }],
        });
      } catch (err) {
        if (isOffsetOutOfRange(err)) {
          const lost = await this.lostBefore(topic, partition, from, to);
          if (lost) return lost;
        }
        // A moved leader or a restarting broker: fresh metadata and a few quick tries before the activity retries.
        if (attempt >= 5) throw err;
        await new Promise((r) => setTimeout(r, 200 * attempt));
        continue;
      }
      const res = response.responses[0]?.partitions[0];
      if (!res) throw new Error(`fetch of ${topic}/${partition} at ${from} returned no partition`);
      const chunk: RangeChunk = { offsets: [], values: [], upTo: from - 1n };
      for (const batch of res.records ?? []) {
        const batchEnd = batch.firstOffset + BigInt(batch.lastOffsetDelta);
        if (batchEnd < from) continue;
        if ((batch.attributes & IS_CONTROL) === 0) {
          for (const record of batch.records) {
            const offset = batch.firstOffset + BigInt(record.offsetDelta);
            // Fetches return whole record batches, so the first may start before `from` and the last end after `to`.
            if (offset < from || offset > to) continue;
            chunk.offsets.push(offset);
            chunk.values.push(record.value ?? null);
          }
        }
        chunk.upTo = batchEnd < to ? batchEnd : to;
      }
      if (chunk.upTo >= from) return chunk;
      if (attempt >= EMPTY_FETCHES_BEFORE_FAILING) {
        throw new Error(`offsets ${from}-${to} of ${topic}/${partition} cannot be read (high watermark ${res.highWatermark}, log start ${res.logStartOffset})`);
      }
      // Nothing readable at `from` yet (a new leader catching up after a broker restart): wait a little.
      await new Promise((r) => setTimeout(r, 200));
    }
  }

  /**
   * The chunk of offsets from `from` that Kafka's retention deleted (the partition's log now starts past `from`), or
   * undefined when `from` is out of range for another reason (past the end: the fetch is retried).
   */
  private async lostBefore(topic: string, partition: number, from: bigint, to: bigint): Promise<RangeChunk | undefined> {
    const starts = await this.consumer().listOffsets({ topics: [topic], partitions: { [topic]: [partition] }, timestamp: ListOffsetTimestamps.EARLIEST });
    const logStart = starts.get(topic)?.[partition];
    if (logStart === undefined || logStart <= from) return undefined;
    return { offsets: [], values: [], upTo: logStart - 1n < to ? logStart - 1n : to, lostFrom: from };
  }

  private async metadata(topic: string, forceUpdate: boolean): Promise<ClusterMetadata> {
    return this.consumer().metadata({ topics: [topic], forceUpdate });
  }

  async close(): Promise<void> {
    await this.client?.close().catch(() => undefined);
    this.client = undefined;
  }
}

/** Kafka's OFFSET_OUT_OF_RANGE for the partition fetched: the offset is before the log's start or past its end. */
function isOffsetOutOfRange(err: unknown): boolean {
  const errors = (err as { errors?: { apiId?: string }[] } | undefined)?.errors;
  return Array.isArray(errors) && errors.some((e) => e?.apiId === 'OFFSET_OUT_OF_RANGE');
}
