import {
  ActivityCancellationType,
  allHandlersFinished,
  CancellationScope,
  condition,
  continueAsNew,
  defineQuery,
  defineSignal,
  isCancellation,
  log,
  patched,
  proxyActivities,
  proxyLocalActivities,
  setHandler,
  sleep,
  workflowInfo,
} from '@temporalio/workflow';
import type { BatchWriteActivities } from '../activities/curatedProgramWrites';
import type { KafkaConsumerActivities } from '../activities/kafkaConsumer';
import type {
  ConsumerCounts,
  ConsumerReport,
  ConsumerStatus,
  ConsumerWorkflowInput,
  IngestBatch,
  IngestProgress,
  IngestTotals,
  IngestWorkflowInput,
} from './consumerTypes';
import { consumerWorkflowId, isIngestWorkflowIdOf } from '../consumers/ids';
import { requireOwnWorkflowId } from './ownWorkflowId';

/** Stops consuming: the consumer activity is cancelled (the Kafka consumer disconnects) until `resume`. */
export const pauseSignal = defineSignal('pause');
export const resumeSignal = defineSignal('resume');
/** Sent by the consumer activity when lag or offsets change (at most every `timeouts.report`). */
export const consumerReportSignal = defineSignal<[ConsumerReport]>('report');
/** Lag per partition and committed offsets at the last report, plus the workflow's own state. */
export const consumerStatusQuery = defineQuery<ConsumerStatus>('status');

/** One batch of decoded rows of one partition, in offset order, from the consumer activity. */
export const ingestBatchSignal = defineSignal<[IngestBatch]>('batch');
export const ingestProgressQuery = defineQuery<IngestProgress>('progress');

/**
 * An ingest workflow carries at most this much unwritten input into its next run (payloads are capped at 2 MB). The
 * consumer keeps the backlog near this size (`INGEST_BACKLOG_BYTES` in the activity), so the drain before a
 * continue-as-new is short.
 */
const CARRY_BYTES = 1024 * 1024;
/** One write takes the queued batches up to this size; 4 MiB writes drained slower in the bench (longer row locks). */
const WRITE_BYTES = 1024 * 1024;
const WRITE_BATCHES = 20;
const LOCAL_WRITES_PATCH = 'consumer-ingest-local-writes';

const zeroCounts = (): ConsumerCounts => ({ messages: 0, rows: 0, deadLetters: 0, signals: 0 });

/**
 * One long-running workflow per consumer, ID `consumer/<name>` (its lock): the talk's KafkaEx consumer-group
 * supervisor. It keeps one heartbeating activity hosting the kafkajs consumer alive; Temporal retries that activity
 * without limit, on another worker when its worker dies. `pause` / `resume` stop and restart it; the workflow
 * continues as new after `continueAsNewAfterReports` status reports (its only source of history growth).
 */
export async function kafkaConsumer(input: ConsumerWorkflowInput): Promise<void> {
  requireOwnWorkflowId(`consumer ${input.consumer}`, consumerWorkflowId(input.consumer));
  const s = input.settings;
  const c = input.carried;
  const state = {
    paused: c?.paused ?? false,
    generation: c?.generation ?? 0,
    report: c?.report,
    totals: { ...(c?.totals ?? zeroCounts()) },
    startedAt: c?.startedAt ?? new Date().toISOString(),
    lastError: c?.lastError,
    reportsThisRun: 0,
    backingOff: false,
  };
  setHandler(pauseSignal, () => {
    state.paused = true;
  });
  setHandler(resumeSignal, () => {
    state.paused = false;
  });
  setHandler(consumerReportSignal, (r) => {
    state.report = r;
    for (const k of Object.keys(state.totals) as (keyof ConsumerCounts)[]) state.totals[k] += r.delta[k];
    state.reportsThisRun++;
  });
  setHandler(
    consumerStatusQuery,
    (): ConsumerStatus => ({
      consumer: input.consumer,
      state: state.paused ? 'paused' : state.backingOff ? 'backing_off' : 'running',
      generation: state.generation,
      reportsThisRun: state.reportsThisRun,
      historyLength: workflowInfo().historyLength,
      lag: state.report?.lag ?? null,
      partitions: state.report?.partitions ?? [],
      host: state.report?.host ?? null,
      reportedAt: state.report?.at ?? null,
      totals: state.totals,
      startedAt: state.startedAt,
      lastError: state.lastError ?? null,
    }),
  );

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
  const continueAsNewDue = () => state.reportsThisRun >= s.continueAsNewAfterReports || workflowInfo().continueAsNewSuggested;

  while (!continueAsNewDue()) {
    if (state.paused) {
      await condition(() => !state.paused || continueAsNewDue());
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
      await condition(() => done || state.paused || continueAsNewDue());
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
      state.lastError = failure instanceof Error ? `${failure.message}: ${String((failure.cause as Error | undefined)?.message ?? '')}` : String(failure);
      log.warn('consumer activity failed; starting it again after a pause', { consumer: input.consumer, error: state.lastError });
      state.backingOff = true;
      await sleep(Math.max(s.retryMaximumIntervalMs, 1000));
      state.backingOff = false;
    }
  }

  await condition(allHandlersFinished);
  await continueAsNew<typeof kafkaConsumer>({
    consumer: input.consumer,
    settings: input.settings,
    carried: {
      paused: state.paused,
      generation: state.generation + 1,
      ...(state.report ? { report: state.report } : {}),
      totals: state.totals,
      startedAt: state.startedAt,
      ...(state.lastError !== undefined ? { lastError: state.lastError } : {}),
    },
  });
}

/**
 * The ingest side of one partition (or group of partitions), ID `ingest/<consumer>/<topic>/<partition>`: queues the
 * batches the consumer signals and writes them in order with an idempotent activity (redelivered messages after a
 * crash insert nothing). It continues as new every `continueAsNewAfterBatches` signals or when Temporal suggests it,
 * carrying the batches not yet written into the next run.
 */
export async function consumerIngest(input: IngestWorkflowInput): Promise<void> {
  requireOwnWorkflowId(`the ingest of consumer ${input.consumer}`, `ingest/${input.consumer}/<topic>/<partition>`, (id) =>
    isIngestWorkflowIdOf(input.consumer, id),
  );
  const s = input.settings;
  const c = input.carried;
  const queue: IngestBatch[] = [...(c?.pending ?? [])];
  const totals: IngestTotals = { ...(c?.totals ?? { batches: 0, rows: 0, inserted: 0, duplicates: 0 }) };
  const writtenUpTo: Record<string, string> = { ...(c?.writtenUpTo ?? {}) };
  const generation = c?.generation ?? 0;
  let batchesThisRun = 0;
  let lastError: string | undefined;

  setHandler(ingestBatchSignal, (batch) => {
    queue.push(batch);
    batchesThisRun++;
  });
  setHandler(
    ingestProgressQuery,
    (): IngestProgress => ({
      consumer: input.consumer,
      generation,
      pendingBatches: queue.length,
      pendingBytes: bytesOf(queue),
      batchesThisRun,
      historyLength: workflowInfo().historyLength,
      totals,
      writtenUpTo,
      lastError: lastError ?? null,
    }),
  );

  const retry = { initialInterval: s.retryInitialIntervalMs, backoffCoefficient: 2, maximumInterval: s.retryMaximumIntervalMs };
  // A local activity: the rows are already in this workflow's history (the signal), so the write's input is not sent
  // to the server a second time, and there is no activity task to dispatch. Replaying a task re-runs a write whose
  // marker was not recorded, which the idempotent insert turns into a no-op. Runs started before this change wrote
  // with activity tasks; they keep doing so until they continue as new.
  const acts = patched(LOCAL_WRITES_PATCH)
    ? // Bounded: the SDK retries a local activity inside one open workflow task, whose heartbeats grow the history,
      // so a long Postgres outage comes back to the loop below, which waits and tries again.
      proxyLocalActivities<BatchWriteActivities>({ startToCloseTimeout: '2 minutes', scheduleToCloseTimeout: '5 minutes', retry })
    : proxyActivities<BatchWriteActivities>({ startToCloseTimeout: '2 minutes', retry });
  const continueAsNewDue = () => batchesThisRun >= s.continueAsNewAfterBatches || workflowInfo().continueAsNewSuggested;

  for (;;) {
    await condition(() => queue.length > 0 || continueAsNewDue());
    if (continueAsNewDue() && bytesOf(queue) <= CARRY_BYTES) break;
    const take = takeFront(queue);
    let result;
    try {
      result = await acts.writeConsumerBatches({ consumer: input.consumer, handler: input.handler, batches: take });
    } catch (err) {
      // A non-retryable failure (a misconfigured handler) or a write that kept failing for its whole schedule-to-close
      // time gets here. The offsets of these batches are committed already: failing the workflow would lose them, so
      // keep them and try again later.
      if (isCancellation(err)) throw err;
      lastError = err instanceof Error ? `${err.message}: ${String((err.cause as Error | undefined)?.message ?? '')}` : String(err);
      log.error('writing a batch failed; keeping it queued and retrying later', { consumer: input.consumer, error: lastError });
      await sleep(Math.max(s.retryMaximumIntervalMs, 1000));
      continue;
    }
    lastError = undefined;
    // Removed only once written, so `progress` shows them as pending meanwhile.
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
  }

  // Signal handlers are synchronous, so every signal delivered so far is in `queue`; a signal arriving while this
  // task completes makes the server reject the continue-as-new and replay the task with that signal in it.
  await condition(allHandlersFinished);
  await continueAsNew<typeof consumerIngest>({
    consumer: input.consumer,
    handler: input.handler,
    settings: input.settings,
    carried: { pending: queue, generation: generation + 1, totals, writtenUpTo },
  });
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
