import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import { eventually, REPO, uniqueTag, useStackEnv } from '../support/stack';
import { startWorker, type WorkerProcess } from '../support/workerProcess';

const stack = useStackEnv({ JOBS_MODULE: path.join(REPO, 'test', 'support', 'jobs.ts'), API_TOKEN: 'test-token-123' });
const run = promisify(execFile);

import { apiClient, type ApiClient } from '../../client/apiClient';
import { buildApi } from '../../workers/http/server';
import { openRuntime, type Runtime } from '../../workers/runtime';

describe('ScheduledJob framework on the real stack', { timeout: 600_000 }, () => {
  let rt: Runtime;
  let base: string;
  let app: ReturnType<typeof buildApi>;
  const workers: WorkerProcess[] = [];
  const auth = { authorization: 'Bearer test-token-123', 'content-type': 'application/json' };

  before(async () => {
    rt = await openRuntime();
    app = buildApi({ client: rt.client, token: 'test-token-123' });
    await app.listen({ host: '127.0.0.1', port: 0 });
    base = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
    api = apiClient(base, 'test-token-123');
    workers.push(await startWorker());
  });

  after(async () => {
    await Promise.all(workers.map((w) => w.stop()));
    await app.close();
    await rt.close();
  });

  let api: ApiClient;
  /** A request no typed caller could send (a wrong token, ill-typed args): raw fetch. */
  const post = (job: string, body: unknown, headers: Record<string, string> = auth) =>
    fetch(`${base}/jobs/${job}/runs`, { method: 'POST', headers, body: JSON.stringify(body) });
  /** The well-formed calls go through the typed client, so they fail the type check when the document moves. */
  const trigger = async (job: string, args: Record<string, unknown>) => {
    const { data, error, response } = await api.POST('/jobs/{job}/runs', { params: { path: { job } }, body: { args } });
    if (!data) throw new Error(`trigger ${job}: ${response.status} ${JSON.stringify(error)}`);
    return data;
  };
  const statusOf = async (job: string, runId: string) => {
    const { data, error, response } = await api.GET('/jobs/{job}/runs/{runId}', { params: { path: { job, runId } } });
    if (!data) throw new Error(`status of ${job} ${runId}: ${response.status} ${JSON.stringify(error)}`);
    return data;
  };
  const rowsOf = async (workflowId: string) =>
    (await rt.ds.query(`SELECT * FROM job_runs WHERE workflow_id = $1 ORDER BY attempt`, [workflowId])) as {
      status: string;
      attempt: number;
      run_id: string;
      error: string | null;
    }[];

  const conflictCount = async () => {
    const m = /^scheduled_job_triggers_total\{job="test_steps",outcome="already_running"\} (\d+)$/m.exec(await (await fetch(`${base}/metrics`)).text());
    return m ? Number(m[1]) : 0;
  };

  test('50 concurrent triggers of the same job and args: one run, 49 conflicts, one job_runs row', async () => {
    const tag = uniqueTag('lock');
    // A run that outlasts the 50 requests however slowly they are served (a run that ended would rightly let the next
    // trigger start another); it is cancelled once the answers are checked.
    const args = { steps: 300, stepMs: 1000, tag };
    const conflictsBefore = await conflictCount();
    const answers = await Promise.all(Array.from({ length: 50 }, () => api.POST('/jobs/{job}/runs', { params: { path: { job: 'test_steps' } }, body: { args } })));
    const started = answers.flatMap((a) => (a.response.status === 202 && a.data ? [a.data] : []));
    const conflicts = answers.flatMap((a) => (a.response.status === 409 && a.error && 'runId' in a.error ? [a.error] : []));
    assert.equal(started.length, 1, `statuses: ${answers.map((a) => a.response.status).join(',')}`);
    assert.equal(conflicts.length, 49);
    const winner = started[0]!;
    assert.equal(winner.workflowId, `test_steps/${tag}`);
    // The counter is process-wide, so other tests' conflicts are taken out as a delta.
    assert.equal((await conflictCount()) - conflictsBefore, 49, 'the API counted 49 conflicts');
    for (const c of conflicts) {
      assert.equal(c.error, 'already_running');
      assert.equal(c.runId, winner.runId);
      assert.equal(c.workflowId, winner.workflowId);
    }
    assert.equal((await rt.client.status('test_steps', winner.runId)).status, 'running', 'the lock holder still runs');
    await rt.client.cancel('test_steps', winner.runId);
    const view = await rt.client.waitFor('test_steps', winner.runId);
    assert.equal(view.status, 'cancelled');
    const rows = await rowsOf(winner.workflowId);
    assert.equal(rows.length, 1);
    assert.equal(rows[0]!.status, 'cancelled');
  });

  test('retries: 2 turns two failed attempts into a success with three job_runs rows', async () => {
    const tag = uniqueTag('flaky2');
    const { runId, workflowId } = await trigger('example_flaky', { failAttempts: 2, tag });
    const view = await rt.client.waitFor('example_flaky', runId);
    assert.equal(view.status, 'succeeded');
    assert.equal(view.attempt, 3);
    const rows = await rowsOf(workflowId);
    assert.deepEqual(
      rows.map((r) => [r.attempt, r.status]),
      [
        [1, 'failed'],
        [2, 'failed'],
        [3, 'succeeded'],
      ],
    );
    assert.match(rows[0]!.error ?? '', /SimulatedFailure: simulated failure on attempt 1/);
    const http = await statusOf('example_flaky', runId);
    assert.equal(http.status, 'succeeded');
    assert.equal(http.attempt, 3);
  });

  test('retries: 1 with two failing attempts ends failed, as HTTP status and the CLI both say', async () => {
    const tag = uniqueTag('flaky1');
    const { runId, workflowId } = await trigger('test_flaky_retries_1', { failAttempts: 2, tag });
    const view = await rt.client.waitFor('test_flaky_retries_1', runId);
    assert.equal(view.status, 'failed');
    assert.deepEqual((await rowsOf(workflowId)).map((r) => r.status), ['failed', 'failed']);
    const http = await statusOf('test_flaky_retries_1', runId);
    assert.equal(http.status, 'failed');
    assert.equal(http.attempt, 2);
    const cli = await run(process.execPath, [path.join(REPO, 'bin', 'scheduled-job.js'), 'status', 'test_flaky_retries_1', runId], {
      env: { ...process.env },
    }).catch((e: { code: number; stdout: string }) => e);
    assert.equal((cli as { code?: number }).code, 1, 'status exits 1 for a failed run');
    assert.equal(JSON.parse(cli.stdout).status, 'failed');
  });

  test('an attempt past its timeout ends timed_out, is retried as declared, and the run ends timed_out', async () => {
    const tag = uniqueTag('deadline');
    const { runId, workflowId } = await rt.client.trigger('test_steps_deadline', { steps: 20, stepMs: 1000, tag });
    const view = await rt.client.waitFor('test_steps_deadline', runId);
    assert.equal(view.status, 'timed_out');
    const rows = await rowsOf(workflowId);
    assert.deepEqual(rows.map((r) => [r.attempt, r.status]), [[1, 'timed_out'], [2, 'timed_out']]);
    assert.match(rows[0]!.error ?? '', /AttemptTimedOut: the attempt ran past its timeout of 2000 ms/);
  });

  test('a start from the temporal CLI with {job, args} gets the same definition, retries and validation', async () => {
    const temporal = (...args: string[]) =>
      run('temporal', [...args, '--address', stack['TEMPORAL_ADDRESS']!], { env: { ...process.env } });
    const tag = uniqueTag('cli');
    const workflowId = `example_flaky/${tag}`;
    await temporal('workflow', 'start', '--type', 'scheduledJob', '--task-queue', process.env['TEMPORAL_TASK_QUEUE']!,
      '--workflow-id', workflowId, '--input', JSON.stringify({ job: 'example_flaky', args: { failAttempts: 1, tag } }));
    await temporal('workflow', 'result', '--workflow-id', workflowId);
    assert.deepEqual((await rowsOf(workflowId)).map((r) => r.status), ['failed', 'succeeded']);

    const bad = `example_flaky/${uniqueTag('cli-bad')}`;
    await temporal('workflow', 'start', '--type', 'scheduledJob', '--task-queue', process.env['TEMPORAL_TASK_QUEUE']!,
      '--workflow-id', bad, '--input', JSON.stringify({ job: 'example_flaky', args: { failAttempts: 'x' } }));
    await temporal('workflow', 'result', '--workflow-id', bad).catch(() => undefined);
    const rows = await rowsOf(bad);
    assert.equal(rows.length, 1, 'invalid arguments are not retried');
    assert.equal(rows[0]!.status, 'failed');
    assert.match(rows[0]!.error ?? '', /InvalidArguments: .*args\.failAttempts/);
  });

  test('temporal workflow terminate: job_runs records the end within seconds', async () => {
    const tag = uniqueTag('term');
    const { workflowId } = await trigger('test_steps', { steps: 100, stepMs: 1000, tag });
    // Running means an activity has reported a step: terminating before that would not test ending a live attempt.
    const running = await eventually('an attempt that has reported a step', async () => {
      const d = await rt.client.temporal.workflow.getHandle(workflowId).describe();
      const payload = d.raw.pendingActivities?.[0]?.heartbeatDetails?.payloads?.[0]?.data;
      if (!payload) return undefined;
      const { step } = JSON.parse(Buffer.from(payload).toString()) as { step: number };
      return step >= 1 && d.status.name === 'RUNNING' ? { step } : undefined;
    });
    assert.equal((await rowsOf(workflowId))[0]?.status, 'running', `job_runs says running at step ${running.step}`);
    await run('temporal', ['workflow', 'terminate', '--workflow-id', workflowId, '--reason', 'test', '--address', stack['TEMPORAL_ADDRESS']!], {
      env: { ...process.env },
    });
    const terminatedAt = Date.now();
    const rows = await eventually('job_runs to leave running', async () => {
      const r = await rowsOf(workflowId);
      return r[0]?.status !== 'running' ? r : undefined;
    }, 30_000);
    const seconds = (Date.now() - terminatedAt) / 1000;
    console.log(`terminate -> job_runs closed in ${seconds.toFixed(1)} s`);
    assert.equal(rows[0]!.status, 'failed');
    assert.match(rows[0]!.error ?? '', /terminated/);
    assert.equal((await rt.client.temporal.workflow.getHandle(workflowId).describe()).status.name, 'TERMINATED');
    assert.ok(seconds < 15, `closed after ${seconds} s`);
  });

  test('a status read shows the end Temporal recorded but never writes; a worker\'s reconciler closes the row', async () => {
    const tag = uniqueTag('term-read');
    const { runId, workflowId } = await trigger('test_steps', { steps: 100, stepMs: 1000, tag });
    await eventually('the attempt to be running', async () => ((await rowsOf(workflowId))[0]?.status === 'running' ? true : undefined));
    // No worker, so no reconciler: whatever changes the row now, a read did.
    await Promise.all(workers.splice(0).map((w) => w.stop()));
    await rt.client.temporal.workflow.getHandle(workflowId).terminate('test: ended outside the workflow code');
    const [before] = (await rt.ds.query(`SELECT status, updated_at FROM job_runs WHERE workflow_id = $1`, [workflowId])) as { status: string; updated_at: Date }[];
    const read = await statusOf('test_steps', runId);
    assert.equal(read.status, 'failed');
    assert.match(read.error ?? '', /terminated/);
    const [afterRead] = (await rt.ds.query(`SELECT status, updated_at FROM job_runs WHERE workflow_id = $1`, [workflowId])) as { status: string; updated_at: Date }[];
    assert.deepEqual(afterRead, before, 'the row is as it was before the read');
    assert.equal(afterRead!.status, 'running');

    workers.push(await startWorker());
    const closed = await eventually('the reconciler to close the row', async () => {
      const r = (await rowsOf(workflowId))[0];
      return r && r.status !== 'running' ? r : undefined;
    }, 30_000);
    assert.equal(closed.status, 'failed');
    assert.match(closed.error ?? '', /terminated/);
  });

  test('a run Temporal has but the log has no row of yet reads as running, not as an unknown run', async () => {
    // As after a trigger answered 503 because Postgres was away when the start had been accepted (a second trigger
    // then answers 409 naming this run), or a start from another client before its first attempt wrote its row: on
    // a task queue nobody polls, so no attempt ever writes one.
    const tag = uniqueTag('unrecorded');
    const handle = await rt.client.temporal.workflow.start('scheduledJob', {
      workflowId: `example_flaky/${tag}`,
      taskQueue: `nobody-polls-${tag}`,
      args: [{ job: 'example_flaky', args: { failAttempts: 0, tag } }],
    });
    try {
      assert.deepEqual(await rowsOf(handle.workflowId), [], 'no job_runs row');
      const read = await eventually('the run to be found in Temporal', async () => {
        const res = await fetch(`${base}/jobs/example_flaky/runs/${handle.firstExecutionRunId}`, { headers: auth });
        return res.status === 200 ? ((await res.json()) as { status: string; workflowId: string; runId: string }) : undefined;
      }, 15_000);
      assert.deepEqual([read.status, read.workflowId, read.runId], ['running', handle.workflowId, handle.firstExecutionRunId]);
      // The same run ID under another job, and a run ID Temporal never issued, are still unknown.
      assert.equal((await fetch(`${base}/jobs/example_steps/runs/${handle.firstExecutionRunId}`, { headers: auth })).status, 404);
      assert.equal((await fetch(`${base}/jobs/example_flaky/runs/00000000-0000-4000-8000-000000000000`, { headers: auth })).status, 404);
      assert.equal((await fetch(`${base}/jobs/example_flaky/runs/x'%20OR%20'1'%3D'1`, { headers: auth })).status, 404);
    } finally {
      await handle.terminate('test finished');
    }
  });

  test('kill -9 of the worker holding a job: the job finishes on the other worker', async () => {
    workers.push(await startWorker());
    const tag = uniqueTag('kill');
    const { runId, workflowId } = await trigger('test_steps', { steps: 8, stepMs: 1000, tag });
    const holder = await eventually('an activity heartbeat naming its worker', async () => {
      const d = await rt.client.temporal.workflow.getHandle(workflowId).describe();
      const payload = d.raw.pendingActivities?.[0]?.heartbeatDetails?.payloads?.[0]?.data;
      if (!payload) return undefined;
      const { pid, step } = JSON.parse(Buffer.from(payload).toString()) as { pid: number; step: number };
      return step >= 2 ? pid : undefined;
    });
    const victim = workers.find((w) => w.pid === holder);
    assert.ok(victim, `heartbeat pid ${holder} is one of our workers ${workers.map((w) => w.pid).join(',')}`);
    await victim.kill9();
    workers.splice(workers.indexOf(victim), 1);
    const view = await rt.client.waitFor('test_steps', runId);
    assert.equal(view.status, 'succeeded');
    assert.equal(view.metrics['steps'], 8);
    assert.equal((await rowsOf(workflowId)).length, 1);
  });

  test('auth and validation: 401 without or with a wrong token, 404 unknown job, 400 naming the field', async () => {
    assert.equal((await post('example_steps', {}, { 'content-type': 'application/json' })).status, 401);
    assert.equal((await post('example_steps', {}, { ...auth, authorization: 'Bearer wrong-token' })).status, 401);
    assert.equal((await apiClient(base).GET('/jobs')).response.status, 401);
    assert.equal((await apiClient(base).GET('/healthz')).response.status, 200);
    const doc = (await (await fetch(`${base}/openapi.json`)).json()) as { openapi: string; paths: Record<string, unknown> };
    assert.equal(doc.openapi, '3.1.0', 'the OpenAPI document is served without a token');
    for (const route of ['/jobs', '/jobs/{job}/runs', '/jobs/test_steps/runs', '/jobs/{job}/runs/{runId}', '/jobs/{job}/runs/{runId}/cancel']) {
      assert.ok(doc.paths[route], `${route} is in the document`);
    }
    const unknown = await api.POST('/jobs/{job}/runs', { params: { path: { job: 'no_such_job' } }, body: {} });
    assert.equal(unknown.response.status, 404);
    assert.equal(unknown.error?.error, 'unknown_job');
    const bad = await post('example_steps', { args: { steps: 'many' } });
    assert.equal(bad.status, 400);
    const body = (await bad.json()) as { message: string };
    assert.match(body.message, /args\.steps/);
    const notObject = await post('example_steps', { args: [1] });
    assert.equal(notObject.status, 400);
    assert.match(((await notObject.json()) as { message: string }).message, /args/);
    const extra = await post('example_steps', { argz: {} });
    assert.equal(extra.status, 400);
    assert.match(((await extra.json()) as { message: string }).message, /argz/);
    const unknownRun = await api.GET('/jobs/{job}/runs/{runId}', { params: { path: { job: 'example_steps', runId: '00000000-0000-0000-0000-000000000000' } } });
    assert.equal(unknownRun.response.status, 404);
    assert.equal(unknownRun.error?.error, 'unknown_run');
  });
});
