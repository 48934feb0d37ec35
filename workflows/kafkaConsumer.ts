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
import type { ConsumerControlActivities } from '../activities/consumerControl';
import type { KafkaConsumerActivities } from '../activities/kafkaConsumer';
import { consumerWorkflowId } from './consumerIds';
import { consumerReportSignal, consumerStatusQuery, ingestWaitingSignal, pauseSignal, resumeSignal } from './consumerSignals';
import type { ConsumerCarried, ConsumerReport, ConsumerStatus, ConsumerWorkflowInput, PartitionWait } from './consumerTypes';
import { requireOwnWorkflowId } from './ownWorkflowId';

/**
 * Runs with this marker keep the pause in Postgres (`kafka_consumer_controls`), where the consumer activity and every
 * range write see it, and keep the consumer activity running while paused. Runs started before it cancel the consumer
 * activity on `pause` and start it again on `resume`.
 */
const PAUSE_IN_POSTGRES_PATCH = 'consumer-pause-in-postgres';

/**
 * One long-running workflow per consumer, ID `consumer/<name>` (its lock), supervising the consumer: it keeps one
 * heartbeating activity hosting the consumer alive (it describes new offsets as ranges); Temporal retries that
 * activity without limit, on another worker when its worker dies. `pause` / `resume` are written to Postgres in the
 * order they arrive; the workflow continues as new after `continueAsNewAfterReports` status reports (its only source
 * of history growth).
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
    // Continue-as-new (and a pause of a run from before the patch) waits until the consumer has really stopped.
    cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
    retry: {
      initialInterval: s.retryInitialIntervalMs,
      backoffCoefficient: 2,
      maximumInterval: s.retryMaximumIntervalMs,
      // no maximumAttempts: unlimited; Kafka or Postgres being down for an hour is a wait, not a failure
      nonRetryableErrorTypes: ['UnknownConsumer'],
    },
  });

  const pauseInPostgres = patched(PAUSE_IN_POSTGRES_PATCH);
  if (pauseInPostgres) {
    // Unlimited retries: a pause is never dropped because Postgres was away for a while.
    const control = proxyLocalActivities<ConsumerControlActivities>({
      startToCloseTimeout: '10s',
      retry: { initialInterval: '500ms', backoffCoefficient: 2, maximumInterval: '30s' },
    });
    // A chain's first run takes the pause Postgres holds: one set before it (CLI, API, a terminated run) still holds.
    if (!input.carried) consumer.adopt(await control.consumerPaused({ consumer: input.consumer }));
    // Ends only with the run; a cancellation of the workflow reaches it too and is the main loop's to handle.
    consumer.mirror((paused) => control.setConsumerPaused({ consumer: input.consumer, paused })).catch((err: unknown) => {
      if (!isCancellation(err)) throw err;
    });
  }
  const pausedHere = () => !pauseInPostgres && consumer.paused;

  while (!consumer.continueAsNewDue()) {
    if (pausedHere()) {
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
      await condition(() => done || pausedHere() || consumer.continueAsNewDue());
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

  await condition(() => consumer.mirrored() && allHandlersFinished());
  await continueAsNew<typeof kafkaConsumer>({ consumer: input.consumer, settings: input.settings, carried: consumer.carry() });
}

/** A consumer workflow's state, what its signals do to it, and what it carries into the next run. */
class ConsumerSupervision {
  paused: boolean;
  backingOff = false;
  lastError: string | undefined;
  private readonly generation: number;
  private lastReport: ConsumerReport | undefined;
  private readonly startedAt: string;
  private reportsThisRun = 0;
  /** Pause and resume signals received by this run, and how many of them are written to Postgres. */
  private signals = 0;
  private written = 0;
  /** By `<topic>/<partition>`: what the partition's ingest waits on, as its activity last said. */
  private readonly waiting = new Map<string, PartitionWait>();

  constructor(private readonly input: ConsumerWorkflowInput) {
    const c = input.carried;
    this.paused = c?.paused ?? false;
    this.generation = c?.generation ?? 0;
    this.lastReport = c?.report;
    this.startedAt = c?.startedAt ?? new Date().toISOString();
    this.lastError = c?.lastError;
    for (const w of c?.waiting ?? []) this.waiting.set(`${w.topic}/${w.partition}`, w);
  }

  pause(): void {
    this.paused = true;
    this.signals++;
  }

  resume(): void {
    this.paused = false;
    this.signals++;
  }

  /** What Postgres said when the chain started, unless a signal has said otherwise since. */
  adopt(paused: boolean): void {
    if (this.signals === 0) this.paused = paused;
  }

  /** Writes the latest pause state after every signal, one write at a time, so the last signal wins. */
  async mirror(write: (paused: boolean) => Promise<unknown>): Promise<never> {
    for (;;) {
      await condition(() => this.written !== this.signals);
      const upTo = this.signals;
      await write(this.paused);
      this.written = upTo;
    }
  }

  mirrored(): boolean {
    return this.written === this.signals;
  }

  report(r: ConsumerReport): void {
    this.lastReport = r;
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
    this.lastError = errorText(failure);
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
      startedAt: this.startedAt,
      ...(this.lastError !== undefined ? { lastError: this.lastError } : {}),
      ...(this.waiting.size > 0 ? { waiting: [...this.waiting.values()] } : {}),
    };
  }
}

/** A failure's message with its cause's, as the status shows it. */
export function errorText(failure: unknown): string {
  return failure instanceof Error ? `${failure.message}: ${String((failure.cause as Error | undefined)?.message ?? '')}` : String(failure);
}
