/**
 * Trigger latency (POST -> 202, the run started) and lock-conflict latency (POST -> 409), over real HTTP. The same
 * triggers against a task queue no worker polls show what the start costs when nothing else competes for Temporal.
 */
import { setTimeout } from 'node:timers/promises';
import type { Client } from '@temporalio/client';
import type { DataSource } from 'typeorm';
import { uniqueTag } from '../test/support/stack';
import { percentile, seconds } from './context';

export interface TriggerFigures {
  trigger_p50_ms: number;
  trigger_p99_ms: number;
  trigger_idle_p50_ms: number;
  trigger_idle_p99_ms: number;
  conflict_p50_ms: number;
  conflict_p99_ms: number;
}

export async function benchTrigger(
  apis: { busy: string; idle: string },
  token: string,
  n: number,
  cleanup: { temporal: Client; ds: DataSource },
): Promise<TriggerFigures> {
  const post = async (job: string, args: object, api = apis.busy) => {
    const s = process.hrtime.bigint();
    const res = await fetch(`${api}/jobs/${job}/runs`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ args }),
    });
    const body = (await res.json()) as { runId?: string; workflowId?: string };
    return { ms: seconds(s) * 1000, status: res.status, runId: body.runId, workflowId: body.workflowId };
  };
  const starts: number[] = [];
  for (let i = 0; i < n; i++) {
    const r = await post('example_flaky', { failAttempts: 0, tag: uniqueTag('bench') });
    if (r.status !== 202) throw new Error(`trigger answered ${r.status}`);
    starts.push(r.ms);
  }
  const idle: number[] = [];
  const idleRuns: { workflowId: string; runId: string }[] = [];
  for (let i = 0; i < n; i++) {
    const r = await post('example_flaky', { failAttempts: 0, tag: uniqueTag('bench-idle') }, apis.idle);
    if (r.status !== 202) throw new Error(`trigger on the idle queue answered ${r.status}`);
    idle.push(r.ms);
    idleRuns.push({ workflowId: r.workflowId!, runId: r.runId! });
  }
  for (const r of idleRuns) await cleanup.temporal.workflow.getHandle(r.workflowId).terminate('bench: no worker polls this queue');
  await cleanup.ds.query(`DELETE FROM job_runs WHERE run_id = ANY($1::text[])`, [idleRuns.map((r) => r.runId)]);
  // A run that holds its lock for the whole measurement (test_steps, from the worker's JOBS_MODULE).
  const held = { steps: 1, stepMs: 600_000, tag: uniqueTag('bench-held') };
  const holder = await post('test_steps', held);
  if (holder.status !== 202) throw new Error(`the lock holder's trigger answered ${holder.status}`);
  const conflicts: number[] = [];
  for (let i = 0; i < n; i++) {
    const r = await post('test_steps', held);
    if (r.status !== 409) throw new Error(`a trigger of a held lock answered ${r.status}`);
    conflicts.push(r.ms);
  }
  await fetch(`${apis.busy}/jobs/test_steps/runs/${holder.runId}/cancel`, { method: 'POST', headers: { authorization: `Bearer ${token}` } });
  // Its task queue is the bench's own: a run still finishing its cancel when the bench stops its worker would stay
  // open for good (such runs had piled up in the developer's stack).
  const holderRun = cleanup.temporal.workflow.getHandle(holder.workflowId!, holder.runId);
  const finished = await Promise.race([holderRun.result().then(() => true, () => true), setTimeout(10_000, false, { ref: false })]);
  if (!finished) await holderRun.terminate('bench: the lock holder did not finish its cancel within 10 s');
  return {
    trigger_p50_ms: percentile(starts, 50),
    trigger_p99_ms: percentile(starts, 99),
    trigger_idle_p50_ms: percentile(idle, 50),
    trigger_idle_p99_ms: percentile(idle, 99),
    conflict_p50_ms: percentile(conflicts, 50),
    conflict_p99_ms: percentile(conflicts, 99),
  };
}
