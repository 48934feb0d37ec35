import { ApplicationFailure } from '@temporalio/common';
import type { DataSource } from 'typeorm';
import type { TerminalStatus } from '../db/jobRuns';
import * as jobRuns from '../db/jobRuns';
import { InvalidArgumentsError, resolveJob, UnknownJobError, type JobRegistry } from '../jobs/registry';
import { workflowIdFor } from '../client/workflowId';
import { INVALID_ARGUMENTS, UNKNOWN_JOB, WRONG_WORKFLOW_ID, type JobArgs, type JobMetrics, type ResolvedJob } from '../workflows/types';
import { events } from '../observability/events';

export interface StartAttemptInput {
  job: string;
  args: JobArgs;
  workflowId: string;
  runId: string;
  firstRunId: string;
  attempt: number;
}

export interface FinishAttemptInput {
  runId: string;
  status: TerminalStatus;
  error: string | null;
  metrics: JobMetrics;
}

/** The job's lock for these arguments; a lock-key argument without a value is an invalid argument, not a fault. */
function lockIdOf(jobs: JobRegistry, job: string, args: JobArgs): string {
  try {
    return workflowIdFor(job, jobs.get(job).lockKey, args);
  } catch (err) {
    throw new InvalidArgumentsError(job, [(err as Error).message]);
  }
}

/** The `job_runs` log: one row per attempt, written by the attempt itself. */
export function createRunLogActivities(ds: DataSource, jobs: JobRegistry) {
  return {
    /**
     * Resolves the job's definition and arguments for the attempt (a start from the Temporal CLI or Airflow skips
     * the TypeScript client's checks), refuses it when its workflow ID is not the job's lock for those arguments,
     * and opens its row: the refusal is the only thing such an attempt writes.
     */
    async startAttempt(input: StartAttemptInput): Promise<ResolvedJob> {
      let job: ResolvedJob | undefined;
      let failure: { type: string; message: string } | undefined;
      try {
        job = resolveJob(jobs, input.job, input.args);
        const lockId = lockIdOf(jobs, input.job, job.args);
        if (lockId !== input.workflowId) {
          failure = {
            type: WRONG_WORKFLOW_ID,
            message:
              `${input.job} with these arguments must be started under workflow ID "${lockId}", not ` +
              `"${input.workflowId}": the workflow ID is the job's lock (scheduled-job trigger computes it)`,
          };
        }
      } catch (err) {
        if (err instanceof InvalidArgumentsError) failure = { type: INVALID_ARGUMENTS, message: err.message };
        else if (err instanceof UnknownJobError) failure = { type: UNKNOWN_JOB, message: err.message };
        else throw err;
      }
      // The client may have opened the row already.
      await jobRuns.openAttempt(ds, {
        job: input.job,
        workflowId: input.workflowId,
        runId: input.runId,
        firstRunId: input.firstRunId,
        attempt: input.attempt,
        args: job?.args ?? input.args,
        partitionKey: job?.partition?.key ?? null,
        concurrencyQueue: job?.concurrencyQueue ?? null,
        refusal: failure ? `${failure.type}: ${failure.message}` : null,
      });
      if (failure) throw ApplicationFailure.nonRetryable(failure.message, failure.type);
      return job!;
    },

    async finishAttempt(input: FinishAttemptInput): Promise<void> {
      const row = await jobRuns.finishAttempt(ds, input);
      if (row) events.runFinished(row.job_name, input.status, (Date.now() - row.started_at.getTime()) / 1000);
    },
  };
}

export type RunLogActivities = ReturnType<typeof createRunLogActivities>;
