import {
  ActivityFailure,
  ApplicationFailure,
  CancellationScope,
  continueAsNew,
  defineQuery,
  isCancellation,
  patched,
  proxyActivities,
  proxyLocalActivities,
  setHandler,
  sleep,
  TemporalFailure,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { RunLogActivities } from '../activities/runLog';
import { backoffMs } from '../domain/backoff';
import { sendAlert } from './alerts';
import { jobHandlerNamed } from './jobHandler';
import { acquirePermit, type HeldPermit } from './permits';
import { DAY, JOB_NAME } from './searchAttributes';
import {
  ATTEMPT_TIMED_OUT,
  INVALID_ARGUMENTS,
  UNKNOWN_HANDLER,
  UNKNOWN_JOB,
  WRONG_WORKFLOW_ID,
  type JobMetrics,
  type JobProgress,
  type JobRetry,
  type ResolvedJob,
  type ScheduledJobInput,
  type ScheduledJobResult,
} from './types';

export const progressQuery = defineQuery<JobProgress>('progress');

// The run log must be written even when the database blips: retry without limit, with a capped backoff.
const RUN_LOG_OPTIONS = {
  startToCloseTimeout: '30s',
  retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '30s' },
} as const;
/**
 * The run log's two writes run as local activities: each is one short Postgres statement, and as an activity task
 * each cost Temporal a dispatch, its own persistence writes and a workflow task of its own, which a busy worker's
 * runs made every trigger wait behind (BENCHMARKS.md, the Temporal server against the dev server). Runs recorded
 * before keep their activity tasks.
 */
const localRunLog = proxyLocalActivities<RunLogActivities>(RUN_LOG_OPTIONS);
const remoteRunLog = proxyActivities<RunLogActivities>(RUN_LOG_OPTIONS);

const NEVER_RETRIED = [INVALID_ARGUMENTS, UNKNOWN_JOB, UNKNOWN_HANDLER, WRONG_WORKFLOW_ID];

/**
 * One attempt of a job. The workflow ID is the job's lock, and the run log refuses an attempt whose ID is not the
 * convention's for its job and arguments before anything else is written, so a hand-typed start cannot bypass it. A failed attempt that the job's retry policy allows
 * waits out its backoff and continues as new with the next attempt number: the lock stays held, the run chain (and
 * its first run ID, which the trigger returned) stays the same, and every starter gets the policy of the definition.
 * A job with a concurrency limit waits `queued` for a permit before its handler runs, and gives it back when the
 * attempt ends (before a retry's backoff; the permit's parent-close policy covers every other end). A chain that
 * finally fails sends the job's `failed` alert.
 */
export async function scheduledJob(input: ScheduledJobInput): Promise<ScheduledJobResult> {
  const info = workflowInfo();
  const attempt = input.attempt ?? 1;
  const progress: JobProgress = { job: input.job, attempt, phase: 'starting', metrics: {} };
  setHandler(progressQuery, () => progress);

  const runLog = patched('run-log-local-activities') ? localRunLog : remoteRunLog;
  let job: ResolvedJob | undefined;
  let permit: HeldPermit | null = null;
  try {
    job = await runLog.startAttempt({
      job: input.job,
      args: input.args ?? {},
      workflowId: info.workflowId,
      runId: info.runId,
      firstRunId: info.firstExecutionRunId,
      attempt,
    });
    // The partition the definition declares; a day partition is the `Day` attribute the Web UI filters on.
    const day = job.partition?.kind === 'day' ? job.partition.key : undefined;
    upsertSearchAttributes([
      { key: JOB_NAME, value: input.job },
      ...(day !== undefined ? [{ key: DAY, value: day }] : []),
    ]);
    if (job.concurrencyQueue !== undefined) {
      progress.phase = 'queued';
      permit = await acquirePermit(input.job, job.concurrencyQueue);
      progress.phase = 'starting';
    }
    const metrics = await runHandler(job, input.job, attempt, progress);
    progress.phase = 'succeeded';
    progress.metrics = metrics;
    await runLog.finishAttempt({ runId: info.runId, status: 'succeeded', error: null, metrics });
    return { status: 'succeeded', attempt, metrics };
  } catch (err) {
    if (isCancellation(err)) {
      await CancellationScope.nonCancellable(() =>
        runLog.finishAttempt({ runId: info.runId, status: 'cancelled', error: 'cancelled', metrics: progress.metrics }),
      );
      throw err;
    }
    const failure = toJobFailure(err);
    progress.phase = 'failed';
    const status = failure.type === ATTEMPT_TIMED_OUT ? 'timed_out' : 'failed';
    const error = `${failure.type}: ${failure.message}`;
    await runLog.finishAttempt({ runId: info.runId, status, error, metrics: progress.metrics });
    // After the row closed: the runs job_runs shows running never outnumber the permits.
    await permit?.release();
    if (job && retryAllowed(job.retry, failure, attempt)) {
      progress.phase = 'waiting to retry';
      await sleep(retryWaitMs(job.retry, attempt));
      await continueAsNew<typeof scheduledJob>({ job: input.job, args: input.args ?? {}, attempt: attempt + 1 });
    }
    if (job?.alertOnFailure) {
      await sendAlert(input.job, 'failed', info.firstExecutionRunId, {
        occurredAt: new Date().toISOString(),
        partition: job.partition?.key ?? null,
        run: { workflowId: info.workflowId, runId: info.firstExecutionRunId, attempt, status, error: error.slice(0, 2000) },
      });
    }
    throw failure;
  }
}

async function runHandler(job: ResolvedJob, name: string, attempt: number, progress: JobProgress): Promise<JobMetrics> {
  const handler = jobHandlerNamed(job.handler);
  if (!handler) throw ApplicationFailure.nonRetryable(`no workflow handler named ${job.handler}`, UNKNOWN_HANDLER);
  const run = () =>
    handler(job.args, {
      job: name,
      attempt,
      policy: job.activity,
      progress(phase, m) {
        progress.phase = phase;
        progress.metrics = m;
      },
    });
  if (job.attemptTimeoutMs === null) return run();
  // A scope of its own, so the deadline cancels the handler's activities and children but not the run log.
  const scope = new CancellationScope();
  let timedOut = false;
  // A cancelled run cancels this timer too: its rejection is expected, and left unhandled it would fail every workflow
  // task until the timer fired (the cancel would wait out the attempt's timeout, and so would a permit's release).
  void sleep(job.attemptTimeoutMs).then(
    () => {
      timedOut = true;
      scope.cancel();
    },
    () => undefined,
  );
  try {
    return await scope.run(run);
  } catch (err) {
    if (timedOut && isCancellation(err)) {
      throw ApplicationFailure.retryable(`the attempt ran past its timeout of ${job.attemptTimeoutMs} ms`, ATTEMPT_TIMED_OUT);
    }
    throw err;
  }
}

function retryAllowed(retry: JobRetry, failure: ApplicationFailure, attempt: number): boolean {
  const type = failure.type ?? 'Error';
  return attempt <= retry.retries && !failure.nonRetryable && !NEVER_RETRIED.includes(type) && !retry.nonRetryable.includes(type);
}

function retryWaitMs(retry: JobRetry, attempt: number): number {
  return backoffMs({ initialMs: retry.initialIntervalMs, coefficient: retry.backoffCoefficient, maxMs: retry.maximumIntervalMs }, attempt);
}

/**
 * Any uncaught error fails the attempt. A plain Error thrown in workflow code would otherwise only fail the workflow
 * task (and retry forever), and an ActivityFailure's own type would hide the activity's error type from the
 * declared non-retryable types, so both become an ApplicationFailure typed by the root cause.
 */
function toJobFailure(err: unknown): ApplicationFailure {
  if (err instanceof ApplicationFailure) return err;
  let root: unknown = err;
  while (root instanceof ActivityFailure || (root instanceof TemporalFailure && root.cause && !(root instanceof ApplicationFailure))) {
    root = root.cause;
  }
  if (root instanceof ApplicationFailure) {
    return ApplicationFailure.create({
      message: root.message,
      type: root.type ?? 'Error',
      nonRetryable: root.nonRetryable ?? false,
      details: root.details ? [...root.details] : undefined,
      cause: err instanceof TemporalFailure ? err : undefined,
    });
  }
  const e = root instanceof Error ? root : new Error(String(root));
  return ApplicationFailure.create({ message: e.message, type: e.name || 'Error', nonRetryable: false });
}
