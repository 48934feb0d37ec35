import {
  ActivityFailure,
  ApplicationFailure,
  CancellationScope,
  defineQuery,
  isCancellation,
  proxyActivities,
  setHandler,
  TemporalFailure,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { RunLogActivities } from '../activities/runLog';
import { jobHandlers } from './jobHandlers';
import { DAY, JOB_NAME } from './searchAttributes';
import {
  DEFAULT_ACTIVITY_POLICY,
  type JobProgress,
  type ScheduledJobInput,
  type ScheduledJobResult,
} from './types';

export const progressQuery = defineQuery<JobProgress>('progress');

// The run log must be written even when the database blips: retry without limit, with a capped backoff.
const runLog = proxyActivities<RunLogActivities>({
  startToCloseTimeout: '30s',
  retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '30s' },
});

/**
 * One attempt of a job. The workflow ID is the job's lock; whole-job retries are the workflow's retry policy, so
 * each attempt is a new run of this function with `workflowInfo().attempt` counting up.
 */
export async function scheduledJob(input: ScheduledJobInput): Promise<ScheduledJobResult> {
  const info = workflowInfo();
  const policy = input.activity ?? DEFAULT_ACTIVITY_POLICY;
  const progress: JobProgress = { job: input.job, attempt: info.attempt, phase: 'starting', metrics: {} };
  setHandler(progressQuery, () => progress);

  const handler = jobHandlers[input.handler];
  try {
    const { args } = await runLog.startAttempt({
      job: input.job,
      args: input.args,
      workflowId: info.workflowId,
      runId: info.runId,
      firstRunId: info.firstExecutionRunId,
      attempt: info.attempt,
    });
    const day = args['day'];
    upsertSearchAttributes([
      { key: JOB_NAME, value: input.job },
      ...(typeof day === 'string' ? [{ key: DAY, value: day }] : []),
    ]);

    if (!handler) {
      throw ApplicationFailure.nonRetryable(`no workflow handler named ${input.handler}`, 'UnknownHandler');
    }
    const metrics = await handler(args, {
      job: input.job,
      attempt: info.attempt,
      policy,
      progress(phase, m) {
        progress.phase = phase;
        progress.metrics = m;
      },
    });
    progress.phase = 'succeeded';
    progress.metrics = metrics;
    await runLog.finishAttempt({ runId: info.runId, status: 'succeeded', error: null, metrics });
    return { status: 'succeeded', attempt: info.attempt, metrics };
  } catch (err) {
    if (isCancellation(err)) {
      await CancellationScope.nonCancellable(() =>
        runLog.finishAttempt({ runId: info.runId, status: 'cancelled', error: 'cancelled', metrics: progress.metrics }),
      );
      throw err;
    }
    const failure = toJobFailure(err);
    progress.phase = 'failed';
    await runLog.finishAttempt({
      runId: info.runId,
      status: 'failed',
      error: `${failure.type}: ${failure.message}`,
      metrics: progress.metrics,
    });
    throw failure;
  }
}

/**
 * Any uncaught error fails the attempt. A plain Error thrown in workflow code would otherwise only fail the workflow
 * task (and retry forever), and an ActivityFailure's own type would hide the activity's error type from the
 * retry policy's declared non-retryable types, so both become an ApplicationFailure typed by the root cause.
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
