import {
  allHandlersFinished,
  condition,
  continueAsNew,
  deprecatePatch,
  isCancellation,
  log,
  proxyActivities,
  setHandler,
  sleep,
  workflowInfo,
} from '@temporalio/workflow';
import type { KafkaRangeIngestActivities } from '../activities/kafkaRangeIngest';
import { isIngestWorkflowIdOf } from './consumerIds';
import { ingestProgressQuery, ingestRangeSignal } from './consumerSignals';
import type { IngestProgress, IngestWorkflowInput, KafkaRange, PartitionIngestTotals, RangeIngestResult } from './consumerTypes';
import { errorText } from './kafkaConsumer';
import { requireOwnWorkflowId } from './ownWorkflowId';

/**
 * The marker every run of the descriptor flow records. Runs from before it (row batches in their signals) are gone
 * before this code is deployed: `scheduled-job consumers upgrade-check` lists any run without it.
 */
const RANGES_PATCH = 'consumer-ingest-kafka-ranges';
/** One range activity covers at most this many offsets: contiguous descriptors are merged up to it. */
const MAX_OFFSETS_PER_WRITE = 1_000_000;

/**
 * The ingest side of one partition (or group of partitions), ID `ingest/<consumer>/<topic>/<partition>`: accepts the
 * descriptors the consumer signals, in offset order (a descriptor at or below what it already accepted is a
 * redelivery and is dropped), and writes each range with one activity that reads it from Kafka and writes rows, dead
 * letters and the applied offset together. A write handed back short of its end (its consumer stayed paused) leaves
 * the rest queued. It continues as new every `continueAsNewAfterBatches` signals or when Temporal suggests it,
 * carrying the ranges not yet written (a few bytes each) into the next run.
 */
export async function consumerIngest(input: IngestWorkflowInput): Promise<void> {
  requireOwnWorkflowId(`the ingest of consumer ${input.consumer}`, `ingest/${input.consumer}/<topic>/<partition>`, (id) =>
    isIngestWorkflowIdOf(input.consumer, id),
  );
  const s = input.settings;
  const c = input.carried;
  const ranges: KafkaRange[] = [...(c?.ranges ?? [])];
  const acceptedUpTo: Record<string, string> = { ...(c?.acceptedUpTo ?? {}) };
  const totals: Required<PartitionIngestTotals> = { batches: 0, rows: 0, inserted: 0, duplicates: 0, messages: 0, deadLetters: 0, skipped: 0, lost: 0, ...c?.totals };
  const writtenUpTo: Record<string, string> = { ...(c?.writtenUpTo ?? {}) };
  const generation = c?.generation ?? 0;
  let batchesThisRun = 0;
  let lastError: string | undefined;

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
  deprecatePatch(RANGES_PATCH);

  const retry = { initialInterval: s.retryInitialIntervalMs, backoffCoefficient: 2, maximumInterval: s.retryMaximumIntervalMs };
  const acts = proxyActivities<KafkaRangeIngestActivities>({
    // It heartbeats after every transaction; the heartbeat timeout is what moves a range off a dead worker.
    startToCloseTimeout: '1 hour',
    heartbeatTimeout: s.heartbeatTimeoutMs ?? 20_000,
    // Unlimited: a Postgres or Kafka outage is a wait, and the partition waits with it.
    retry: { ...retry, nonRetryableErrorTypes: ['UnknownConsumer', 'UnknownHandler'] },
  });
  const continueAsNewDue = () => batchesThisRun >= s.continueAsNewAfterBatches || workflowInfo().continueAsNewSuggested;

  for (;;) {
    await condition(() => ranges.length > 0 || continueAsNewDue());
    if (continueAsNewDue()) break;
    const n = mergeable(ranges);
    const first = ranges[0]!;
    const lastOffset = ranges[n - 1]!.lastOffset;
    let result: RangeIngestResult;
    try {
      result = await acts.ingestKafkaRange({ consumer: input.consumer, topic: first.topic, partition: first.partition, firstOffset: first.firstOffset, lastOffset });
    } catch (err) {
      // A non-retryable failure (a misconfigured handler) or a write that kept failing for its whole schedule gets
      // here. The offsets are committed already: failing the workflow would lose them, so keep them and try later.
      if (isCancellation(err)) throw err;
      lastError = errorText(err);
      log.error('writing failed; keeping it queued and retrying later', { consumer: input.consumer, error: lastError });
      await sleep(Math.max(s.retryMaximumIntervalMs, 1000));
      continue;
    }
    lastError = undefined;
    const applied = BigInt(result.appliedOffset);
    if (applied >= BigInt(lastOffset)) {
      ranges.splice(0, n);
    } else {
      // Handed back part-way (its consumer stayed paused): what is written leaves the queue, the rest stays first.
      while (BigInt(ranges[0]!.lastOffset) <= applied) ranges.shift();
      const rest = ranges[0]!;
      if (BigInt(rest.firstOffset) <= applied) ranges[0] = { ...rest, firstOffset: (applied + 1n).toString(), messages: Number(BigInt(rest.lastOffset) - applied) };
    }
    totals.batches += 1;
    totals.rows += result.rows;
    totals.inserted += result.inserted;
    totals.duplicates += result.rows - result.inserted;
    totals.messages += result.messages;
    totals.deadLetters += result.deadLetters;
    totals.skipped += result.skipped;
    totals.lost += result.lost ?? 0;
    writtenUpTo[`${first.topic}/${first.partition}`] = result.appliedOffset;
  }

  // Signal handlers are synchronous, so every signal delivered so far is in `ranges`; a signal arriving while this
  // task completes makes the server reject the continue-as-new and replay the task with that signal in it.
  await condition(allHandlersFinished);
  await continueAsNew<typeof consumerIngest>({
    consumer: input.consumer,
    settings: input.settings,
    carried: { ranges, acceptedUpTo, generation: generation + 1, totals, writtenUpTo },
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
