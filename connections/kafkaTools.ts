import { Admin, Consumer, ListOffsetTimestamps, Producer } from '@platformatic/kafka';
import type { Env } from '../config/env';
import { kafkaClientOptions } from './kafka';

/**
 * The Kafka housekeeping of scripts, tests and the bench (topics, group offsets, high watermarks, a producer) on one
 * set of @platformatic/kafka clients, opened on first use and closed together.
 */
export class KafkaTools {
  private admin_: Admin | undefined;
  private offsets_: Consumer | undefined;
  private producer_: Producer | undefined;
  private readonly options;

  constructor(env: Env, clientId: string) {
    this.options = kafkaClientOptions(env, clientId);
  }

  get admin(): Admin {
    this.admin_ ??= new Admin(this.options);
    return this.admin_;
  }

  /**
   * Produces to explicit partitions and never creates topics. Idempotent, so a send retried after a timeout cannot
   * write its messages twice: the tests count exactly what was produced.
   */
  get producer(): Producer {
    this.producer_ ??= new Producer({ ...this.options, autocreateTopics: false, idempotent: true });
    return this.producer_;
  }

  /** Offset look-ups only: this client never joins a group (the id is required by its constructor). */
  private get offsets(): Consumer {
    this.offsets_ ??= new Consumer({ ...this.options, groupId: `${this.options.clientId}.offsets` });
    return this.offsets_;
  }

  async topics(): Promise<string[]> {
    return this.admin.listTopics();
  }

  /** Creates the topic unless it exists (false then), and waits until every partition has a leader. */
  async createTopic(topic: string, partitions: number): Promise<boolean> {
    if ((await this.topics()).includes(topic)) return false;
    await this.admin.createTopics({ topics: [topic], partitions, replicas: 1 });
    for (let i = 0; ; i++) {
      const t = (await this.admin.metadata({ topics: [topic], forceUpdate: true })).topics.get(topic);
      if (t && t.partitionsCount === partitions && t.partitions.every((p) => p.leader >= 0)) return true;
      if (i >= 50) throw new Error(`topic ${topic} has no leader for every partition after 10 s`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }

  async partitionCount(topic: string): Promise<number> {
    return (await this.admin.metadata({ topics: [topic] })).topics.get(topic)!.partitionsCount;
  }

  /** The offset the next produced message of each partition gets, by partition number. */
  async highWatermarks(topic: string): Promise<bigint[]> {
    return (await this.offsets.listOffsets({ topics: [topic], timestamp: ListOffsetTimestamps.LATEST })).get(topic) ?? [];
  }

  /** The first offset each partition still holds (retention deletes below it), by partition number. */
  async lowWatermarks(topic: string): Promise<bigint[]> {
    return (await this.offsets.listOffsets({ topics: [topic], timestamp: ListOffsetTimestamps.EARLIEST })).get(topic) ?? [];
  }

  /** The group's committed offsets of a topic, by partition (partitions without a commit are absent). */
  async committedOffsets(group: string, topic: string): Promise<Map<number, bigint>> {
    const out = new Map<number, bigint>();
    for (const g of await this.admin.listConsumerGroupOffsets({ groups: [group] })) {
      for (const t of g.topics) if (t.name === topic) for (const p of t.partitions) if (p.committedOffset >= 0n) out.set(p.partitionIndex, p.committedOffset);
    }
    return out;
  }

  /** Group lag of a topic: high watermarks minus committed offsets (a partition without a commit counts in full). */
  async groupLag(group: string, topic: string): Promise<number> {
    const [high, committed] = await Promise.all([this.highWatermarks(topic), this.committedOffsets(group, topic)]);
    return high.reduce((n, h, p) => n + Number(h - (committed.get(p) ?? 0n)), 0);
  }

  /** `Empty`, `Stable`, `PreparingRebalance`, ... or `Dead` for a group the broker does not know. */
  async groupState(group: string): Promise<string> {
    return (await this.admin.describeGroups({ groups: [group] })).get(group)?.state ?? 'Dead';
  }

  async deleteGroups(groups: string[]): Promise<void> {
    if (groups.length > 0) await this.admin.deleteGroups({ groups });
  }

  /** Deletes the topics that exist; the others are not an error. */
  async deleteTopics(topics: string[]): Promise<void> {
    const existing = new Set(await this.topics());
    const present = topics.filter((t) => existing.has(t));
    if (present.length > 0) await this.admin.deleteTopics({ topics: present });
  }

  async close(): Promise<void> {
    await Promise.all([this.admin_?.close(), this.offsets_?.close(), this.producer_?.close()].map((p) => p?.catch(() => undefined)));
    this.admin_ = this.offsets_ = this.producer_ = undefined;
  }
}
