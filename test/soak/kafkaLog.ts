import { createHash } from 'node:crypto';
import { Admin, Consumer, ListOffsetTimestamps, type BaseOptions } from '@platformatic/kafka';

/**
 * The checker's own view of Kafka, through the client library alone (none of the product's Kafka code): the topic's
 * high watermarks, the consumer group's committed offsets, and every message of an offset range, each reduced to a
 * key of its bytes that the producer's ledger knows.
 */
export function kafkaOptions(brokers: string, clientId: string): BaseOptions {
  return { clientId, bootstrapBrokers: brokers.split(','), retries: 3, retryDelay: 300, timeout: 30_000 };
}

/** What the producer's ledger files a message under: its bytes (a tombstone has none). */
export function messageKey(value: Buffer | null | undefined): string {
  if (value === null || value === undefined) return 'tombstone';
  return createHash('sha1').update(value).digest('base64');
}

export class KafkaView {
  private readonly admin: Admin;

  constructor(private readonly brokers: string) {
    this.admin = new Admin(kafkaOptions(brokers, 'soak-checker'));
  }

  async ensureTopic(topic: string, partitions: number): Promise<number> {
    if (!(await this.admin.listTopics()).includes(topic)) {
      await this.admin.createTopics({ topics: [topic], partitions, replicas: 1 }).catch((err: unknown) => {
        if (!/exist/i.test(String((err as Error).message) + JSON.stringify(err))) throw err;
      });
    }
    for (let i = 0; ; i++) {
      const t = (await this.admin.metadata({ topics: [topic], forceUpdate: true })).topics.get(topic);
      if (t && t.partitions.every((p) => p.leader >= 0)) return t.partitionsCount;
      if (i >= 100) throw new Error(`topic ${topic} has no leader for every partition after 20 s`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }

  /** The offset the next message of each partition gets. */
  async highWatermarks(topic: string, partitions: number): Promise<bigint[]> {
    const res = await this.admin.listOffsets({
      topics: [{ name: topic, partitions: [...Array(partitions).keys()].map((p) => ({ partitionIndex: p, timestamp: ListOffsetTimestamps.LATEST })) }],
    });
    const out = Array.from({ length: partitions }, () => -1n);
    for (const t of res) for (const p of t.partitions) out[p.partitionIndex] = p.offset;
    if (out.some((o) => o < 0n)) throw new Error(`no high watermark for every partition of ${topic}: ${out.join(', ')}`);
    return out;
  }

  /** The group's committed offsets of a topic (partitions without a commit are -1). */
  async committed(group: string, topic: string, partitions: number): Promise<bigint[]> {
    const out = Array.from({ length: partitions }, () => -1n);
    for (const g of await this.admin.listConsumerGroupOffsets({ groups: [group] })) {
      for (const t of g.topics) if (t.name === topic) for (const p of t.partitions) out[p.partitionIndex] = p.committedOffset;
    }
    return out;
  }

  /** Every message at offsets from[p] .. to[p]-1 of each partition, by partition and offset, as ledger keys. */
  async read(topic: string, from: bigint[], to: bigint[]): Promise<{ partition: number; offset: bigint; key: string }[]> {
    const wanted = from.map((f, p) => ({ p, f, t: to[p]! })).filter((x) => x.t > x.f);
    if (wanted.length === 0) return [];
    const consumer = new Consumer({ ...kafkaOptions(this.brokers, 'soak-checker-reader'), groupId: `soak-checker-${Date.now()}` });
    const out: { partition: number; offset: bigint; key: string }[] = [];
    const next = new Map(wanted.map((x) => [x.p, x.f]));
    try {
      const stream = await consumer.consume({
        topics: [topic],
        mode: 'manual',
        offsets: wanted.map((x) => ({ topic, partition: x.p, offset: x.f })),
        autocommit: false,
        maxWaitTime: 500,
      });
      const done = () => wanted.every((x) => next.get(x.p)! >= x.t);
      // A partition that never reaches its end would keep the loop waiting: closing the stream ends it.
      const timer = setTimeout(() => void stream.close().catch(() => undefined), 300_000);
      try {
        for await (const m of stream) {
          if (m.offset >= from[m.partition]! && m.offset < to[m.partition]! && m.offset >= next.get(m.partition)!) {
            out.push({ partition: m.partition, offset: m.offset, key: messageKey(m.value as Buffer | null | undefined) });
            next.set(m.partition, m.offset + 1n);
          }
          if (done()) break;
        }
      } finally {
        clearTimeout(timer);
        await stream.close().catch(() => undefined);
      }
      if (!done()) throw new Error(`reading ${topic} back stopped short after 300 s (next offsets ${[...next].map(([p, o]) => `${p}:${o}`).join(', ')})`);
    } finally {
      await consumer.close(true).catch(() => undefined);
    }
    return out;
  }

  async close(): Promise<void> {
    await this.admin.close().catch(() => undefined);
  }
}
