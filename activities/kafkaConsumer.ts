import os from 'node:os';
import { Admin, Consumer, ListOffsetTimestamps } from '@platformatic/kafka';
import { Context } from '@temporalio/activity';
import type { Client } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import type { DataSource } from 'typeorm';
import type { Env } from '../config/env';
import { kafkaClientOptions, kafkaErrorText } from '../connections/kafka';
import { ingestWorkflowId } from '../workflows/consumerIds';
import type { ConsumerRegistry, ResolvedConsumer } from '../consumers/registry';
import { logger } from '../observability/logger';
import { backoffMs } from '../domain/backoff';
import { consumerProgress, ensureConsumerControl, recordConsumerHost, startAppliedOffset } from '../consumers/store';
import { events } from '../observability/events';
import { consumerReportSignal, consumerIngestWorkflowType, ingestRangeSignalName } from '../workflows/consumerSignals';
import type { ConsumerReport, IngestWorkflowInput, KafkaRange, PartitionLag } from '../workflows/consumerTypes';

interface Deps {
  ds: DataSource;
  consumers: ConsumerRegistry;
  env: Env;
  /** Signals descriptors into ingest workflows and reports into the consumer's own workflow. */
  temporal: Client;
  taskQueue: string;
  /**
   * Aborted when the worker starts a graceful shutdown: the consumer stops at once and the attempt fails retryably,
   * so Temporal restarts it on another worker without waiting for the shutdown grace time.
   */
  shutdownSignal?: AbortSignal;
}

/** How often the consumer looks for new messages while there is nothing to describe (light traffic's latency). */
const POLL_MS = 200;
/**
 * How often the activity writes that it is alive (kafka_consumer_hosts): `consumers status` calls a consumer `stale`
 * when this has not happened for STALE_AFTER_MS (client/consumersClient.ts).
 */
export const HOST_REPORT_MS = 1_000;
/** The window of the messages-per-second figure. */
const RATE_WINDOW_MS = 60_000;
/**
 * A partition whose applied offset has not moved for this long while offsets are handed over gets them described
 * again: an ingest workflow that was lost (ended on a dead task queue, terminated by hand) gets a new one. A live one
 * drops the descriptor as a redelivery.
 */
const REDESCRIBE_AFTER_MS = 60_000;

/** The consumer side of the stream half: one activity that describes new offsets for as long as it is not cancelled. */
export function createKafkaConsumerActivities(deps: Deps) {
  return {
    /**
     * Describes the consumer's topics until cancelled (pause, continue-as-new, worker shutdown, or a heartbeat timeout
     * that made Temporal run it elsewhere). Per partition: the offsets between what it described and the high
     * watermark become a descriptor signalled into the partition's ingest workflow, and only once that signal is
     * accepted is the group offset committed. A crash at any point describes the range again from the committed
     * offset; the ingest workflow drops what it had already accepted. While its consumer is paused
     * (kafka_consumer_controls) it describes nothing and keeps reporting.
     */
    async consumeKafka(input: { consumer: string }): Promise<void> {
      const ctx = Context.current();
      // Where to resume is the group's committed offsets in Kafka, not these details: a lost last heartbeat cannot
      // move them. The previous attempt's details only tell the log who held the consumer before (a fail-over).
      const previous = ctx.info.heartbeatDetails as ConsumerReport | undefined;
      if (!deps.consumers.has(input.consumer)) {
        throw ApplicationFailure.nonRetryable(
          `this worker has no consumer named ${input.consumer}: do all workers load the same CONSUMERS_MODULE?`,
          'UnknownConsumer',
        );
      }
      await new ConsumerSession(deps, deps.consumers.get(input.consumer), ctx).run(previous);
    },
  };
}

export type KafkaConsumerActivities = ReturnType<typeof createKafkaConsumerActivities>;


interface PartitionState {
  topic: string;
  partition: number;
  /** Next offset to describe. */
  next: bigint;
  /** Last offset committed to the group (the next message to read), or null before the first commit. */
  committed: bigint | null;
  high: bigint;
  /** Highest offset the ingest side wrote; -1 before its first write. */
  applied: bigint;
  /** Where this session started describing: the base of the lead until the ingest side writes something. */
  start: bigint;
  /** When `applied` last moved (or this session started): a lead that stays unwritten longer is described again. */
  appliedMovedAt: number;
}

/**
 * One attempt of the consumer activity. The consumer workflow's ID is the lock, so exactly one attempt holds every
 * partition of the consumer's topics: it needs no group membership, and the group exists for its committed offsets
 * (what Kafka tooling shows as the group's lag) only.
 */
class ConsumerSession {
  private stopping = false;
  private paused = false;
  private parts = new Map<string, PartitionState>();
  /** Messages applied (all partitions, from Postgres) at the passes of the last minute: the rate's window. */
  private samples: { at: number; messages: number }[] = [];
  private readonly startedAt = new Date();
  private lastReported = '';
  private readonly host = { pid: process.pid, hostname: os.hostname() };
  private readonly log;
  private readonly admin: Admin;
  private readonly kafka: Consumer;

  constructor(
    private readonly deps: Deps,
    private readonly c: ResolvedConsumer,
    private readonly ctx: Context,
  ) {
    this.log = logger.child({ consumer: c.name, attempt: ctx.info.attempt });
    const options = kafkaClientOptions(deps.env, `scheduled-job.${c.name}`);
    this.admin = new Admin(options);
    // Only for its offset look-ups (high watermarks, committed offsets): it never joins the group nor fetches.
    this.kafka = new Consumer({ ...options, groupId: c.groupId });
  }

  async run(previous: ConsumerReport | undefined): Promise<void> {
    const { c, ctx } = this;
    const takeover = previous !== undefined && (previous.host.pid !== this.host.pid || previous.host.hostname !== this.host.hostname);
    this.log.info(
      { topics: c.topics, groupId: c.groupId, previousHost: previous?.host ?? null },
      takeover ? 'consumer taking over from another worker' : 'consumer starting',
    );
    const stop = new Promise<never>((_, reject) => {
      const onShutdown = () => reject(ApplicationFailure.retryable('the worker is shutting down', 'WorkerShutdown'));
      if (this.deps.shutdownSignal?.aborted) onShutdown();
      this.deps.shutdownSignal?.addEventListener('abort', onShutdown, { once: true });
      ctx.cancelled.catch((err: unknown) => reject(err));
    });
    stop.catch(() => undefined);
    // Every attempt reports once when it starts, so its workflow sees each fail-over (and a test can count it); the
    // consumer does not wait for it.
    void this.report(true).catch((err: unknown) => this.log.warn({ err: (err as Error)?.message ?? err }, 'first report failed'));
    ctx.heartbeat(this.snapshot());
    const heartbeats = setInterval(() => ctx.heartbeat(this.snapshot()), Math.max(500, Math.floor(c.workflow.heartbeatTimeoutMs / 4)));
    // Apart from the passes, so a pass stuck on Kafka or Temporal still says the consumer is alive.
    const hostReports = setInterval(() => void this.reportHost(), HOST_REPORT_MS);
    void this.reportHost();
    let reported = Date.now();
    try {
      for (let failures = 0; ; ) {
        let described = 0;
        try {
          if (this.parts.size === 0) await Promise.race([this.init(), stop]);
          described = await Promise.race([this.step(), stop]);
          failures = 0;
        } catch (err) {
          if (this.stopping || ctx.cancellationSignal.aborted || this.deps.shutdownSignal?.aborted) throw err;
          if (err instanceof ApplicationFailure && !err.nonRetryable && err.type === 'TopicMissing') throw err;
          // Kafka, Postgres or Temporal away: keep the attempt (and its heartbeats) and try again; the offsets not
          // yet committed are described again, and duplicates dropped by the ingest workflow.
          failures++;
          const waitMs = backoffMs({ initialMs: 400, maxMs: 5_000 }, failures);
          if (failures === 1 || failures % 10 === 0) this.log.warn({ err: kafkaErrorText(err), failures, waitMs }, 'describing failed; retrying');
          await Promise.race([sleep(waitMs), stop]);
          continue;
        }
        if (Date.now() - reported >= c.reportEveryMs) {
          reported = Date.now();
          await this.report(false).catch((err: unknown) => this.log.warn({ err: (err as Error)?.message ?? err }, 'report failed; will retry'));
        }
        if (described === 0) await Promise.race([sleep(POLL_MS), stop]);
      }
    } catch (err) {
      this.log.info({ reason: (err as Error)?.message }, 'consumer stopping');
      throw err;
    } finally {
      this.stopping = true;
      clearInterval(heartbeats);
      clearInterval(hostReports);
      await Promise.all([this.admin.close().catch(() => undefined), this.kafka.close().catch(() => undefined)]);
      this.log.info('consumer stopped');
    }
  }

  /**
   * Where each partition resumes: the group's committed offset, else the earliest or latest offset. A partition the
   * consumer has never described gets its applied offset just below where it starts; one whose applied offset is
   * behind what was handed over gets that stretch described again (its ingest workflow may be gone).
   */
  private async init(): Promise<void> {
    const c = this.c;
    const topics = await this.admin.listTopics();
    const missing = c.topics.filter((t) => !topics.includes(t));
    // Consumers never create topics; wait for whoever owns the topic to create it.
    if (missing.length > 0) throw ApplicationFailure.retryable(`topic ${missing.join(', ')} does not exist (yet); retrying`, 'TopicMissing');
    await ensureConsumerControl(this.deps.ds, c.name);
    const [low, high, committed, progress] = await Promise.all([
      this.kafka.listOffsets({ topics: c.topics, timestamp: ListOffsetTimestamps.EARLIEST }),
      this.kafka.listOffsets({ topics: c.topics, timestamp: ListOffsetTimestamps.LATEST }),
      this.committedOffsets(),
      consumerProgress(this.deps.ds, c.name),
    ]);
    const parts = new Map<string, PartitionState>();
    for (const topic of c.topics) {
      const highs = high.get(topic) ?? [];
      for (let partition = 0; partition < highs.length; partition++) {
        const key = `${topic}/${partition}`;
        const at = committed.get(key);
        const start = at ?? (c.fromBeginning ? low.get(topic)![partition]! : highs[partition]!);
        let applied = progress.applied.get(key);
        if (applied === undefined && at === undefined) {
          await startAppliedOffset(this.deps.ds, c.name, topic, partition, start);
          applied = start - 1n;
        }
        parts.set(key, { topic, partition, next: start, committed: at ?? null, high: highs[partition]!, applied: applied ?? -1n, start, appliedMovedAt: Date.now() });
      }
    }
    this.parts = parts;
    this.paused = progress.paused;
    this.log.info({ partitions: [...parts.values()].map((p) => `${p.topic}/${p.partition}@${p.next}`), paused: this.paused }, 'consumer running');
    await this.describeAgain([...parts.values()].filter((p) => p.applied >= 0n && p.applied + 1n < p.next));
  }

  /** Hands each partition's stretch between its applied offset and what was handed over to its ingest workflow again. */
  private async describeAgain(parts: PartitionState[]): Promise<void> {
    if (parts.length === 0) return;
    await Promise.all(
      parts.map((p) =>
        this.signal({ topic: p.topic, partition: p.partition, firstOffset: (p.applied + 1n).toString(), lastOffset: (p.next - 1n).toString(), messages: Number(p.next - p.applied - 1n) }),
      ),
    );
    for (const p of parts) p.appliedMovedAt = Date.now();
    this.log.info({ partitions: parts.map((p) => `${p.topic}/${p.partition}: ${p.applied + 1n}-${p.next - 1n}`) }, 'described again what was handed over and not yet written');
  }

  /** One pass: new high watermarks and applied offsets, a descriptor per partition with room, then their commit. */
  private async step(): Promise<number> {
    const c = this.c;
    const [high, progress] = await Promise.all([
      this.kafka.listOffsets({ topics: c.topics, timestamp: ListOffsetTimestamps.LATEST }),
      consumerProgress(this.deps.ds, c.name),
    ]);
    this.paused = progress.paused;
    this.sample(progress.messages);
    const ranges: { p: PartitionState; range: KafkaRange }[] = [];
    const stalled: PartitionState[] = [];
    for (const p of this.parts.values()) {
      p.high = high.get(p.topic)?.[p.partition] ?? p.high;
      const applied = progress.applied.get(`${p.topic}/${p.partition}`) ?? p.applied;
      if (applied !== p.applied) p.appliedMovedAt = Date.now();
      p.applied = applied;
      if (this.paused) continue;
      if (p.applied >= 0n && p.applied + 1n < p.next && Date.now() - p.appliedMovedAt > REDESCRIBE_AFTER_MS) stalled.push(p);
      const room = BigInt(c.maxLead) - this.leadOf(p);
      const available = p.high - p.next;
      if (available > 0n && room > 0n) {
        let n = available < room ? available : room;
        if (n > BigInt(c.rangeMaxMessages)) n = BigInt(c.rangeMaxMessages);
        const range: KafkaRange = {
          topic: p.topic,
          partition: p.partition,
          firstOffset: p.next.toString(),
          lastOffset: (p.next + n - 1n).toString(),
          messages: Number(n),
        };
        ranges.push({ p, range });
      }
    }
    // Partitions are independent: their signals go out together. A partition moves on only when its own signal was
    // accepted; one that failed is described again on the next pass.
    const sent = await Promise.allSettled(ranges.map(({ range }) => this.signal(range)));
    let described = 0;
    ranges.forEach(({ p, range }, i) => {
      if (sent[i]!.status !== 'fulfilled') return;
      p.next += BigInt(range.messages);
      described += range.messages;
      events.consumerSignalled(c.name);
    });
    const toCommit = [...this.parts.values()].filter((p) => p.committed !== p.next);
    if (toCommit.length > 0) await this.commit(toCommit);
    const failed = sent.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;
    for (const p of this.parts.values()) events.consumerLag(c.name, p.topic, p.partition, this.lagOf(p));
    if (stalled.length > 0) await this.describeAgain(stalled);
    return described;
  }

  /** Offsets not yet applied: the high watermark minus the next offset to apply. */
  private lagOf(p: PartitionState): number {
    const lag = p.high - (p.applied >= 0n ? p.applied + 1n : p.start);
    return Number(lag > 0n ? lag : 0n);
  }

  private sample(messages: number): void {
    const now = Date.now();
    this.samples.push({ at: now, messages });
    while (this.samples.length > 2 && now - this.samples[1]!.at >= RATE_WINDOW_MS) this.samples.shift();
  }

  /** Messages applied per second over the last minute (or since this attempt started), by Postgres's counts. */
  private rate(): number | null {
    const first = this.samples[0];
    const last = this.samples[this.samples.length - 1];
    if (!first || !last || last.at - first.at < 1_000) return null;
    return Math.max(0, ((last.messages - first.messages) * 1000) / (last.at - first.at));
  }

  private async reportHost(): Promise<void> {
    try {
      await recordConsumerHost(this.deps.ds, this.c.name, {
        hostname: this.host.hostname,
        pid: this.host.pid,
        attempt: this.ctx.info.attempt,
        startedAt: this.startedAt,
        messagesPerSecond: this.rate(),
      });
    } catch (err) {
      // Postgres away: `consumers status` cannot be read either; the next tick tries again.
      this.log.debug({ err: (err as Error)?.message ?? err }, 'host report failed');
    }
  }

  private leadOf(p: PartitionState): bigint {
    const base = p.applied >= p.start ? p.applied + 1n : p.start;
    const lead = p.next - base;
    return lead > 0n ? lead : 0n;
  }

  private async signal(range: KafkaRange): Promise<void> {
    const c = this.c;
    const args: IngestWorkflowInput = { consumer: c.name, settings: c.ingest };
    // By name, not by importing the workflow: activities stay apart from workflow code.
    await this.deps.temporal.workflow.signalWithStart(consumerIngestWorkflowType, {
      workflowId: ingestWorkflowId(c.name, range.topic, range.partition, c.partitionsPerIngestWorkflow),
      taskQueue: this.deps.taskQueue,
      args: [args],
      signal: ingestRangeSignalName,
      signalArgs: [range],
    });
  }

  /** Commits only what was accepted; a group without members takes commits from any client (no generation). */
  private async commit(parts: PartitionState[]): Promise<void> {
    const byTopic = new Map<string, { partition: number; offset: bigint }[]>();
    for (const p of parts) byTopic.set(p.topic, [...(byTopic.get(p.topic) ?? []), { partition: p.partition, offset: p.next }]);
    await this.admin.alterConsumerGroupOffsets({
      groupId: this.c.groupId,
      topics: [...byTopic].map(([name, partitionOffsets]) => ({ name, partitionOffsets })),
    });
    for (const p of parts) p.committed = p.next;
  }

  private async committedOffsets(): Promise<Map<string, bigint>> {
    const out = new Map<string, bigint>();
    const groups = await this.admin.listConsumerGroupOffsets({ groups: [this.c.groupId] });
    for (const g of groups) {
      for (const t of g.topics) {
        for (const p of t.partitions) if (p.committedOffset >= 0n) out.set(`${t.name}/${p.partitionIndex}`, p.committedOffset);
      }
    }
    return out;
  }

  /** Reports to the consumer workflow when something changed (always when `force`). */
  private async report(force: boolean): Promise<void> {
    const report = this.snapshot();
    const key = JSON.stringify([report.partitions, report.paused]);
    if (!force && key === this.lastReported) return;
    const wf = this.ctx.info.workflowExecution;
    if (wf) await this.deps.temporal.workflow.getHandle(wf.workflowId, wf.runId).signal(consumerReportSignal, report);
    this.lastReported = key;
  }

  private snapshot(): ConsumerReport {
    const partitions: PartitionLag[] = [...this.parts.values()].map((p) => ({
      topic: p.topic,
      partition: p.partition,
      committed: p.committed === null ? null : p.committed.toString(),
      high: p.high.toString(),
      lag: this.lagOf(p),
      described: p.next.toString(),
      applied: p.applied >= 0n ? p.applied.toString() : null,
      lead: Number(this.leadOf(p)),
    }));
    return {
      at: new Date().toISOString(),
      host: this.host,
      attempt: this.ctx.info.attempt,
      partitions,
      lag: partitions.reduce((n, p) => n + p.lag, 0),
      lead: partitions.reduce((n, p) => n + (p.lead ?? 0), 0),
      maxLead: this.c.maxLead,
      paused: this.paused,
    };
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
