import {
  ApplicationFailure,
  CancellationScope,
  CancelledFailure,
  ChildWorkflowFailure,
  continueAsNew,
  defineQuery,
  isCancellation,
  proxyLocalActivities,
  setHandler,
  TerminatedFailure,
  TimeoutFailure,
  workflowInfo,
} from '@temporalio/workflow';
import type { BackfillActivities } from '../activities/backfill';
import { PARTITION_KINDS } from '../jobs/partition';
import {
  BACKFILL_PROGRESS_QUERY,
  backfillWorkflowId,
  EMPTY_COUNTS,
  type BackfillInput,
  type BackfillProgress,
  type BackfillState,
  type DayOutcome,
} from './backfillTypes';
import { LOCAL_STEP_OPTIONS } from './activityOptions';
import { awaitRunEnd, startUnderLock } from './lockedChild';
import { requireOwnWorkflowId } from './ownWorkflowId';

export const backfillProgressQuery = defineQuery<BackfillProgress>(BACKFILL_PROGRESS_QUERY);

const local = proxyLocalActivities<BackfillActivities>(LOCAL_STEP_OPTIONS);

/** About 10 history events a partition: 100 keeps each run near a thousand, far inside Temporal's limits. */
const DEFAULT_PARTITIONS_PER_RUN = 100;

interface DayResult {
  outcome: DayOutcome;
  runId: string | null;
  error: string | null;
}

/** The backfill's state and steps; the workflow function only wires it to Temporal (its query, continue-as-new). */
class Backfill {
  readonly days: string[];
  readonly state: BackfillState;
  readonly inFlight = new Map<string, { runId: string | null; attached: boolean }>();
  phase: BackfillProgress['phase'] = 'running';
  private begunThisRun = 0;

  constructor(private readonly input: BackfillInput) {
    this.days = PARTITION_KINDS[input.kind].between(input.from, input.to);
    this.state = input.state ?? {
      next: 0,
      retryQueue: [],
      counts: { ...EMPTY_COUNTS },
      failed: [],
      retried: 0,
      startedAt: new Date().toISOString(), // workflow time: deterministic
      continuedRuns: 0,
    };
  }

  progress(): BackfillProgress {
    const s = this.state;
    return {
      job: this.input.job,
      from: this.input.from,
      to: this.input.to,
      total: this.days.length,
      done: Object.values(s.counts).reduce((a, b) => a + b, 0),
      counts: { ...s.counts },
      inFlight: [...this.inFlight].map(([day, r]) => ({ day, ...r })),
      failed: [...s.failed],
      retried: s.retried,
      concurrency: this.input.concurrency,
      force: this.input.force,
      startedAt: s.startedAt,
      continuedRuns: s.continuedRuns,
      phase: this.phase,
    };
  }

  /** Whether this run has begun its share and should hand over to the next. */
  private runIsFull(): boolean {
    return this.begunThisRun >= (this.input.partitionsPerRun ?? DEFAULT_PARTITIONS_PER_RUN) || workflowInfo().continueAsNewSuggested;
  }

  /** The next partition to run: the range in order, then the failed ones that have runs left. */
  private take(): { day: string; runsLeft: number } | undefined {
    if (this.runIsFull() || CancellationScope.current().consideredCancelled) return undefined;
    const s = this.state;
    if (s.next < this.days.length) {
      this.begunThisRun++;
      return { day: this.days[s.next++]!, runsLeft: this.input.retries };
    }
    const retry = s.retryQueue.shift();
    if (retry) {
      this.begunThisRun++;
      s.retried++;
    }
    return retry;
  }

  get finished(): boolean {
    return this.state.next >= this.days.length && this.state.retryQueue.length === 0;
  }

  /** Runs partitions with `concurrency` in flight until the range is done or this run has begun its share. */
  async runLanes(): Promise<void> {
    const lane = async () => {
      for (let item = this.take(); item; item = this.take()) {
        const r = await this.runDay(item.day);
        this.inFlight.delete(item.day);
        const again = (r.outcome === 'failed' || r.outcome === 'timed_out') && item.runsLeft > 0;
        if (again) {
          this.state.retryQueue.push({ day: item.day, runsLeft: item.runsLeft - 1 });
          continue;
        }
        this.state.counts[r.outcome]++;
        if (r.outcome !== 'succeeded' && r.outcome !== 'skipped') this.state.failed.push({ day: item.day, ...r });
      }
    };
    await Promise.all(Array.from({ length: Math.max(1, this.input.concurrency) }, lane));
  }

  /**
   * One partition: skipped when it already succeeded (unless forced); otherwise its run is started as a child under
   * the job's lock, abandoned if the backfill is terminated (a cancel of the backfill cancels it). A run that already
   * holds the lock (a tick's, a trigger's) is attached to and waited for instead of started again.
   */
  private async runDay(day: string): Promise<DayResult> {
    const { job } = this.input;
    const plan = await local.planBackfillDay({ job, day, force: this.input.force, ...(this.input.extraArgs ? { extraArgs: this.input.extraArgs } : {}) });
    if (plan.skip) return { outcome: plan.outcome, runId: null, error: plan.outcome === 'skipped' ? null : plan.reason };
    const start = await startUnderLock(job, plan.workflowId, plan.args);
    if ('unsettled' in start) return { outcome: 'failed', runId: null, error: start.unsettled };
    if ('heldBy' in start) {
      this.inFlight.set(day, { runId: start.heldBy, attached: true });
      const end = await awaitRunEnd(job, start.heldBy);
      return { outcome: end.status as DayOutcome, runId: start.heldBy, error: end.error };
    }
    const runId = start.started.firstExecutionRunId;
    this.inFlight.set(day, { runId, attached: false });
    try {
      await start.started.result();
      return { outcome: 'succeeded', runId, error: null };
    } catch (err) {
      if (isCancellation(err) && !(err instanceof ChildWorkflowFailure)) throw err; // the backfill itself is cancelled
      return { ...childOutcome(err), runId };
    }
  }
}

function childOutcome(err: unknown): { outcome: DayOutcome; error: string | null } {
  const cause = err instanceof ChildWorkflowFailure ? err.cause : err;
  if (cause instanceof CancelledFailure) return { outcome: 'cancelled', error: 'cancelled' };
  if (cause instanceof TimeoutFailure) return { outcome: 'timed_out', error: cause.message };
  if (cause instanceof TerminatedFailure) return { outcome: 'failed', error: `terminated: ${cause.message}` };
  const e = cause instanceof ApplicationFailure ? cause : (cause as Error | undefined);
  return { outcome: 'failed', error: e ? `${e instanceof ApplicationFailure ? (e.type ?? 'Error') : e.name}: ${e.message}` : 'failed' };
}

/**
 * A durable backfill: every partition of a job from `from` to `to`, `concurrency` at a time, each under the job's
 * lock, so it meets ticks and triggers of the same partition instead of running beside them. It lives in Temporal,
 * not in the terminal that started it: it finishes when the CLI, its machine or every worker dies midway (workers
 * coming back pick it up). It continues as new every `partitionsPerRun` partitions, once the ones in flight ended,
 * so a range of years keeps each history short. Returns its progress at the end.
 */
export async function backfill(input: BackfillInput): Promise<BackfillProgress> {
  requireOwnWorkflowId(`the backfill of ${input.job} from ${input.from} to ${input.to}`, backfillWorkflowId(input.job, input.from, input.to));
  const run = new Backfill(input);
  setHandler(backfillProgressQuery, () => run.progress());
  await run.runLanes();
  // Cancelled: the runs it started were asked to cancel and have ended; the ones it only waited for go on.
  if (CancellationScope.current().consideredCancelled) throw new CancelledFailure('backfill cancelled');
  if (!run.finished) {
    run.phase = 'continuing as new';
    const state = run.state;
    await continueAsNew<typeof backfill>({ ...input, state: { ...state, continuedRuns: state.continuedRuns + 1 } });
  }
  run.phase = 'finished';
  return run.progress();
}
