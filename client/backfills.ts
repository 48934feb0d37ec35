import { WorkflowExecutionAlreadyStartedError, WorkflowNotFoundError, type Client } from '@temporalio/client';
import { InvalidArgumentsError, type JobRegistry } from '../jobs/registry';
import { partitionRange } from '../jobs/partition';
import { InvalidRequestError } from '../jobs/requestErrors';
import type { backfill } from '../workflows/backfill';
import {
  BACKFILL_PROGRESS_QUERY,
  backfillIdOf,
  backfillWorkflowId,
  backfillWorkflowIdPrefix,
  parseBackfillId,
  parseBackfillWorkflowId,
  type BackfillProgress,
} from '../workflows/backfillTypes';
import type { JobArgs } from '../workflows/types';

/** What starting and following backfills needs: the server, the definitions and the task queue the workers poll. */
export interface BackfillDeps {
  temporal: Client;
  jobs: JobRegistry;
  taskQueue: string;
}

export interface BackfillRequest {
  from: string;
  to: string;
  /** Partitions in flight at once (1-50; default 2). */
  concurrency?: number;
  /** Run partitions that already succeeded too. */
  force?: boolean;
  /** Arguments for every partition beside its own. */
  args?: JobArgs;
  /** Further runs of a failed partition, after the others (0-10; default 1). */
  retries?: number;
}

export const MAX_CONCURRENCY = 50;
export const MAX_RETRIES = 10;

/** No backfill of that range was ever started for the job (or Temporal has forgotten it). */
export class UnknownBackfillError extends Error {
  override name = 'UnknownBackfill';
}

export interface StartedBackfill {
  id: string;
  workflowId: string;
  runId: string;
  /** True when a backfill of the same range was running: this is it, with the options it was started with. */
  attached: boolean;
}

/**
 * Starts the durable backfill `backfill/<job>/<from>/<to>`, or attaches to the one running for that range. Checks
 * everything first, so nothing starts for a request to fix: an unknown job (UnknownJobError), a job without a
 * partition, a bad or too wide range, options out of bounds (InvalidRequestError), arguments that do not fit the job
 * (InvalidArgumentsError).
 */
export async function startBackfill(deps: BackfillDeps, job: string, req: BackfillRequest): Promise<StartedBackfill> {
  const def = deps.jobs.get(job);
  const { partition } = partitionRange(def, req.from, req.to);
  const concurrency = req.concurrency ?? 2;
  const retries = req.retries ?? 1;
  if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > MAX_CONCURRENCY) {
    throw new InvalidRequestError(`concurrency: must be a whole number from 1 to ${MAX_CONCURRENCY}, got ${concurrency}`);
  }
  if (!Number.isInteger(retries) || retries < 0 || retries > MAX_RETRIES) {
    throw new InvalidRequestError(`retries: must be a whole number from 0 to ${MAX_RETRIES}, got ${retries}`);
  }
  if (req.args && Object.hasOwn(req.args, partition.arg)) {
    throw new InvalidArgumentsError(job, [`args.${partition.arg}: set by the backfill for each ${partition.kind}; give the range with from and to`]);
  }
  // The arguments every partition gets, checked once with the first partition's value.
  deps.jobs.resolveArgs(job, { ...req.args, [partition.arg]: req.from });

  const workflowId = backfillWorkflowId(job, req.from, req.to);
  const id = backfillIdOf(req.from, req.to);
  try {
    // By type name: client processes never load workflow code.
    const handle = await deps.temporal.workflow.start<typeof backfill>('backfill', {
      workflowId,
      taskQueue: deps.taskQueue,
      args: [
        {
          job,
          from: req.from,
          to: req.to,
          kind: partition.kind,
          concurrency,
          force: req.force ?? false,
          retries,
          ...(req.args && Object.keys(req.args).length > 0 ? { extraArgs: req.args } : {}),
        },
      ],
      workflowIdConflictPolicy: 'FAIL',
      workflowIdReusePolicy: 'ALLOW_DUPLICATE',
    });
    return { id, workflowId, runId: handle.firstExecutionRunId, attached: false };
  } catch (err) {
    if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
    const d = await deps.temporal.workflow.getHandle(workflowId).describe();
    return { id, workflowId, runId: d.raw.workflowExecutionInfo?.firstRunId || d.runId, attached: true };
  }
}

export type BackfillStatus = 'running' | 'completed' | 'failed' | 'cancelled' | 'terminated' | 'timed_out';

/** A backfill as `backfill status`, `GET /jobs/{job}/backfills/{id}` and the console show it. */
export interface BackfillView {
  id: string;
  job: string;
  workflowId: string;
  /** The first run of the chain (its later runs are its continue-as-new). */
  runId: string;
  status: BackfillStatus;
  /** Null while no worker answers (its progress lives in the workflow; the days view reads the run log). */
  progress: BackfillProgress | null;
  error: string | null;
}

function rangeOf(deps: BackfillDeps, job: string, id: string): { workflowId: string } {
  deps.jobs.get(job);
  const range = parseBackfillId(id);
  if (!range) throw new InvalidRequestError(`backfill id ${JSON.stringify(id.slice(0, 100))}: must be <from>..<to>, e.g. 2024-05-01..2024-05-31`);
  return { workflowId: backfillWorkflowId(job, range.from, range.to) };
}

const STATUS_OF: Record<string, BackfillStatus> = {
  RUNNING: 'running',
  COMPLETED: 'completed',
  FAILED: 'failed',
  CANCELLED: 'cancelled',
  TERMINATED: 'terminated',
  TIMED_OUT: 'timed_out',
  CONTINUED_AS_NEW: 'running',
};

/** The latest backfill of that range: its status and, when a worker answers, its progress. */
export async function backfillStatus(deps: BackfillDeps, job: string, id: string, queryTimeoutMs = 5_000): Promise<BackfillView> {
  const { workflowId } = rangeOf(deps, job, id);
  const handle = deps.temporal.workflow.getHandle<typeof backfill>(workflowId);
  let d;
  try {
    d = await handle.describe();
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) throw new UnknownBackfillError(`no backfill ${id} of job ${job}: start one with from and to`);
    throw err;
  }
  const status = STATUS_OF[d.status.name] ?? 'failed';
  const runId = d.raw.workflowExecutionInfo?.firstRunId || d.runId;
  let progress: BackfillProgress | null = null;
  let error: string | null = null;
  if (status === 'completed') {
    progress = await handle.result();
  } else {
    // A closed run is replayed by a worker to answer; one that is gone leaves the progress unknown, not the status.
    // The deadline goes to the server with the call, so a query no worker takes does not outlive the wait.
    progress =
      queryTimeoutMs <= 0
        ? null
        : await deps.temporal.withDeadline(Date.now() + queryTimeoutMs, () => handle.query<BackfillProgress>(BACKFILL_PROGRESS_QUERY)).catch(() => null);
    if (status !== 'running') error = await handle.result().then(() => null, (err: Error) => (err.cause instanceof Error ? err.cause : err).message);
  }
  return { id, job, workflowId, runId, status, progress, error };
}

/** A backfill as Temporal lists it: which job and range, how it stands, when its current run began. */
export interface BackfillListing {
  id: string;
  job: string;
  from: string;
  to: string;
  workflowId: string;
  status: BackfillStatus;
  /** When its current workflow run began (a continue-as-new begins a run). */
  runStartedAt: string;
}

/**
 * The latest backfills, of one job or of all, newest first: one entry per range (its latest run), from Temporal's
 * visibility. The progress of each is `backfillStatus`.
 */
export async function listBackfills(deps: Pick<BackfillDeps, 'temporal' | 'jobs'>, opts: { job?: string; limit?: number } = {}): Promise<BackfillListing[]> {
  const limit = opts.limit ?? 20;
  if (opts.job !== undefined) deps.jobs.get(opts.job);
  // The runs a chain continued from are history, not backfills: only its latest run stands for it.
  let query = 'WorkflowType = "backfill" AND ExecutionStatus != "ContinuedAsNew"';
  if (opts.job !== undefined) query += ` AND WorkflowId STARTS_WITH ${JSON.stringify(backfillWorkflowIdPrefix(opts.job))}`;
  const found = new Map<string, BackfillListing>();
  for await (const wf of deps.temporal.workflow.list({ query, pageSize: limit })) {
    const range = parseBackfillWorkflowId(wf.workflowId);
    const seen = found.get(wf.workflowId);
    // A backfill of a job this registry does not know (another service's, on the same namespace) is not ours to show.
    if (range && deps.jobs.has(range.job) && (!seen || seen.runStartedAt < wf.startTime.toISOString())) {
      found.set(wf.workflowId, {
        id: backfillIdOf(range.from, range.to),
        ...range,
        workflowId: wf.workflowId,
        status: STATUS_OF[wf.status.name] ?? 'failed',
        runStartedAt: wf.startTime.toISOString(),
      });
    }
    if (found.size >= limit) break;
  }
  return [...found.values()].sort((a, b) => b.runStartedAt.localeCompare(a.runStartedAt));
}

/** Cancelling a backfill that has already ended. */
export class BackfillEndedError extends Error {
  override name = 'BackfillEnded';
}

/** Asks the backfill to stop: it starts no more partitions, and the runs it started are cancelled. */
export async function cancelBackfill(deps: BackfillDeps, job: string, id: string): Promise<{ id: string; workflowId: string }> {
  const view = await backfillStatus(deps, job, id, 0);
  if (view.status !== 'running') throw new BackfillEndedError(`backfill ${id} of job ${job} has already ended (${view.status})`);
  await deps.temporal.workflow.getHandle(view.workflowId).cancel();
  return { id, workflowId: view.workflowId };
}

/** Polls until the backfill has ended and returns how it ended (the CLI follows with a progress bar instead). */
export async function waitForBackfill(deps: BackfillDeps, job: string, id: string, pollMs = 1000): Promise<BackfillView> {
  for (;;) {
    const view = await backfillStatus(deps, job, id);
    if (view.status !== 'running') return view;
    await new Promise((r) => setTimeout(r, pollMs));
  }
}
