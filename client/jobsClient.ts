import type { Client } from '@temporalio/client';
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/common';
import { isTemporalUnavailable, isTransientPgError } from '../connections/untilReachable';
import * as jobRuns from '../db/jobRuns';
import { OPEN_STATUSES, TERMINAL_STATUSES, type Queryable } from '../db/jobRuns';
import { concurrencyQueueOf } from '../jobs/concurrency';
import { partitionKeyOf } from '../jobs/partition';
import { InvalidArgumentsError, type JobRegistry } from '../jobs/registry';
import { reportDown, reportUp } from '../observability/dependencies';
import { events } from '../observability/events';
import type { scheduledJob } from '../workflows/scheduledJob';
import type { JobArgs } from '../workflows/types';
import { describeJobs } from './jobDescriptions';
import { recentRuns, RunNotFoundError, runStatus, temporalOutcome, toView, type RunView } from './runViews';
import { workflowIdFor } from './workflowId';

/** Temporal's default limit.maxIDLength; a longer ID is refused by the server after the arguments looked fine. */
const MAX_WORKFLOW_ID_BYTES = 1000;

/** A run already holds the job's lock; its identity lets the caller attach to it. */
export class AlreadyRunningError extends Error {
  override name = 'AlreadyRunning';
  constructor(
    readonly workflowId: string,
    readonly runId: string,
  ) {
    super(`${workflowId} is already running (run ${runId})`);
  }
}

/** Everything that starts, inspects or stops job runs goes through here: the HTTP API, the CLI and the tests. */
export class JobsClient {
  constructor(
    readonly temporal: Client,
    readonly db: Queryable,
    readonly jobs: JobRegistry,
    readonly taskQueue: string,
  ) {}

  /**
   * Starts a run unless one holds the lock; throws UnknownJobError, InvalidArgumentsError or AlreadyRunningError. A run
   * of a job with a concurrency limit starts `queued`: it runs once it holds a permit (at once when one is free).
   */
  async trigger(job: string, givenArgs?: unknown): Promise<{ workflowId: string; runId: string; args: JobArgs; status: 'queued' | 'running' }> {
    const def = this.jobs.get(job);
    let args: JobArgs;
    try {
      args = this.jobs.resolveArgs(job, givenArgs);
    } catch (err) {
      events.trigger(job, 'invalid');
      throw err;
    }
    const workflowId = workflowIdFor(job, def.lockKey, args);
    if (Buffer.byteLength(workflowId) > MAX_WORKFLOW_ID_BYTES) {
      events.trigger(job, 'invalid');
      throw new InvalidArgumentsError(job, [
        `args.${(def.lockKey ?? []).join(', args.')}: the workflow ID they make is longer than Temporal's ${MAX_WORKFLOW_ID_BYTES} bytes`,
      ]);
    }
    // Two tries: the run we collided with may close between our start and our describe.
    for (let attempt = 0; ; attempt++) {
      try {
        // By type name: client processes never load workflow code.
        const handle = await this.temporal.workflow.start<typeof scheduledJob>('scheduledJob', {
          workflowId,
          taskQueue: this.taskQueue,
          args: [{ job, args }],
          workflowIdConflictPolicy: 'FAIL',
          workflowIdReusePolicy: 'ALLOW_DUPLICATE',
        });
        const runId = handle.firstExecutionRunId;
        // Opened here so a status call right after the trigger finds the run (a limited job's in its place in the
        // queue, from now); the attempt's own upsert completes it.
        const concurrencyQueue = def.concurrency ? concurrencyQueueOf(job, def.concurrency, args) : null;
        await jobRuns.openRun(this.db, { job, workflowId, runId, args, partitionKey: partitionKeyOf(def.partition, args), concurrencyQueue });
        events.trigger(job, 'started');
        return { workflowId, runId, args, status: concurrencyQueue ? 'queued' : 'running' };
      } catch (err) {
        if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
        const running = await this.temporal.workflow.getHandle(workflowId).describe();
        if (running.status.name === 'RUNNING' || attempt >= 1) {
          events.trigger(job, 'already_running');
          throw new AlreadyRunningError(workflowId, running.raw.workflowExecutionInfo?.firstRunId || running.runId);
        }
      }
    }
  }

  /** A run's state, following whole-job retries to the latest attempt; a queued run's with its place in the queue. */
  async status(job: string, runId: string): Promise<RunView> {
    return runStatus(this.db, async () => this.temporal, job, runId);
  }

  async runs(job: string, limit = 20): Promise<RunView[]> {
    return recentRuns(this.db, this.jobs, job, limit);
  }

  /** Every job with its running and queued runs (client/jobDescriptions.ts). */
  async describeJobs(): Promise<Awaited<ReturnType<typeof describeJobs>>> {
    return describeJobs(this.db, this.jobs);
  }

  /**
   * Closes the row of run `runId` when Temporal has ended it without its code (terminated, timed out, deleted), as the
   * reconciler would; returns whether it did. A permit's waiter calls it for a slot's last holder before taking it.
   */
  async closeIfEnded(row: { workflow_id: string; run_id: string }): Promise<boolean> {
    const outcome = await temporalOutcome(this.temporal, row.workflow_id, row.run_id);
    if (outcome.status === 'running') return false;
    await jobRuns.closeFromTemporal(this.db, { runId: row.run_id, ...outcome });
    return true;
  }

  /** Every attempt of a run (the chain its trigger started), first attempt first. */
  async attempts(job: string, runId: string): Promise<RunView[]> {
    this.jobs.get(job);
    const rows = await jobRuns.attemptsOfChain(this.db, job, runId);
    if (rows.length === 0) throw new RunNotFoundError(runId, job);
    return rows.map(toView);
  }

  /** Each job's latest run and how its runs of the last `days` days ended. */
  async records(days: number): Promise<{ job: string; last: RunView | null; succeeded: number; finished: number }[]> {
    const records = await jobRuns.jobRecords(this.db, this.jobs.list().map((d) => d.name), days);
    return records.map((r) => ({ ...r, last: r.last ? toView(r.last) : null }));
  }

  /** The runs of a job open in Temporal now (each holds its lock), as Temporal's visibility store lists them. */
  async runningNow(job: string, limit = 5): Promise<{ workflowId: string; runId: string }[]> {
    this.jobs.get(job);
    const found: { workflowId: string; runId: string }[] = [];
    const query = `WorkflowType = "scheduledJob" AND ExecutionStatus = "Running" AND JobName = ${JSON.stringify(job)}`;
    for await (const wf of this.temporal.workflow.list({ query, pageSize: limit })) {
      found.push({ workflowId: wf.workflowId, runId: wf.runId });
      if (found.length >= limit) break;
    }
    return found;
  }

  async cancel(job: string, runId: string): Promise<void> {
    const view = await this.status(job, runId);
    await this.temporal.workflow.getHandle(view.workflowId).cancel();
  }

  /** Starts the job again with the arguments of an earlier run. */
  async rerun(job: string, runId: string): Promise<{ workflowId: string; runId: string; args: JobArgs; status: 'queued' | 'running' }> {
    const view = await this.status(job, runId);
    if (OPEN_STATUSES.includes(view.status)) throw new AlreadyRunningError(view.workflowId, view.runId);
    return this.trigger(job, view.args);
  }

  /** Waits for the chain to end, calling `onProgress` with each poll's view. */
  async waitFor(job: string, runId: string, onProgress?: (v: RunView) => void, pollMs = 1000): Promise<RunView> {
    let down: 'postgres' | 'temporal' | undefined;
    for (;;) {
      let view: RunView;
      try {
        view = await this.status(job, runId);
        if (down) reportUp(down);
        down = undefined;
      } catch (err) {
        // A waiter (`trigger --wait`) outlives a Postgres or Temporal restart: the run goes on, so keep asking.
        const dependency = isTransientPgError(err) ? 'postgres' : isTemporalUnavailable(err) ? 'temporal' : undefined;
        if (!dependency) throw err;
        down = dependency;
        reportDown(dependency, err, 'waiting for a run');
        await new Promise((r) => setTimeout(r, pollMs));
        continue;
      }
      onProgress?.(view);
      if (TERMINAL_STATUSES.includes(view.status)) return view;
      await new Promise((r) => setTimeout(r, pollMs));
    }
  }
}
