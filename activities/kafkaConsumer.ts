import os from 'node:os';
import { Context } from '@temporalio/activity';
import type { Client } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import type { Admin, Consumer, EachBatchPayload, KafkaMessage } from 'kafkajs';
import type { DataSource } from 'typeorm';
import type { Env } from '../config/env';
import { createKafka } from '../connections/kafka';
import { batchWriters } from './curatedProgramWrites';
import { ingestWorkflowId } from '../consumers/ids';
import { ConsumerDefinitionError, type ConsumerRegistry, type ResolvedConsumer } from '../consumers/registry';
import { withoutNul } from '../domain/text';
import { logger } from '../observability/logger';
import { kafkaLag, kafkaMessages, kafkaSignals } from '../observability/metrics';
import type { ConsumerCounts, ConsumerReport, IngestBatch, IngestRow, PartitionLag } from '../workflows/consumerTypes';
import { consumerIngest, consumerReportSignal, ingestBatchSignal, ingestProgressQuery } from '../workflows/consumers';

interface Deps {
  ds: DataSource;
  consumers: ConsumerRegistry;
  env: Env;
  /** Signals batches into ingest workflows and reports into the consumer's own workflow. */
  temporal: Client;
  taskQueue: string;
  /**
   * Aborted when the worker starts a graceful shutdown: the consumer leaves the group at once and the attempt fails
   * retryably, so Temporal restarts it on another worker without waiting for the shutdown grace time.
   */
  shutdownSignal?: AbortSignal;
}

/**
 * Backpressure: a signal cannot be refused, so after every few signals into an ingest workflow the consumer asks it
 * for its backlog and waits while the unwritten batches exceed this. It bounds the workflow's memory and what it must
 * drain before continuing as new.
 */
export const INGEST_BACKLOG_BYTES = 2 * 1024 * 1024;
const BACKLOG_CHECK_EVERY = 10;

interface DeadLetter {
  offset: string;
  reason: string;
  raw: Buffer | null;
}

/** The consumer side of the stream half: one activity that hosts a kafkajs consumer for as long as it is not cancelled. */
export function createKafkaConsumerActivities(deps: Deps) {
  for (const c of deps.consumers.list()) {
    // Checked at start-up: a batch whose writer is missing would be signalled and committed, then never written.
    if (!batchWriters[c.handler]) throw new ConsumerDefinitionError(`consumer ${c.name}: handler: no batch writer named ${c.handler}`);
  }
  return {
    /**
     * Consumes the consumer's topics until cancelled (pause, continue-as-new, worker shutdown, or a heartbeat timeout
     * that made Temporal run it elsewhere). Per batch: decode, dead-letter the undecodable, signal the rest into the
     * partition's ingest workflow, and only then commit the offsets, so a crash at any point redelivers instead of
     * losing, and the idempotent writes turn redelivery into a no-op.
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

const zeroCounts = (): ConsumerCounts => ({ messages: 0, rows: 0, deadLetters: 0, signals: 0 });

class ConsumerSession {
  private stopping = false;
  private ticking = false;
  private delta = zeroCounts();
  private partitions: PartitionLag[] = [];
  private lastReported = '';
  private readonly host = { pid: process.pid, hostname: os.hostname() };
  private readonly signalsSinceCheck = new Map<string, number>();
  private readonly log;
  private consumer!: Consumer;
  private admin!: Admin;

  constructor(
    private readonly deps: Deps,
    private readonly c: ResolvedConsumer,
    private readonly ctx: Context,
  ) {
    this.log = logger.child({ consumer: c.name, attempt: ctx.info.attempt });
  }

  async run(previous: ConsumerReport | undefined): Promise<void> {
    const { c, ctx } = this;
    const takeover = previous !== undefined && (previous.host.pid !== this.host.pid || previous.host.hostname !== this.host.hostname);
    this.log.info(
      { topics: c.topics, groupId: c.groupId, previousHost: previous?.host ?? null },
      takeover ? 'consumer taking over from another worker' : 'consumer starting',
    );
    const kafka = createKafka(this.deps.env, `scheduled-job.${c.name}`);
    this.consumer = kafka.consumer({
      groupId: c.groupId,
      sessionTimeout: c.kafkaSessionTimeoutMs,
      heartbeatInterval: Math.max(500, Math.floor(c.kafkaSessionTimeoutMs / 5)),
      allowAutoTopicCreation: false,
      maxWaitTimeInMs: 1000,
    });
    this.admin = kafka.admin();
    let crash: (err: Error) => void = () => undefined;
    const crashed = new Promise<never>((_, reject) => {
      crash = reject;
    });
    crashed.catch(() => undefined);
    const onShutdown = () => crash(ApplicationFailure.retryable('the worker is shutting down', 'WorkerShutdown'));
    if (this.deps.shutdownSignal?.aborted) onShutdown();
    this.deps.shutdownSignal?.addEventListener('abort', onShutdown);
    this.consumer.on(this.consumer.events.CRASH, ({ payload }) => {
      this.log.warn({ err: payload.error, restart: payload.restart }, 'kafka consumer crashed');
      // kafkajs restarts itself after retriable errors; otherwise fail the attempt so Temporal retries it with backoff.
      if (!payload.restart) crash(payload.error);
    });

    // Heartbeat from the first moment: connecting to a slow or absent broker can take longer than the timeout.
    ctx.heartbeat(this.report());
    const ticker = setInterval(() => void this.tick(), Math.min(this.c.reportEveryMs, Math.max(500, this.c.workflow.heartbeatTimeoutMs / 4)));
    try {
      const start = async () => {
        await this.consumer.connect();
        await this.admin.connect();
        await this.consumer.subscribe({ topics: c.topics, fromBeginning: c.fromBeginning }).catch((err: { type?: string }) => {
          if (err?.type !== 'UNKNOWN_TOPIC_OR_PARTITION') throw err;
          // Consumers never create topics; wait for whoever owns the topic to create it.
          throw ApplicationFailure.retryable(`topic ${c.topics.join(', ')} does not exist (yet); retrying`, 'TopicMissing');
        });
        await this.consumer.run({
          autoCommit: false,
          eachBatchAutoResolve: false,
          partitionsConsumedConcurrently: c.partitionsConsumedConcurrently,
          eachBatch: (payload) => this.onBatch(payload),
        });
        this.log.info('consumer running');
      };
      const starting = start();
      starting.catch(() => undefined); // when cancellation wins the race, the interrupted start may still reject
      await Promise.race([starting, ctx.cancelled, crashed]);
      await Promise.race([ctx.cancelled, crashed]);
    } catch (err) {
      this.log.info({ reason: (err as Error)?.message }, 'consumer stopping');
      throw err;
    } finally {
      // Nothing is committed from here on: what was not signalled stays uncommitted and is read again by the next
      // holder of the partition.
      this.stopping = true;
      clearInterval(ticker);
      this.deps.shutdownSignal?.removeEventListener('abort', onShutdown);
      await this.consumer.disconnect().catch((err: unknown) => this.log.warn({ err }, 'kafka consumer disconnect failed'));
      await this.admin.disconnect().catch(() => undefined);
      this.log.info('consumer stopped');
    }
  }

  private async onBatch(p: EachBatchPayload): Promise<void> {
    const { batch } = p;
    const { topic, partition } = batch;
    const messages = batch.messages;
    for (let i = 0; i < messages.length; i += this.c.batchSize) {
      if (this.stopping || !p.isRunning() || p.isStale()) return;
      const chunk = messages.slice(i, i + this.c.batchSize);
      const last = chunk[chunk.length - 1]!;
      await this.processChunk(p, topic, partition, chunk);
      p.resolveOffset(last.offset);
      // At the end of a fetched batch its lastOffset also covers records kafkajs filtered out (control records).
      const next = (BigInt(i + this.c.batchSize >= messages.length ? batch.lastOffset() : last.offset) + 1n).toString();
      await this.retrying(p, 'commit offsets', () => this.consumer.commitOffsets([{ topic, partition, offset: next }]));
      await p.heartbeat();
      this.ctx.heartbeat(this.report());
    }
  }

  /** Dead letters first, then the valid rows as signals (split to stay small); both are idempotent on redelivery. */
  private async processChunk(p: EachBatchPayload, topic: string, partition: number, chunk: KafkaMessage[]): Promise<void> {
    const rows: IngestRow[] = [];
    const dead: DeadLetter[] = [];
    for (const m of chunk) {
      const decoded = this.c.decode(m.value);
      if (decoded.ok) rows.push({ ...(decoded.value as Record<string, unknown>), offset: m.offset });
      else dead.push({ offset: m.offset, reason: withoutNul(decoded.reason), raw: m.value });
    }
    if (dead.length > 0) {
      await this.retrying(p, 'write dead letters', () => writeDeadLetters(this.deps.ds, this.c.name, topic, partition, dead));
    }
    for (const part of splitBySize(rows, this.c.maxBatchBytes)) {
      const signal: IngestBatch = {
        topic,
        partition,
        firstOffset: part.rows[0]!.offset,
        lastOffset: part.rows[part.rows.length - 1]!.offset,
        rows: part.rows,
        bytes: part.bytes,
      };
      const workflowId = ingestWorkflowId(this.c.name, topic, partition, this.c.partitionsPerIngestWorkflow);
      await this.retrying(p, 'signal the ingest workflow', () =>
        this.deps.temporal.workflow.signalWithStart(consumerIngest, {
          workflowId,
          taskQueue: this.deps.taskQueue,
          args: [{ consumer: this.c.name, handler: this.c.handler, settings: this.c.ingest }],
          signal: ingestBatchSignal,
          signalArgs: [signal],
        }),
      );
      this.delta.signals++;
      kafkaSignals.inc({ consumer: this.c.name });
      const sent = (this.signalsSinceCheck.get(workflowId) ?? 0) + 1;
      this.signalsSinceCheck.set(workflowId, sent % BACKLOG_CHECK_EVERY);
      if (sent >= BACKLOG_CHECK_EVERY) await this.waitForBacklog(p, workflowId);
    }
    this.delta.messages += chunk.length;
    this.delta.rows += rows.length;
    this.delta.deadLetters += dead.length;
    kafkaMessages.inc({ consumer: this.c.name, outcome: 'valid' }, rows.length);
    kafkaMessages.inc({ consumer: this.c.name, outcome: 'dead_letter' }, dead.length);
  }

  /** Waits while the ingest workflow has more than INGEST_BACKLOG_BYTES unwritten; without an answer, goes on. */
  private async waitForBacklog(p: EachBatchPayload, workflowId: string): Promise<void> {
    for (let waited = 0; ; waited++) {
      let pending: number;
      try {
        pending = (await this.deps.temporal.workflow.getHandle(workflowId).query(ingestProgressQuery)).pendingBytes;
      } catch (err) {
        this.log.debug({ err: (err as Error)?.message ?? err, workflowId }, 'backlog query failed; not waiting');
        return;
      }
      if (pending <= INGEST_BACKLOG_BYTES) return;
      if (this.stopping || !p.isRunning() || p.isStale()) throw new Error('consumer stopping while waiting for the ingest backlog');
      if (waited % 20 === 0) this.log.info({ workflowId, pendingBytes: pending }, 'ingest workflow backlog is full; waiting');
      await new Promise((r) => setTimeout(r, 250));
      await p.heartbeat();
      this.ctx.heartbeat(this.report());
    }
  }

  /**
   * Retries a step while Postgres or Temporal is away (a server restart), keeping the group membership alive with
   * Kafka heartbeats; gives up when the consumer stops or loses the partition (the next holder reads it again).
   */
  private async retrying<T>(p: EachBatchPayload, what: string, fn: () => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await fn();
      } catch (err) {
        if (this.stopping || !p.isRunning() || p.isStale()) throw err;
        const waitMs = Math.min(5_000, 200 * 2 ** Math.min(attempt, 5));
        this.log.warn({ err: (err as Error)?.message ?? err, attempt, waitMs }, `${what} failed; retrying`);
        await new Promise((r) => setTimeout(r, waitMs));
        await p.heartbeat(); // throws when the group is rebalancing: the batch is then abandoned, uncommitted
        this.ctx.heartbeat(this.report());
      }
    }
  }

  /** The timer: heartbeat while idle, refresh lag, and report to the workflow when something changed. */
  private async tick(): Promise<void> {
    if (this.ticking || this.stopping) {
      if (!this.stopping) this.ctx.heartbeat(this.report());
      return;
    }
    this.ticking = true;
    try {
      this.ctx.heartbeat(this.report());
      this.partitions = await this.fetchLag();
      for (const pl of this.partitions) kafkaLag.set({ consumer: this.c.name, topic: pl.topic, partition: String(pl.partition) }, pl.lag);
      const report = this.report();
      this.ctx.heartbeat(report);
      const key = JSON.stringify(this.partitions);
      if (key === this.lastReported && this.delta.messages === 0) return;
      const wf = this.ctx.info.workflowExecution;
      if (wf) await this.deps.temporal.workflow.getHandle(wf.workflowId, wf.runId).signal(consumerReportSignal, report);
      this.lastReported = key;
      // Batches may have been counted while the signal was in flight: take away only what was reported.
      for (const k of Object.keys(this.delta) as (keyof ConsumerCounts)[]) this.delta[k] -= report.delta[k];
    } catch (err) {
      if (!this.stopping) this.log.warn({ err: (err as Error)?.message ?? err }, 'lag refresh or report failed; will retry');
    } finally {
      this.ticking = false;
    }
  }

  /** Group lag from the broker: committed offsets against high watermarks, over every partition of the topics. */
  private async fetchLag(): Promise<PartitionLag[]> {
    const committed = await this.admin.fetchOffsets({ groupId: this.c.groupId, topics: this.c.topics });
    const out: PartitionLag[] = [];
    for (const topic of this.c.topics) {
      const marks = await this.admin.fetchTopicOffsets(topic);
      const mine = committed.find((t) => t.topic === topic)?.partitions ?? [];
      for (const m of marks.sort((a, b) => a.partition - b.partition)) {
        const at = mine.find((x) => x.partition === m.partition)?.offset;
        const has = at !== undefined && Number(at) >= 0;
        const from = has ? BigInt(at) : this.c.fromBeginning ? BigInt(m.low) : BigInt(m.high);
        const lag = BigInt(m.high) - from;
        out.push({ topic, partition: m.partition, committed: has ? at : null, high: m.high, lag: Number(lag > 0n ? lag : 0n) });
      }
    }
    return out;
  }

  private report(): ConsumerReport {
    return {
      at: new Date().toISOString(),
      host: this.host,
      attempt: this.ctx.info.attempt,
      partitions: this.partitions,
      lag: this.partitions.reduce((n, p) => n + p.lag, 0),
      delta: { ...this.delta },
    };
  }
}

async function writeDeadLetters(ds: DataSource, consumer: string, topic: string, partition: number, dead: DeadLetter[]): Promise<void> {
  await ds.query(
    `INSERT INTO kafka_dead_letters (consumer, topic, kafka_partition, kafka_offset, reason, raw)
     SELECT $1, $2, $3, o, r, w FROM unnest($4::bigint[], $5::text[], $6::bytea[]) AS t(o, r, w)
     ON CONFLICT (consumer, topic, kafka_partition, kafka_offset) DO NOTHING`,
    [consumer, topic, partition, dead.map((d) => d.offset), dead.map((d) => d.reason), dead.map((d) => d.raw)],
  );
}

/** Consecutive runs of rows whose JSON stays under `maxBytes` (at least one row each; rows are bounded by the decoder). */
export function splitBySize(rows: IngestRow[], maxBytes: number): { rows: IngestRow[]; bytes: number }[] {
  const parts: { rows: IngestRow[]; bytes: number }[] = [];
  let cur: IngestRow[] = [];
  let bytes = 0;
  for (const r of rows) {
    const size = Buffer.byteLength(JSON.stringify(r)) + 1;
    if (cur.length > 0 && bytes + size > maxBytes) {
      parts.push({ rows: cur, bytes });
      cur = [];
      bytes = 0;
    }
    cur.push(r);
    bytes += size;
  }
  if (cur.length > 0) parts.push({ rows: cur, bytes });
  return parts;
}
