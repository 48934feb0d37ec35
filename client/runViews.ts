import type { Client } from '@temporalio/client';
import * as jobRuns from '../db/jobRuns';
import { OPEN_STATUSES, type JobRunRow, type Queryable, type RunStatus } from '../db/jobRuns';
import type { JobRegistry } from '../jobs/registry';
import type { JobArgs, JobMetrics } from '../workflows/types';
import { runStatusFromTemporal } from './statusMapping';

/**
 * Reading runs: the run log in Postgres, completed by Temporal where the log can lag. Temporal is reached through a
 * function, so a read the log answers alone (a finished run, a list) never loads or connects the Temporal client:
 * the CLI's `status` and `runs` start in a fraction of the time.
 */
export type TemporalSource = () => Promise<Client>;

const GRPC_INVALID_ARGUMENT = 3;

/** What Temporal issues as run IDs (UUIDs). */
const RUN_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Required at the first Temporal error: by then the client is loaded, and a read that never reached it loads neither. */
const isWorkflowNotFound = (err: unknown): boolean =>
  err instanceof (require('@temporalio/common') as typeof import('@temporalio/common')).WorkflowNotFoundError;

/** The gRPC status code of a client error, itself or its cause (the SDK's ServiceError wraps the gRPC error). */
function grpcCodeOf(err: unknown): number | undefined {
  for (let e = err as { code?: unknown; cause?: unknown } | undefined, depth = 0; e && depth < 3; e = e.cause as typeof e, depth++) {
    if (typeof e.code === 'number') return e.code;
  }
  return undefined;
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

/** A run's state, following whole-job retries to the latest attempt; a queued run's with its place in the queue. */
export async function runStatus(db: Queryable, temporal: TemporalSource, job: string, runId: string): Promise<RunView> {
  const latest = await jobRuns.latestOfChain(db, job, runId);
  if (!latest) return startedNotRecorded(await temporal(), job, runId);
  let view = toView(latest);
  if (OPEN_STATUSES.includes(view.status) || view.status === 'failed' || view.status === 'timed_out') {
    view = await followTemporal(await temporal(), view, latest.first_run_id);
  }
  return (await withQueuePositions(db, [view]))[0]!;
}

/** Each run's latest attempt, newest first; throws UnknownJobError for a job the registry does not know. */
export async function recentRuns(db: Queryable, jobs: JobRegistry, job: string, limit: number): Promise<RunView[]> {
  jobs.get(job);
  return withQueuePositions(
    db,
    (await jobRuns.latestPerChain(db, job))
      .map(toView)
      .sort((a, b) => b.startedAt.localeCompare(a.startedAt))
      .slice(0, limit),
  );
}

/** Each queued view with its place in its queue. */
async function withQueuePositions(db: Queryable, views: RunView[]): Promise<RunView[]> {
  const queued = views.filter((v) => v.status === 'queued').map((v) => v.latestRunId);
  if (queued.length === 0) return views;
  const places = await jobRuns.queuePositions(db, queued);
  return views.map((v) => (v.status === 'queued' ? { ...v, queuePosition: places.get(v.latestRunId) ?? null } : v));
}

/**
 * A run Temporal has that the log has no row of yet: a trigger whose start was accepted while Postgres was away
 * (answered 503, and then 409 naming this run), or a start from another client whose first attempt has not written
 * its row. Such a run ID was handed out, so it is reported as what Temporal says it is, never as unknown.
 */
async function startedNotRecorded(temporal: Client, job: string, runId: string): Promise<RunView> {
  // Only a run ID Temporal could have issued goes into the query (it is also the caller's text).
  if (!RUN_ID.test(runId)) throw new RunNotFoundError(runId, job);
  for await (const wf of temporal.workflow.list({ query: `WorkflowType = 'scheduledJob' AND RunId = '${runId}'` })) {
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
 * closed by the workers' reconciler (workers/runReconciler.ts), so a status read never writes.
 */
async function followTemporal(temporal: Client, view: RunView, firstRunId: string): Promise<RunView> {
  let current;
  try {
    current = await temporal.workflow.getHandle(view.workflowId).describe();
  } catch (err) {
    if (isWorkflowNotFound(err)) return view;
    throw err;
  }
  const sameChain = (current.raw.workflowExecutionInfo?.firstRunId || current.runId) === firstRunId;
  if (!sameChain) return OPEN_STATUSES.includes(view.status) ? withTemporalOutcome(temporal, view) : view;
  const mapped = runStatusFromTemporal(current.status.name);
  // Open in Temporal: queued while its latest attempt waits for a permit, else running (a retry between attempts too).
  if (mapped.status === 'running') return { ...view, status: view.status === 'queued' ? 'queued' : 'running', finishedAt: null };
  if (current.runId === view.latestRunId) return withTemporalOutcome(temporal, view);
  return view;
}

/** An open (queued or running) view of a run that Temporal has ended, as the reconciler will record it. */
async function withTemporalOutcome(temporal: Client, view: RunView): Promise<RunView> {
  if (!OPEN_STATUSES.includes(view.status)) return view;
  const outcome = await temporalOutcome(temporal, view.workflowId, view.latestRunId);
  if (outcome.status === 'running') return view;
  return { ...view, status: outcome.status, error: view.error ?? outcome.error, finishedAt: outcome.closedAt };
}

/** How Temporal says a run ended (`running` while it has not); a run Temporal no longer knows counts as failed. */
export async function temporalOutcome(
  temporal: Client,
  workflowId: string,
  runId: string,
): Promise<{ status: RunStatus; error: string | null; closedAt: string }> {
  try {
    const d = await temporal.workflow.getHandle(workflowId, runId).describe();
    return { ...runStatusFromTemporal(d.status.name), closedAt: (d.closeTime ?? new Date()).toISOString() };
  } catch (err) {
    // INVALID_ARGUMENT: an ID Temporal could never have issued (a row written by hand); no later look can close it.
    if (!isWorkflowNotFound(err) && grpcCodeOf(err) !== GRPC_INVALID_ARGUMENT) throw err;
    return { status: 'failed', error: 'run no longer known to Temporal', closedAt: new Date().toISOString() };
  }
}

export function toView(r: JobRunRow): RunView {
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
