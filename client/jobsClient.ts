import { isGrpcServiceError, ServiceError, WorkflowExecutionAlreadyStartedError, WorkflowNotFoundError, type Client } from '@temporalio/client';
import type { DataSource } from 'typeorm';
import { isTemporalUnavailable, isTransientPgError } from '../connections/untilReachable';
import { OPEN_STATUSES, TERMINAL_STATUSES, type RunStatus } from '../db/entities/jobRun';
import * as jobRuns from '../db/jobRuns';
import type { JobRunRow } from '../db/jobRuns';
import { describeJob } from '../jobs/catalog';
import { concurrencyQueueOf } from '../jobs/concurrency';
import { partitionKeyOf } from '../jobs/partition';
import { InvalidArgumentsError, type JobRegistry } from '../jobs/registry';
import { reportDown, reportUp } from '../observability/dependencies';
import { events } from '../observability/events';
import type { JobDescription } from '../workflows/catalogTypes';
import type { scheduledJob } from '../workflows/scheduledJob';
import type { JobArgs, JobMetrics } from '../workflows/types';
import { runStatusFromTemporal } from './statusMapping';
import { workflowIdFor } from './workflowId';

const GRPC_INVALID_ARGUMENT = 3;
/** The advisory lock that lets one worker at a time reconcile (db/dataSource.ts holds the migrations' lock). */
const RECONCILER_LOCK = 7_170_002;

/** The gRPC status code of a client error: the SDK's ServiceError carries the gRPC error as its cause. */
function grpcCodeOf(err: unknown): number | undefined {
  if (isGrpcServiceError(err)) return err.code;
  return err instanceof ServiceError && isGrpcServiceError(err.cause) ? err.cause.code : undefined;
}

/** What Temporal issues as run IDs (UUIDs). */
const RUN_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

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

export class RunNotFoundError extends Error {
  override name = 'RunNotFound';
  constructor(
    readonly runId: string,
    readonly job: string,
  ) {
    super(`no run ${runId} of job ${job}: a run ID is the runId its trigger returned`);
  }
}

export interface RunView {
  job: string;
  workflowId: string;
  /** The run the trigger returned; stays the same across whole-job retries. */
  runId: string;
  /** The run of the latest attempt. */
  latestRunId: string;
  attempt: number;
  status: RunStatus;
  args: JobArgs;
  startedAt: string;
  finishedAt: string | null;
  error: string | null;
  metrics: JobMetrics;
  /** A queued run's place in its job's (or group's) queue: 1 runs next. Null unless queued. */
  queuePosition: number | null;
  /** When a run of a limited job entered the queue; null for a job without a limit. */
  queuedAt: string | null;
}


/** Everything that starts, inspects or stops job runs goes through here: the HTTP API, the CLI and the tests. */
export class JobsClient {
  constructor(
    readonly temporal: Client,
    readonly ds: DataSource,
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
        await jobRuns.openRun(this.ds, { job, workflowId, runId, args, partitionKey: partitionKeyOf(def.partition, args), concurrencyQueue });
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
    const latest = await jobRuns.latestOfChain(this.ds, job, runId);
    if (!latest) return this.startedNotRecorded(job, runId);
    let view = toView(latest);
    if (OPEN_STATUSES.includes(view.status) || view.status === 'failed' || view.status === 'timed_out') {
      view = await this.followTemporal(view, latest.first_run_id);
    }
    return (await this.withQueuePositions([view]))[0]!;
  }

  /** Each queued view with its place in its queue. */
  private async withQueuePositions(views: RunView[]): Promise<RunView[]> {
    const queued = views.filter((v) => v.status === 'queued').map((v) => v.latestRunId);
    if (queued.length === 0) return views;
    const places = await jobRuns.queuePositions(this.ds, queued);
    return views.map((v) => (v.status === 'queued' ? { ...v, queuePosition: places.get(v.latestRunId) ?? null } : v));
  }

  /**
   * Every job as `GET /jobs`, `scheduled-job jobs` and the console list it: its description (limit and alert settings
   * included, never a webhook's URL or secret) with how many of its runs run and wait for a permit now.
   */
  async describeJobs(): Promise<(JobDescription & { running: number; queued: number })[]> {
    const defs = this.jobs.list();
    const counts = await jobRuns.openCounts(this.ds, defs.map((d) => d.name));
    return defs.map((def) => ({ ...describeJob(def), ...(counts.get(def.name) ?? { running: 0, queued: 0 }) }));
  }

  /**
   * A run Temporal has that the log has no row of yet: a trigger whose start was accepted while Postgres was away
   * (answered 503, and then 409 naming this run), or a start from another client whose first attempt has not written
   * its row. Such a run ID was handed out, so it is reported as what Temporal says it is, never as unknown.
   */
  private async startedNotRecorded(job: string, runId: string): Promise<RunView> {
    // Only a run ID Temporal could have issued goes into the query (it is also the caller's text).
    if (!RUN_ID.test(runId)) throw new RunNotFoundError(runId, job);
    for await (const wf of this.temporal.workflow.list({ query: `WorkflowType = 'scheduledJob' AND RunId = '${runId}'` })) {
      if (wf.workflowId !== job && !wf.workflowId.startsWith(`${job}/`)) break;
      const mapped = runStatusFromTemporal(wf.status.name);
      return {
        job,
        workflowId: wf.workflowId,
        runId,
        latestRunId: runId,
        attempt: 1,
        status: mapped.status,
        args: {},
        startedAt: wf.startTime.toISOString(),
        finishedAt: wf.closeTime ? wf.closeTime.toISOString() : null,
        error: mapped.error,
        metrics: {},
        // Without its row nothing says whether it waits for a permit: it reads as Temporal has it.
        queuePosition: null,
        queuedAt: null,
      };
    }
    throw new RunNotFoundError(runId, job);
  }

  /**
   * The log can lag Temporal: between a failed attempt and the retry's first step the chain is still running, and a
   * terminate or timeout leaves no row update. Temporal's view of the chain decides those cases; the row itself is
   * closed by the workers' reconciler (reconcileStale), so a status read never writes.
   */
  private async followTemporal(view: RunView, firstRunId: string): Promise<RunView> {
    let current;
    try {
      current = await this.temporal.workflow.getHandle(view.workflowId).describe();
    } catch (err) {
      if (err instanceof WorkflowNotFoundError) return view;
      throw err;
    }
    const sameChain = (current.raw.workflowExecutionInfo?.firstRunId || current.runId) === firstRunId;
    if (!sameChain) return OPEN_STATUSES.includes(view.status) ? this.withTemporalOutcome(view) : view;
    const mapped = runStatusFromTemporal(current.status.name);
    // Open in Temporal: queued while its latest attempt waits for a permit, else running (a retry between attempts too).
    if (mapped.status === 'running') return { ...view, status: view.status === 'queued' ? 'queued' : 'running', finishedAt: null };
    if (current.runId === view.latestRunId) return this.withTemporalOutcome(view);
    return view;
  }

  /** A `running` view of a run that Temporal has ended, as the reconciler will record it. */
  private async withTemporalOutcome(view: RunView): Promise<RunView> {
    if (!OPEN_STATUSES.includes(view.status)) return view;
    const outcome = await this.temporalOutcome(view.workflowId, view.latestRunId);
    if (outcome.status === 'running') return view;
    return { ...view, status: outcome.status, error: view.error ?? outcome.error, finishedAt: outcome.closedAt };
  }

  /**
   * Closes the row of run `runId` when Temporal has ended it without its code (terminated, timed out, deleted), as the
   * reconciler would; returns whether it did. A permit's waiter calls it for a slot's last holder before taking it.
   */
  async closeIfEnded(row: { workflow_id: string; run_id: string }): Promise<boolean> {
    const outcome = await this.temporalOutcome(row.workflow_id, row.run_id);
    if (outcome.status === 'running') return false;
    await jobRuns.closeFromTemporal(this.ds, { runId: row.run_id, ...outcome });
    return true;
  }

  private async temporalOutcome(workflowId: string, runId: string): Promise<{ status: RunStatus; error: string | null; closedAt: string }> {
    try {
      const d = await this.temporal.workflow.getHandle(workflowId, runId).describe();
      return { ...runStatusFromTemporal(d.status.name), closedAt: (d.closeTime ?? new Date()).toISOString() };
    } catch (err) {
      // INVALID_ARGUMENT: an ID Temporal could never have issued (a row written by hand); no later look can close it.
      if (!(err instanceof WorkflowNotFoundError) && grpcCodeOf(err) !== GRPC_INVALID_ARGUMENT) throw err;
      return { status: 'failed', error: 'run no longer known to Temporal', closedAt: new Date().toISOString() };
    }
  }

  /**
   * Closes `running` rows whose runs Temporal has already ended (terminate, timeout, deleted): the workers call this
   * on a timer, and one of them at a time does the pass (a session advisory lock, released with its connection if
   * the worker dies), so several workers do not repeat each other's Temporal calls. The updates are autocommitted
   * one by one, so no row stays locked while Temporal is asked about the next.
   */
  async reconcileStale(olderThanMs: number, limit = 100): Promise<number> {
    const gate = this.ds.createQueryRunner();
    await gate.connect();
    try {
      const [lock] = (await gate.query(`SELECT pg_try_advisory_lock($1) AS leader`, [RECONCILER_LOCK])) as { leader: boolean }[];
      if (!lock?.leader) return 0;
      try {
        return await this.reconcilePass(olderThanMs, limit);
      } finally {
        await gate.query(`SELECT pg_advisory_unlock($1)`, [RECONCILER_LOCK]).catch(() => undefined);
      }
    } finally {
      await gate.release();
    }
  }

  private async reconcilePass(olderThanMs: number, limit: number): Promise<number> {
    const rows = await jobRuns.staleRunning(this.ds, olderThanMs, limit);
    let closed = 0;
    let firstError: unknown;
    for (const row of rows) {
      let outcome;
      try {
        outcome = await this.temporalOutcome(row.workflow_id, row.run_id);
      } catch (err) {
        firstError ??= err;
        // A row that cannot be looked at now goes to the back of the queue instead of blocking every row behind it;
        // with Temporal away, no other row can be looked at either.
        await jobRuns.touch(this.ds, row.run_id).catch(() => undefined);
        if (isTemporalUnavailable(err)) break;
        continue;
      }
      if (outcome.status === 'running') {
        await jobRuns.touch(this.ds, row.run_id);
        continue;
      }
      await jobRuns.closeFromTemporal(this.ds, { runId: row.run_id, ...outcome });
      closed++;
    }
    if (firstError !== undefined) throw firstError;
    return closed;
  }

  async runs(job: string, limit = 20): Promise<RunView[]> {
    this.jobs.get(job);
    return this.withQueuePositions(
      (await jobRuns.latestPerChain(this.ds, job))
        .map(toView)
        .sort((a, b) => b.startedAt.localeCompare(a.startedAt))
        .slice(0, limit),
    );
  }

  /** Every attempt of a run (the chain its trigger started), first attempt first. */
  async attempts(job: string, runId: string): Promise<RunView[]> {
    this.jobs.get(job);
    const rows = await jobRuns.attemptsOfChain(this.ds, job, runId);
    if (rows.length === 0) throw new RunNotFoundError(runId, job);
    return rows.map(toView);
  }

  /** Each job's latest run and how its runs of the last `days` days ended. */
  async records(days: number): Promise<{ job: string; last: RunView | null; succeeded: number; finished: number }[]> {
    const records = await jobRuns.jobRecords(this.ds, this.jobs.list().map((d) => d.name), days);
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

function toView(r: JobRunRow): RunView {
  return {
    job: r.job_name,
    workflowId: r.workflow_id,
    runId: r.first_run_id,
    latestRunId: r.run_id,
    attempt: r.attempt,
    status: r.status,
    args: r.args,
    startedAt: r.started_at.toISOString(),
    finishedAt: r.finished_at ? r.finished_at.toISOString() : null,
    error: r.error,
    metrics: r.metrics,
    queuePosition: null,
    queuedAt: r.queued_at ? r.queued_at.toISOString() : null,
  };
}
