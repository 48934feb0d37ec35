/**
 * Sustained starts: `POST /jobs/example_flaky/runs` from a fixed number of concurrent callers for a set time, while
 * the bench's worker executes every run started. Starts per second over the window, the latency of each start
 * under that load, how many of the runs the worker finished in the window and how long it took to finish the rest:
 * what a burst of triggers (a backfill, many DAGs at midnight) gets from the Temporal behind the API.
 */
import type { Client } from '@temporalio/client';
import type { DataSource } from 'typeorm';
import { uniqueTag } from '../test/support/stack';
import { percentile, seconds } from './context';

export interface StartsFigures {
  starts_per_s: number;
  starts_p50_ms: number;
  starts_p99_ms: number;
  starts_finished_in_window: number;
  starts_total: number;
  /** From the window's end until the worker had finished every run started in it. */
  starts_drain_s: number;
}

export async function benchSustainedStarts(
  api: string,
  token: string,
  opts: { seconds: number; concurrency: number },
  cleanup: { temporal: Client; ds: DataSource },
): Promise<StartsFigures> {
  const tag = uniqueTag('bench-starts');
  const latencies: number[] = [];
  const runIds: string[] = [];
  const t0 = process.hrtime.bigint();
  const until = Date.now() + opts.seconds * 1000;
  await Promise.all(
    Array.from({ length: opts.concurrency }, async (_, caller) => {
      for (let i = 0; Date.now() < until; i++) {
        const s = process.hrtime.bigint();
        const res = await fetch(`${api}/jobs/example_flaky/runs`, {
          method: 'POST',
          headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
          body: JSON.stringify({ args: { failAttempts: 0, tag: `${tag}-${caller}-${i}` } }),
        });
        const body = (await res.json()) as { runId?: string };
        if (res.status !== 202 || !body.runId) throw new Error(`a sustained start answered ${res.status}`);
        latencies.push(seconds(s) * 1000);
        runIds.push(body.runId);
      }
    }),
  );
  const window = seconds(t0);
  const finishedOf = async () =>
    Number(((await cleanup.ds.query(`SELECT count(*) AS n FROM job_runs WHERE run_id = ANY($1::text[]) AND status = 'succeeded'`, [runIds])) as { n: string }[])[0]!.n);
  const finished = await finishedOf();
  // The rest drain on the worker (bounded); anything still open then is ended, and the bench leaves no rows behind.
  const drainStart = process.hrtime.bigint();
  for (let done = finished; done < runIds.length && seconds(drainStart) < 300; done = await finishedOf()) {
    await new Promise((r) => setTimeout(r, 500));
  }
  const drain = seconds(drainStart);
  const open = (await cleanup.ds.query(`SELECT workflow_id, run_id FROM job_runs WHERE run_id = ANY($1::text[]) AND status = 'running'`, [runIds])) as { workflow_id: string; run_id: string }[];
  for (const r of open) await cleanup.temporal.workflow.getHandle(r.workflow_id, r.run_id).terminate('bench: drain window over').catch(() => undefined);
  await cleanup.ds.query(`DELETE FROM job_runs WHERE run_id = ANY($1::text[])`, [runIds]);
  return {
    starts_per_s: runIds.length / window,
    starts_p50_ms: percentile(latencies, 50),
    starts_p99_ms: percentile(latencies, 99),
    starts_finished_in_window: finished,
    starts_total: runIds.length,
    starts_drain_s: drain,
  };
}
