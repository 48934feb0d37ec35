import type { Client } from '@temporalio/client';
import * as jobRuns from '../db/jobRuns';
import type { JobRunRow, Queryable, RunStatus } from '../db/jobRuns';
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
}

/** A run's state, following whole-job retries to the latest attempt. */
export async function runStatus(db: Queryable, temporal: TemporalSource, job: string, runId: string): Promise<RunView> {
  const latest = await jobRuns.latestOfChain(db, job, runId);
  if (!latest) throw new RunNotFoundError(runId, job);
  const view = toView(latest);
  if (view.status === 'running' || view.status === 'failed' || view.status === 'timed_out') {
    return followTemporal(await temporal(), view, latest.first_run_id);
  }
  return view;
}

/** Each run's latest attempt, newest first; throws UnknownJobError for a job the registry does not know. */
export async function recentRuns(db: Queryable, jobs: JobRegistry, job: string, limit: number): Promise<RunView[]> {
  jobs.get(job);
  return (await jobRuns.latestPerChain(db, job))
    .map(toView)
    .sort((a, b) => b.startedAt.localeCompare(a.startedAt))
    .slice(0, limit);
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
  if (!sameChain) return view.status === 'running' ? withTemporalOutcome(temporal, view) : view;
  const mapped = runStatusFromTemporal(current.status.name);
  if (mapped.status === 'running') return { ...view, status: 'running', finishedAt: null };
  if (current.runId === view.latestRunId) return withTemporalOutcome(temporal, view);
  return view;
}

/** A `running` view of a run that Temporal has ended, as the reconciler will record it. */
async function withTemporalOutcome(temporal: Client, view: RunView): Promise<RunView> {
  if (view.status !== 'running') return view;
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
  };
}
