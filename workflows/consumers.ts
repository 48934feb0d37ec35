import {
  ActivityCancellationType,
  allHandlersFinished,
  CancellationScope,
  condition,
  continueAsNew,
  isCancellation,
  log,
  patched,
  proxyActivities,
  proxyLocalActivities,
  setHandler,
  sleep,
  workflowInfo,
} from '@temporalio/workflow';
import type { BatchWriteActivities } from '../activities/consumerBatchWrites';
import type { KafkaConsumerActivities } from '../activities/kafkaConsumer';
import type { KafkaRangeIngestActivities } from '../activities/kafkaRangeIngest';
import type {
  ConsumerCarried,
  ConsumerCounts,
  ConsumerReport,
  ConsumerStatus,
  ConsumerWorkflowInput,
  IngestBatch,
  IngestProgress,
  PartitionIngestTotals,
  IngestWorkflowInput,
  KafkaRange,
  PartitionWait,
} from './consumerTypes';
import { zeroConsumerCounts } from './consumerTypes';
import { consumerWorkflowId, isIngestWorkflowIdOf } from './consumerIds';
import { requireOwnWorkflowId } from './ownWorkflowId';
import {
  consumerReportSignal,
  consumerStatusQuery,
  ingestBatchSignal,
  ingestProgressQuery,
  ingestRangeSignal,
  ingestWaitingSignal,
  pauseSignal,
  resumeSignal,
} from './consumerSignals';

// Clients and tests import the signals and queries from here, beside the workflows they address.
export * from './consumerSignals';

/**
 * Row batches (the flow before descriptors) a run carries into its next run at most; a run started before the change
 * breaks off to continue as new once its rows are under this.
 */
const CARRY_BYTES = 1024 * 1024;
/** One write of the old flow's row batches takes the queued batches up to this size. */
const WRITE_BYTES = 1024 * 1024;
const WRITE_BATCHES = 20;
const LOCAL_WRITES_PATCH = 'consumer-ingest-local-writes';
/** Runs with this marker read their ranges from Kafka; runs started before it finish their row batches first. */
const RANGES_PATCH = 'consumer-ingest-kafka-ranges';
/** One range activity covers at most this many offsets: contiguous descriptors are merged up to it. */
const MAX_OFFSETS_PER_WRITE = 1_000_000;


/**
 * One long-running workflow per consumer, ID `consumer/<name>` (its lock), supervising the consumer: it keeps one
 * heartbeating activity hosting the consumer alive (it describes new offsets as ranges); Temporal retries that
 * activity without limit, on another worker when its worker dies. `pause` / `resume` stop and restart it; the workflow
 * continues as new after `continueAsNewAfterReports` status reports (its only source of history growth).
 */
export async function kafkaConsumer(input: ConsumerWorkflowInput): Promise<void> {
  requireOwnWorkflowId(`consumer ${input.consumer}`, consumerWorkflowId(input.consumer));
  const s = input.settings;
  const consumer = new ConsumerSupervision(input);
  setHandler(pauseSignal, () => consumer.pause());
  setHandler(resumeSignal, () => consumer.resume());
  setHandler(consumerReportSignal, (r) => consumer.report(r));
  setHandler(ingestWaitingSignal, (w) => consumer.waitingChanged(w));
  setHandler(consumerStatusQuery, () => consumer.status());

  const acts = proxyActivities<KafkaConsumerActivities>({
    // It runs until cancelled; the heartbeat timeout, not this, is what detects a dead worker.
    startToCloseTimeout: '365 days',
    heartbeatTimeout: s.heartbeatTimeoutMs,
    // Pause and continue-as-new wait until the Kafka consumer has really left the group.
    cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
    retry: {
      initialInterval: s.retryInitialIntervalMs,
      backoffCoefficient: 2,
      maximumInterval: s.retryMaximumIntervalMs,
      // no maximumAttempts: unlimited; Kafka or Postgres being down for an hour is a wait, not a failure
      nonRetryableErrorTypes: ['UnknownConsumer'],
    },
  });

  while (!consumer.continueAsNewDue()) {
    if (consumer.paused) {
      await condition(() => !consumer.paused || consumer.continueAsNewDue());
      continue;
    }
    let done = false;
    let failure: unknown;
    const scope = new CancellationScope();
    const consuming = scope
      .run(() => acts.consumeKafka({ consumer: input.consumer }))
      .then(
        () => {
          done = true;
        },
        (err: unknown) => {
          done = true;
          failure = err;
        },
      );
    try {
      await condition(() => done || consumer.paused || consumer.continueAsNewDue());
    } catch (err) {
      // The workflow itself was cancelled: the activity got the cancellation too; let the consumer disconnect first.
      await consuming;
      throw err;
    }
    if (!done) {
      scope.cancel();
      await consuming;
    }
    if (failure !== undefined && !isCancellation(failure)) {
      // Only a non-retryable failure gets here (retries are unlimited): record it and try again later.
      consumer.failed(failure);
      log.warn('consumer activity failed; starting it again after a pause', { consumer: input.consumer, error: consumer.lastError });
      consumer.backingOff = true;
      await sleep(Math.max(s.retryMaximumIntervalMs, 1000));
      consumer.backingOff = false;
    }
  }

  await condition(allHandlersFinished);
  await continueAsNew<typeof kafkaConsumer>({ consumer: input.consumer, settings: input.settings, carried: consumer.carry() });
}

/** A consumer workflow's state, what its signals do to it, and what it carries into the next run. */
class ConsumerSupervision {
  paused: boolean;
  backingOff = false;
  lastError: string | undefined;
  private readonly generation: number;
  private lastReport: ConsumerReport | undefined;
  private readonly totals: ConsumerCounts;
  private readonly startedAt: string;
  private reportsThisRun = 0;
  /** By `<topic>/<partition>`: what the partition's ingest waits on, as its activity last said. */
  private readonly waiting = new Map<string, PartitionWait>();

  constructor(private readonly input: ConsumerWorkflowInput) {
    const c = input.carried;
    this.paused = c?.paused ?? false;
    this.generation = c?.generation ?? 0;
    this.lastReport = c?.report;
    this.totals = { ...(c?.totals ?? zeroConsumerCounts()) };
    this.startedAt = c?.startedAt ?? new Date().toISOString();
    this.lastError = c?.lastError;
    for (const w of c?.waiting ?? []) this.waiting.set(`${w.topic}/${w.partition}`, w);
  }

  pause(): void {
    this.paused = true;
  }

  resume(): void {
    this.paused = false;
  }

  report(r: ConsumerReport): void {
    this.lastReport = r;
    for (const k of Object.keys(this.totals) as (keyof ConsumerCounts)[]) this.totals[k] += r.delta[k];
    this.reportsThisRun++;
  }

  /** A later word from the partition replaces an earlier one; signals of one activity arrive in order, `at` orders attempts. */
  waitingChanged(w: PartitionWait): void {
    const key = `${w.topic}/${w.partition}`;
    const before = this.waiting.get(key);
    if (before && before.at > w.at) return;
    if (w.reason === null) this.waiting.delete(key);
    else this.waiting.set(key, before?.reason ? { ...w, at: before.at } : w);
  }

  failed(failure: unknown): void {
    this.lastError =
      failure instanceof Error ? `${failure.message}: ${String((failure.cause as Error | undefined)?.message ?? '')}` : String(failure);
  }

  continueAsNewDue(): boolean {
    return this.reportsThisRun >= this.input.settings.continueAsNewAfterReports || workflowInfo().continueAsNewSuggested;
  }

  status(): ConsumerStatus {
    const r = this.lastReport;
    return {
      consumer: this.input.consumer,
      state: this.paused ? 'paused' : this.backingOff ? 'backing_off' : 'running',
      generation: this.generation,
      reportsThisRun: this.reportsThisRun,
      historyLength: workflowInfo().historyLength,
      lag: r?.lag ?? null,
      partitions: r?.partitions ?? [],
      lead: r?.lead ?? null,
      maxLead: r?.maxLead ?? null,
      host: r?.host ?? null,
      reportedAt: r?.at ?? null,
      totals: this.totals,
      startedAt: this.startedAt,
      lastError: this.lastError ?? null,
      waiting: [...this.waiting.values()].map((w) => ({ topic: w.topic, partition: w.partition, reason: w.reason!, since: w.at })),
    };
  }

  carry(): ConsumerCarried {
    return {
      paused: this.paused,
      generation: this.generation + 1,
      ...(this.lastReport ? { report: this.lastReport } : {}),
      totals: this.totals,
      startedAt: this.startedAt,
      ...(this.lastError !== undefined ? { lastError: this.lastError } : {}),
      ...(this.waiting.size > 0 ? { waiting: [...this.waiting.values()] } : {}),
    };
  }
}

/**
 * The ingest side of one partition (or group of partitions), ID `ingest/<consumer>/<topic>/<partition>`: accepts the
 * descriptors the consumer signals, in offset order (a descriptor at or below what it already accepted is a
 * redelivery after a consumer crash and is dropped), and writes each range with one activity that reads it from Kafka
 * and writes rows, dead letters and the applied offset together. It continues as new every
 * `continueAsNewAfterBatches` signals or when Temporal suggests it, carrying the ranges not yet written (a few bytes
 * each) into the next run.
 */
export async function consumerIngest(input: IngestWorkflowInput): Promise<void> {
  requireOwnWorkflowId(`the ingest of consumer ${input.consumer}`, `ingest/${input.consumer}/<topic>/<partition>`, (id) =>
    isIngestWorkflowIdOf(input.consumer, id),
  );
  const s = input.settings;
  const c = input.carried;
  const queue: IngestBatch[] = [...(c?.pending ?? [])];
  const ranges: KafkaRange[] = [...(c?.ranges ?? [])];
  const acceptedUpTo: Record<string, string> = { ...(c?.acceptedUpTo ?? {}) };
  const totals: PartitionIngestTotals = { ...(c?.totals ?? { batches: 0, rows: 0, inserted: 0, duplicates: 0 }) };
  const writtenUpTo: Record<string, string> = { ...(c?.writtenUpTo ?? {}) };
  const generation = c?.generation ?? 0;
  let batchesThisRun = 0;
  let lastError: string | undefined;

  setHandler(ingestBatchSignal, (batch) => {
    queue.push(batch);
    batchesThisRun++;
  });
  setHandler(ingestRangeSignal, (range) => {
    batchesThisRun++;
    const key = `${range.topic}/${range.partition}`;
    const upTo = acceptedUpTo[key];
    const last = BigInt(range.lastOffset);
    let first = BigInt(range.firstOffset);
    if (upTo !== undefined) {
      if (last <= BigInt(upTo)) return;
      if (first <= BigInt(upTo)) first = BigInt(upTo) + 1n;
      else if (first > BigInt(upTo) + 1n) log.warn('a descriptor starts past the last accepted offset', { key, acceptedUpTo: upTo, firstOffset: range.firstOffset });
    }
    ranges.push({ ...range, firstOffset: first.toString(), messages: Number(last - first + 1n) });
    acceptedUpTo[key] = range.lastOffset;
  });
  setHandler(
    ingestProgressQuery,
    (): IngestProgress => ({
      consumer: input.consumer,
      generation,
      pendingBatches: queue.length + ranges.length,
      pendingBytes: bytesOf(queue),
      pendingRanges: ranges.length,
      pendingMessages: ranges.reduce((n, r) => n + r.messages, 0),
      acceptedUpTo,
      batchesThisRun,
      historyLength: workflowInfo().historyLength,
      totals,
      writtenUpTo,
      lastError: lastError ?? null,
    }),
  );

  const retry = { initialInterval: s.retryInitialIntervalMs, backoffCoefficient: 2, maximumInterval: s.retryMaximumIntervalMs };
  const continueAsNewDue = () => batchesThisRun >= s.continueAsNewAfterBatches || workflowInfo().continueAsNewSuggested;
  const failed = async (err: unknown) => {
    // A non-retryable failure (a misconfigured handler) or a write that kept failing for its whole schedule gets
    // here. The offsets are committed already: failing the workflow would lose them, so keep them and try later.
    if (isCancellation(err)) throw err;
    lastError = err instanceof Error ? `${err.message}: ${String((err.cause as Error | undefined)?.message ?? '')}` : String(err);
    log.error('writing failed; keeping it queued and retrying later', { consumer: input.consumer, error: lastError });
    await sleep(Math.max(s.retryMaximumIntervalMs, 1000));
  };
  const rowsWritten = (take: IngestBatch[], result: { rows: number; inserted: number }) => {
    lastError = undefined;
    queue.splice(0, take.length);
    totals.batches += take.length;
    totals.rows += result.rows;
    totals.inserted += result.inserted;
    totals.duplicates += result.rows - result.inserted;
    for (const b of take) {
      const key = `${b.topic}/${b.partition}`;
      const prev = writtenUpTo[key];
      if (prev === undefined || BigInt(b.lastOffset) > BigInt(prev)) writtenUpTo[key] = b.lastOffset;
    }
  };

  if (!patched(RANGES_PATCH)) {
    // A run started before descriptors (its history has row batches): exactly the commands it issued then, until
    // its rows are written; a descriptor arriving meanwhile makes it continue as new into the code below.
    const acts = patched(LOCAL_WRITES_PATCH)
      ? proxyLocalActivities<BatchWriteActivities>({ startToCloseTimeout: '2 minutes', scheduleToCloseTimeout: '5 minutes', retry })
      : proxyActivities<BatchWriteActivities>({ startToCloseTimeout: '2 minutes', retry });
    for (;;) {
      await condition(() => queue.length > 0 || continueAsNewDue() || ranges.length > 0);
      if ((continueAsNewDue() || ranges.length > 0) && bytesOf(queue) <= CARRY_BYTES) break;
      const take = takeFront(queue);
      let result;
      try {
        result = await acts.writeConsumerBatches({ consumer: input.consumer, handler: input.handler, batches: take });
      } catch (err) {
        await failed(err);
        continue;
      }
      rowsWritten(take, result);
    }
  } else {
    const rowActs = proxyActivities<BatchWriteActivities>({ startToCloseTimeout: '2 minutes', retry });
    const acts = proxyActivities<KafkaRangeIngestActivities>({
      // It heartbeats after every transaction; the heartbeat timeout is what moves a range off a dead worker.
      startToCloseTimeout: '1 hour',
      heartbeatTimeout: s.heartbeatTimeoutMs ?? 20_000,
      // Unlimited: a Postgres or Kafka outage is a wait, and the partition waits with it.
      retry: { ...retry, nonRetryableErrorTypes: ['UnknownConsumer', 'UnknownHandler'] },
    });
    for (;;) {
      await condition(() => queue.length > 0 || ranges.length > 0 || continueAsNewDue());
      if (queue.length > 0) {
        // Row batches from a consumer activity of a worker not yet upgraded (a rolling deploy).
        const take = takeFront(queue);
        try {
          rowsWritten(take, await rowActs.writeConsumerBatches({ consumer: input.consumer, handler: input.handler, batches: take }));
        } catch (err) {
          await failed(err);
        }
        continue;
      }
      if (continueAsNewDue()) break;
      const n = mergeable(ranges);
      const first = ranges[0]!;
      const lastOffset = ranges[n - 1]!.lastOffset;
      let result;
      try {
        result = await acts.ingestKafkaRange({
          consumer: input.consumer,
          topic: first.topic,
          partition: first.partition,
          firstOffset: first.firstOffset,
          lastOffset,
        });
      } catch (err) {
        await failed(err);
        continue;
      }
      lastError = undefined;
      ranges.splice(0, n);
      totals.batches += 1;
      totals.rows += result.rows;
      totals.inserted += result.inserted;
      totals.duplicates += result.rows - result.inserted;
      totals.messages = (totals.messages ?? 0) + result.messages;
      totals.deadLetters = (totals.deadLetters ?? 0) + result.deadLetters;
      totals.skipped = (totals.skipped ?? 0) + result.skipped;
      writtenUpTo[`${first.topic}/${first.partition}`] = result.appliedOffset;
    }
  }

  // Signal handlers are synchronous, so every signal delivered so far is in `queue` or `ranges`; a signal arriving
  // while this task completes makes the server reject the continue-as-new and replay the task with that signal in it.
  await condition(allHandlersFinished);
  await continueAsNew<typeof consumerIngest>({
    consumer: input.consumer,
    handler: input.handler,
    settings: input.settings,
    carried: { pending: queue, ranges, acceptedUpTo, generation: generation + 1, totals, writtenUpTo },
  });
}

/** How many ranges from the front are one contiguous range of one partition (at most MAX_OFFSETS_PER_WRITE offsets). */
function mergeable(ranges: KafkaRange[]): number {
  let n = 1;
  let offsets = ranges[0]!.messages;
  while (n < ranges.length) {
    const prev = ranges[n - 1]!;
    const r = ranges[n]!;
    if (r.topic !== prev.topic || r.partition !== prev.partition || BigInt(r.firstOffset) !== BigInt(prev.lastOffset) + 1n) break;
    if (offsets + r.messages > MAX_OFFSETS_PER_WRITE) break;
    offsets += r.messages;
    n++;
  }
  return n;
}

function bytesOf(batches: IngestBatch[]): number {
  return batches.reduce((n, b) => n + b.bytes, 0);
}

function takeFront(queue: IngestBatch[]): IngestBatch[] {
  const take: IngestBatch[] = [];
  let bytes = 0;
  for (const b of queue) {
    if (take.length > 0 && (take.length >= WRITE_BATCHES || bytes + b.bytes > WRITE_BYTES)) break;
    take.push(b);
    bytes += b.bytes;
  }
  return take;
}
