import type { Client } from '@temporalio/client';
import type { DataSource } from 'typeorm';
import { temporalOutcome } from '../client/runViews';
import { isTemporalUnavailable } from '../connections/untilReachable';
import * as jobRuns from '../db/jobRuns';

/** The advisory lock that lets one worker at a time reconcile (db/dataSource.ts holds the migrations' lock). */
const RECONCILER_LOCK = 7_170_002;

/**
 * Closes open rows (running or queued) whose runs Temporal has already ended (terminate, timeout, deleted): the workers call this
 * on a timer, and one of them at a time does the pass (a session advisory lock, released with its connection if
 * the worker dies), so several workers do not repeat each other's Temporal calls. The updates are autocommitted
 * one by one, so no row stays locked while Temporal is asked about the next.
 */
export async function reconcileStale(ds: DataSource, temporal: Client, olderThanMs: number, limit = 100): Promise<number> {
  const gate = ds.createQueryRunner();
  await gate.connect();
  try {
    const [lock] = (await gate.query(`SELECT pg_try_advisory_lock($1) AS leader`, [RECONCILER_LOCK])) as { leader: boolean }[];
    if (!lock?.leader) return 0;
    try {
      return await reconcilePass(ds, temporal, olderThanMs, limit);
    } finally {
      await gate.query(`SELECT pg_advisory_unlock($1)`, [RECONCILER_LOCK]).catch(() => undefined);
    }
  } finally {
    await gate.release();
  }
}

async function reconcilePass(db: jobRuns.Queryable, temporal: Client, olderThanMs: number, limit: number): Promise<number> {
  const rows = await jobRuns.staleRunning(db, olderThanMs, limit);
  let closed = 0;
  let firstError: unknown;
  for (const row of rows) {
    let outcome;
    try {
      outcome = await temporalOutcome(temporal, row.workflow_id, row.run_id);
    } catch (err) {
      firstError ??= err;
      // A row that cannot be looked at now goes to the back of the queue instead of blocking every row behind it;
      // with Temporal away, no other row can be looked at either.
      await jobRuns.touch(db, row.run_id).catch(() => undefined);
      if (isTemporalUnavailable(err)) break;
      continue;
    }
    if (outcome.status === 'running') {
      await jobRuns.touch(db, row.run_id);
      continue;
    }
    await jobRuns.closeFromTemporal(db, { runId: row.run_id, ...outcome });
    closed++;
  }
  if (firstError !== undefined) throw firstError;
  return closed;
}
