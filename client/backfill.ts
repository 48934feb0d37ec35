import type { JobArgs } from '../workflows/types';
import { AlreadyRunningError, type JobsClient, type RunView } from './jobsClient';

export interface BackfillDayResult {
  day: string;
  outcome: 'skipped' | 'succeeded' | 'failed' | 'cancelled' | 'timed_out';
  runId: string | null;
  attempt: number | null;
  error: string | null;
}

export interface BackfillOptions {
  days: string[];
  concurrency: number;
  force: boolean;
  extraArgs?: JobArgs;
  onDayDone?: (r: BackfillDayResult) => void;
  shouldStop?: () => boolean;
}

/**
 * One run per day with at most `concurrency` in flight. Days that already succeeded are skipped and a day whose run is
 * in flight is attached to, so re-running the same command after Ctrl-C resumes where it stopped.
 */
export async function backfill(client: JobsClient, job: string, opts: BackfillOptions): Promise<BackfillDayResult[]> {
  const done = opts.force ? new Set<string>() : await client.succeededDays(job);
  const queue = [...opts.days];
  const results: BackfillDayResult[] = [];

  const runDay = async (day: string): Promise<BackfillDayResult> => {
    if (done.has(day)) return { day, outcome: 'skipped', runId: null, attempt: null, error: null };
    let runId: string;
    try {
      runId = (await client.trigger(job, { ...opts.extraArgs, day })).runId;
    } catch (err) {
      if (!(err instanceof AlreadyRunningError)) throw err;
      runId = err.runId;
    }
    const view: RunView = await client.waitFor(job, runId, undefined, 2000);
    return { day, outcome: view.status as BackfillDayResult['outcome'], runId, attempt: view.attempt, error: view.error };
  };

  const lane = async () => {
    for (let day = queue.shift(); day !== undefined && !opts.shouldStop?.(); day = queue.shift()) {
      const r = await runDay(day);
      results.push(r);
      opts.onDayDone?.(r);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, opts.concurrency) }, lane));
  return results.sort((a, b) => a.day.localeCompare(b.day));
}
