/**
 * Trigger latency (POST -> 202, the run started) against its limit, a bare `client.workflow.start` of the same
 * workflow input on the same task queue, interleaved one for one (the order alternating) so both see the same moment
 * of a shared machine; the worker executes both kinds of run. Beside it, as context: the same triggers against a
 * task queue no worker polls, and lock-conflict latency (POST -> 409), over real HTTP.
 */
import { setTimeout } from 'node:timers/promises';
import { workflowIdFor } from '../client/workflowId';
import { uniqueTag } from '../test/support/stack';
import type { scheduledJob } from '../workflows/scheduledJob';
import type { Runtime } from '../workers/runtime';
import { percentile, seconds } from './context';

const JOB = 'example_flaky';

export interface TriggerFigures {
  trigger_p50_ms: number;
  trigger_p99_ms: number;
  /** The bare start, interleaved with the triggers above. */
  bare_start_p50_ms: number;
  bare_start_p99_ms: number;
  trigger_idle_p50_ms: number;
  trigger_idle_p99_ms: number;
  conflict_p50_ms: number;
  conflict_p99_ms: number;
}

export async function benchTrigger(
  apis: { busy: string; idle: string },
  token: string,
  n: number,
  rt: Pick<Runtime, 'temporal' | 'ds' | 'jobs' | 'env'>,
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
  // What the API's trigger starts, without the HTTP request, the argument check and the run log's row: the same
  // workflow type, ID scheme, conflict policies and task queue.
  const bareStart = async (args: object) => {
    const resolved = rt.jobs.resolveArgs(JOB, args);
    const s = process.hrtime.bigint();
    await rt.temporal.workflow.start<typeof scheduledJob>('scheduledJob', {
      workflowId: workflowIdFor(JOB, rt.jobs.get(JOB).lockKey, resolved),
      taskQueue: rt.env.TEMPORAL_TASK_QUEUE,
      args: [{ job: JOB, args: resolved }],
      workflowIdConflictPolicy: 'FAIL',
      workflowIdReusePolicy: 'ALLOW_DUPLICATE',
    });
    return seconds(s) * 1000;
  };
  const starts: number[] = [];
  const bare: number[] = [];
  const viaApi = async () => {
    const r = await post(JOB, { failAttempts: 0, tag: uniqueTag('bench') });
    if (r.status !== 202) throw new Error(`trigger answered ${r.status}`);
    starts.push(r.ms);
  };
  const direct = async () => bare.push(await bareStart({ failAttempts: 0, tag: uniqueTag('bench-bare') }));
  for (let i = 0; i < n; i++) {
    if (i % 2 === 0) await viaApi().then(direct);
    else await direct().then(viaApi);
  }
  const idle: number[] = [];
  const idleRuns: { workflowId: string; runId: string }[] = [];
  for (let i = 0; i < n; i++) {
    const r = await post(JOB, { failAttempts: 0, tag: uniqueTag('bench-idle') }, apis.idle);
    if (r.status !== 202) throw new Error(`trigger on the idle queue answered ${r.status}`);
    idle.push(r.ms);
    idleRuns.push({ workflowId: r.workflowId!, runId: r.runId! });
  }
  for (const r of idleRuns) await rt.temporal.workflow.getHandle(r.workflowId).terminate('bench: no worker polls this queue');
  await rt.ds.query(`DELETE FROM job_runs WHERE run_id = ANY($1::text[])`, [idleRuns.map((r) => r.runId)]);
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
  const holderRun = rt.temporal.workflow.getHandle(holder.workflowId!, holder.runId);
  const finished = await Promise.race([holderRun.result().then(() => true, () => true), setTimeout(10_000, false, { ref: false })]);
  if (!finished) await holderRun.terminate('bench: the lock holder did not finish its cancel within 10 s');
  return {
    trigger_p50_ms: percentile(starts, 50),
    trigger_p99_ms: percentile(starts, 99),
    bare_start_p50_ms: percentile(bare, 50),
    bare_start_p99_ms: percentile(bare, 99),
    trigger_idle_p50_ms: percentile(idle, 50),
    trigger_idle_p99_ms: percentile(idle, 99),
    conflict_p50_ms: percentile(conflicts, 50),
    conflict_p99_ms: percentile(conflicts, 99),
  };
}
