import type { Client, WorkflowExecutionDescription } from '@temporalio/client';
import { WorkflowNotFoundError } from '@temporalio/common';
import { kafkaErrorText } from '../connections/kafka';
import type { ConsumerRegistry, ResolvedConsumer } from '../consumers/registry';
import {
  consumerControl,
  consumerHost,
  deadLetterCounts,
  deadLetterGroups,
  deadLettersById,
  partitionsApplied,
  setConsumerPaused,
  type ConsumerHost,
  type PartitionApplied,
} from '../consumers/store';
import type { Queryable } from '../db/jobRuns';
import { events } from '../observability/events';
import { consumerWorkflowId, ingestWorkflowId } from '../workflows/consumerIds';
import { consumerMessages, INGEST_WORKFLOW_TYPE, type ConsumerStatus } from '../workflows/consumerTypes';
import type { ConsumerState, ConsumerView, DeadLetterGroup, DeadLetterReport, PartitionView, PauseResult, Totals } from './consumerViews';

export type { ConsumerState, ConsumerView, DeadLetterGroup, DeadLetterReport, PartitionView, PauseResult, Totals } from './consumerViews';

/**
 * A consumer is `stale` when its activity has not said it is alive for this long. The activity says so every second
 * (HOST_REPORT_MS in activities/kafkaConsumer.ts) from a timer of its own, so only a dead worker, a worker cut off
 * from Postgres or an activity that ended stops it: stale appears at most 5 s after the last report.
 */
export const STALE_AFTER_MS = 5_000;
/** How long a status waits for the consumer workflow's own answer (only asked while its host is alive). */
const QUERY_DEADLINE_MS = 2_000;
/** The patch marker every ingest run of the descriptor flow records (workflows/consumerIngest.ts). */
const DESCRIPTOR_FLOW_PATCH = 'consumer-ingest-kafka-ranges';

/** Kafka did not answer a status's offset look-ups: an outage (HTTP 503), never the caller's mistake. */
export class KafkaUnavailableError extends Error {
  override name = 'KafkaUnavailableError';
}

/** Kafka offsets as a status needs them (connections/kafkaTools.ts has them). */
export interface KafkaOffsets {
  topics(): Promise<string[]>;
  highWatermarks(topic: string): Promise<bigint[]>;
  lowWatermarks(topic: string): Promise<bigint[]>;
  committedOffsets(group: string, topic: string): Promise<Map<number, bigint>>;
}

export interface UpgradeCheck {
  openIngestRuns: number;
  /** Open ingest runs without the descriptor flow's marker: they must finish before this release is deployed. */
  predating: { workflowId: string; runId: string; startTime: string }[];
}

/**
 * What an operator asks of the consumers, for the CLI and the HTTP API alike: status computed at the time of asking
 * (Kafka's offsets, Postgres's applied offsets and totals, Temporal's view of the workflow, the host's last report),
 * pause and resume, dead letters grouped by reason, and the pre-upgrade check.
 */
export class ConsumersClient {
  constructor(
    private readonly temporal: Client,
    private readonly ds: Queryable,
    /** Called when a status needs Kafka: pause, resume and dead letters never load a Kafka client. */
    private readonly kafka: () => KafkaOffsets,
    readonly consumers: ConsumerRegistry,
  ) {}

  names(): string[] {
    return this.consumers.list().map((c) => c.name);
  }

  async list(opts: { ingest?: boolean } = {}): Promise<ConsumerView[]> {
    return Promise.all(this.consumers.list().map((c) => this.viewOf(c, opts.ingest ?? false)));
  }

  /** One consumer's status with its ingest workflows' errors; UnknownConsumerError for a name no definition has. */
  async status(name: string): Promise<ConsumerView> {
    return this.viewOf(this.consumers.get(name), true);
  }

  /** Returns once no write of the consumer can commit any more (see setConsumerPaused), then tells its workflow. */
  async pause(name: string, by: string): Promise<PauseResult> {
    return this.setPaused(this.consumers.get(name), true, by);
  }

  async resume(name: string, by: string): Promise<PauseResult> {
    return this.setPaused(this.consumers.get(name), false, by);
  }

  private async setPaused(c: ResolvedConsumer, paused: boolean, by: string): Promise<PauseResult> {
    const control = await setConsumerPaused(this.ds, c.name, paused, by);
    // The workflow writes the same state again (it mirrors its signals into Postgres); its own status shows it.
    const signalled = await this.temporal.workflow
      .getHandle(consumerWorkflowId(c.name))
      .signal(paused ? consumerMessages.pause : consumerMessages.resume)
      .then(
        () => true,
        () => false,
      );
    return { consumer: c.name, paused: control.paused, changedAt: control.changedAt!.toISOString(), changedBy: control.changedBy, signalled };
  }

  async deadLetters(name: string, opts: { reason?: string; limit: number }): Promise<DeadLetterReport> {
    const c = this.consumers.get(name);
    const parts = await deadLetterGroups(this.ds, c.name, opts.reason);
    const byClass = new Map<string, typeof parts>();
    for (const p of parts) byClass.set(p.reasonClass, [...(byClass.get(p.reasonClass) ?? []), p]);
    const ranked = [...byClass.entries()]
      .map(([reasonClass, ps]) => ({ reasonClass, ps, count: ps.reduce((n, p) => n + p.count, 0) }))
      .sort((a, b) => b.count - a.count || a.reasonClass.localeCompare(b.reasonClass));
    const shown = ranked.slice(0, opts.limit);
    const sampleIds = shown.map((g) => g.ps.reduce((min, p) => (BigInt(p.sampleId) < BigInt(min) ? p.sampleId : min), g.ps[0]!.sampleId));
    const samples = new Map((await deadLettersById(this.ds, sampleIds)).map((s) => [s.id, s]));
    const groups = shown.map((g, i): DeadLetterGroup => {
      const s = samples.get(sampleIds[i]!)!;
      return {
        reasonClass: g.reasonClass,
        count: g.count,
        firstAt: new Date(Math.min(...g.ps.map((p) => p.firstAt.getTime()))).toISOString(),
        lastAt: new Date(Math.max(...g.ps.map((p) => p.lastAt.getTime()))).toISOString(),
        partitions: g.ps
          .map((p) => ({ topic: p.topic, partition: p.partition, count: p.count, firstOffset: p.firstOffset, lastOffset: p.lastOffset }))
          .sort((a, b) => a.topic.localeCompare(b.topic) || a.partition - b.partition),
        sample: {
          topic: s.topic,
          partition: s.partition,
          offset: s.offset,
          reason: s.reason,
          bytes: s.raw === null ? null : s.raw.length,
          hex: s.raw === null ? null : s.raw.subarray(0, 32).toString('hex'),
        },
        // Offsets lost to retention are gone from Kafka: there is nothing to decode again.
        replay: g.reasonClass.startsWith('retention:') ? null : replayCommand(c.name, g.reasonClass),
      };
    });
    return { consumer: c.name, total: ranked.reduce((n, g) => n + g.count, 0), groups, moreGroups: ranked.length - shown.length };
  }

  /** Open ingest runs that started before the descriptor flow (no marker in their first workflow task). */
  async upgradeCheck(): Promise<UpgradeCheck> {
    const predating: UpgradeCheck['predating'] = [];
    let open = 0;
    for await (const wf of this.temporal.workflow.list({ query: `WorkflowType = "${INGEST_WORKFLOW_TYPE}" AND ExecutionStatus = "Running"` })) {
      open++;
      const res = await this.temporal.workflowService.getWorkflowExecutionHistory({
        namespace: this.temporal.options.namespace,
        execution: { workflowId: wf.workflowId, runId: wf.runId },
        maximumPageSize: 30,
      });
      const marked = (res.history?.events ?? []).some((e) => {
        const payload = e.markerRecordedEventAttributes?.details?.['patch-data']?.payloads?.[0]?.data;
        return e.markerRecordedEventAttributes?.markerName === 'core_patch' && payload && Buffer.from(payload).toString().includes(`"${DESCRIPTOR_FLOW_PATCH}"`);
      });
      if (!marked) predating.push({ workflowId: wf.workflowId, runId: wf.runId, startTime: wf.startTime.toISOString() });
    }
    return { openIngestRuns: open, predating };
  }

  private async viewOf(c: ResolvedConsumer, withIngest: boolean): Promise<ConsumerView> {
    // Postgres before Kafka: an end offset read after the applied offset is never below it, so lag is never negative.
    const [applied, control, host, dead] = await Promise.all([
      partitionsApplied(this.ds, c.name),
      consumerControl(this.ds, c.name),
      consumerHost(this.ds, c.name),
      deadLetterCounts(this.ds, [c.name]),
    ]);
    const [kafkaParts, wf] = await Promise.all([this.kafkaPartitions(c), this.describe(c)]);
    const partitions = kafkaParts.map((k) => partitionView(c, k, applied.find((a) => a.topic === k.topic && a.partition === k.partition)));
    const stale = host === null || host.ageSeconds * 1000 > STALE_AFTER_MS;
    const running = wf?.status.name === 'RUNNING';
    const hasActivity = (wf?.raw.pendingActivities?.length ?? 0) > 0;
    // Asked only when a worker should answer: the host is alive, or the workflow runs no activity (backing off).
    const own = running && (!stale || !hasActivity) ? await this.workflowStatus(c) : undefined;
    const pending = wf?.raw.pendingActivities?.[0];
    const pendingError = pending?.lastFailure?.message ? { message: pending.lastFailure.message, at: timestampOf(pending.lastAttemptCompleteTime) } : null;
    if (withIngest) await this.addIngestErrors(c, partitions);
    const view: ConsumerView = {
      name: c.name,
      topics: c.topics,
      groupId: c.groupId,
      handler: c.handler,
      state: stateOf({ running, paused: control.paused, host, stale, own }),
      paused: control.paused,
      pausedAt: control.paused && control.changedAt ? control.changedAt.toISOString() : null,
      pausedBy: control.paused ? control.changedBy : null,
      host: host ? { hostname: host.hostname, pid: host.pid, attempt: host.attempt, since: host.startedAt.toISOString() } : null,
      reportedAt: host ? host.seenAt.toISOString() : null,
      reportAgeSeconds: host ? Math.round(host.ageSeconds * 10) / 10 : null,
      staleAfterSeconds: STALE_AFTER_MS / 1000,
      lag: partitions.reduce((n, p) => n + p.lag, 0),
      lead: partitions.reduce((n, p) => n + p.lead, 0),
      maxLead: c.maxLead,
      messagesPerSecond: stale || host?.messagesPerSecond == null ? null : Math.round(host.messagesPerSecond * 10) / 10,
      deadLetters: dead.get(c.name) ?? 0,
      totals: sumTotals(partitions.map((p) => p.totals)),
      lastError: own?.lastError ?? pendingError?.message ?? partitions.find((p) => p.ingestError)?.ingestError ?? null,
      lastErrorAt: own?.lastError ? null : (pendingError?.at ?? null),
      waiting: own?.waiting ?? [],
      workflow: wf
        ? { workflowId: wf.workflowId, runId: wf.runId, status: wf.status.name, taskQueue: wf.taskQueue, generation: own?.generation ?? null }
        : null,
      partitions,
    };
    events.consumerStatus(view);
    return view;
  }

  private async kafkaPartitions(c: ResolvedConsumer): Promise<{ topic: string; partition: number; end: bigint; start: bigint; committed: bigint | null }[]> {
    try {
      return await this.readKafkaPartitions(c);
    } catch (err) {
      throw new KafkaUnavailableError(`kafka did not answer the offsets of ${c.topics.join(', ')}: ${kafkaErrorText(err)}`, { cause: err });
    }
  }

  private async readKafkaPartitions(c: ResolvedConsumer): Promise<{ topic: string; partition: number; end: bigint; start: bigint; committed: bigint | null }[]> {
    const out = [];
    const kafka = this.kafka();
    const existing = new Set(await kafka.topics());
    // A topic that does not exist (yet) has no partitions to show; the consumer waits for it (its last error says so).
    for (const topic of c.topics.filter((t) => existing.has(t))) {
      const [ends, starts, committed] = await Promise.all([kafka.highWatermarks(topic), kafka.lowWatermarks(topic), kafka.committedOffsets(c.groupId, topic)]);
      for (let p = 0; p < ends.length; p++) out.push({ topic, partition: p, end: ends[p]!, start: starts[p] ?? 0n, committed: committed.get(p) ?? null });
    }
    return out;
  }

  private async describe(c: ResolvedConsumer): Promise<WorkflowExecutionDescription | null> {
    try {
      return await this.temporal.workflow.getHandle(consumerWorkflowId(c.name)).describe();
    } catch (err) {
      if (err instanceof WorkflowNotFoundError) return null;
      throw err;
    }
  }

  /** The workflow's own answer (state, last error), or undefined when no worker answers in time. */
  private async workflowStatus(c: ResolvedConsumer): Promise<ConsumerStatus | undefined> {
    const handle = this.temporal.workflow.getHandle(consumerWorkflowId(c.name));
    return this.temporal.connection.withDeadline(Date.now() + QUERY_DEADLINE_MS, () => handle.query<ConsumerStatus>(consumerMessages.status)).catch(() => undefined);
  }

  private async addIngestErrors(c: ResolvedConsumer, partitions: PartitionView[]): Promise<void> {
    const ids = new Map<string, PartitionView[]>();
    for (const p of partitions) {
      const id = ingestWorkflowId(c.name, p.topic, p.partition, c.partitionsPerIngestWorkflow);
      ids.set(id, [...(ids.get(id) ?? []), p]);
    }
    await Promise.all(
      [...ids].map(async ([id, ps]) => {
        const d = await this.temporal.workflow.getHandle(id).describe().catch(() => undefined);
        const failure = d?.status.name === 'RUNNING' ? (d.raw.pendingActivities?.[0]?.lastFailure?.message ?? null) : null;
        for (const p of ps) p.ingestError = failure;
      }),
    );
  }
}

function stateOf(s: { running: boolean; paused: boolean; host: ConsumerHost | null; stale: boolean; own: ConsumerStatus | undefined }): ConsumerState {
  if (!s.running) return 'stopped';
  // Backing off, the workflow runs no activity on purpose: a quiet host is expected then, not stale.
  if (s.own?.state === 'backing_off') return 'backing_off';
  if (s.host === null) return 'starting';
  if (s.stale) return 'stale';
  return s.paused ? 'paused' : 'running';
}

function partitionView(c: ResolvedConsumer, k: { topic: string; partition: number; end: bigint; start: bigint; committed: bigint | null }, a: PartitionApplied | undefined): PartitionView {
  // Before the first write the consumer starts at the group's offset, else where its definition says.
  const nextToApply = a ? a.applied + 1n : (k.committed ?? (c.fromBeginning ? k.start : k.end));
  const lag = k.end - nextToApply;
  const lead = k.committed === null ? 0n : k.committed - nextToApply;
  return {
    topic: k.topic,
    partition: k.partition,
    endOffset: k.end.toString(),
    startOffset: k.start.toString(),
    committed: k.committed === null ? null : k.committed.toString(),
    applied: a ? nextToApply.toString() : null,
    lag: Number(lag > 0n ? lag : 0n),
    lead: Number(lead > 0n ? lead : 0n),
    totals: { messages: a?.messages ?? 0, rows: a?.inserted ?? 0, duplicates: a?.duplicates ?? 0, deadLetters: a?.deadLetters ?? 0, lostOffsets: a?.lost ?? 0 },
    countedFrom: a?.countedFrom == null ? null : a.countedFrom.toString(),
  };
}

function timestampOf(t: { seconds?: unknown; nanos?: number | null } | null | undefined): string | null {
  if (!t?.seconds) return null;
  return new Date(Number(t.seconds) * 1000 + Math.floor((t.nanos ?? 0) / 1e6)).toISOString();
}

function sumTotals(ts: Totals[]): Totals {
  const out: Totals = { messages: 0, rows: 0, duplicates: 0, deadLetters: 0, lostOffsets: 0 };
  for (const t of ts) for (const k of Object.keys(out) as (keyof Totals)[]) out[k] += t[k];
  return out;
}

function replayCommand(consumer: string, reasonClass: string): string {
  const args = JSON.stringify({ consumer, reasonClass }).replace(/'/g, `'\\''`);
  return `scheduled-job trigger replay_dead_letters --args '${args}'`;
}
