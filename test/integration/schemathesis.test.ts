/**
 * The API against its own document, fuzzed by schemathesis (PyPI, pinned in test/contract/): a real `scheduled-job
 * api` process with the shipped jobs, a bounded and seeded number of cases per operation, with the token. Every
 * answer must be documented and match its schema, none may be a 5xx, data that does not fit the document must get a
 * 4xx, and no run may be started by a request that did not get a 202.
 *
 * Valid triggers do start runs. The API here starts them on a task queue no worker polls, so none of them runs (the
 * stack stays idle and no job touches data); they are terminated and their job_runs rows removed at the end.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { startApi, type ApiProcess } from '../support/apiProcess';
import { REPO, uniqueTag, useStackEnv } from '../support/stack';

const TOKEN = uniqueTag('contract');
useStackEnv({ API_TOKEN: TOKEN });

import { openRuntime, type Runtime } from '../../workers/runtime';

/** Cases per operation and phase: about a minute for the whole run on this machine. */
const MAX_EXAMPLES = 25;
const SEED = 30_2026;

interface Call {
  operation: string;
  mode: 'positive' | 'negative' | string;
  phase: string;
  status: number;
  runId: string | null;
}

function run(cmd: string, args: string[], env: Record<string, string> = {}, cwd = REPO): Promise<{ code: number; stdout: string; out: string }> {
  return new Promise((resolve) => {
    execFile(cmd, args, { cwd, env: { ...process.env, ...env }, maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) => {
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, out: `${stdout}${stderr}${err && !stdout && !stderr ? String(err) : ''}` });
    });
  });
}

describe('schemathesis fuzzes the API against its OpenAPI document', { timeout: 600_000 }, () => {
  let rt: Runtime;
  let api: ApiProcess;
  let venv: string;
  const fuzzQueue = uniqueTag('contract-fuzz');
  const dir = mkdtempSync(path.join(os.tmpdir(), 'contract-'));
  const callsLog = path.join(dir, 'calls.jsonl');
  let calls: Call[] = [];
  // The log's last row before fuzzing: rows after it are the fuzzing's. Not a start time: other tests write rows
  // dated in the future (a year of synthetic runs), which a time filter would count as the fuzzing's.
  let lastIdBefore: string;

  before(async () => {
    rt = await openRuntime();
    const setup = await run('bash', ['test/contract/setup-venv.sh']);
    assert.equal(setup.code, 0, setup.out);
    venv = setup.stdout.trim();
    api = await startApi({ TEMPORAL_TASK_QUEUE: fuzzQueue });
    lastIdBefore = (((await rt.ds.query(`SELECT coalesce(max(id), 0)::text AS id FROM job_runs`)) as { id: string }[])[0]!).id;
  });

  after(async () => {
    await api?.stop();
    // The runs the valid triggers started wait on a queue nobody polls: end them, and drop the rows their triggers wrote.
    for await (const wf of rt.temporal.workflow.list({ query: `TaskQueue = "${fuzzQueue}"` })) {
      if (wf.status.name === 'RUNNING') await rt.temporal.workflow.getHandle(wf.workflowId, wf.runId).terminate('contract fuzzing finished').catch(() => undefined);
      await rt.ds.query(`DELETE FROM job_runs WHERE run_id = $1 OR first_run_id = $1`, [wf.runId]);
    }
    await rt?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test(`schemathesis: ${MAX_EXAMPLES} cases per operation and phase (seed ${SEED}), every check, no failure`, async () => {
    const t0 = Date.now();
    const st = await run(
      path.join(venv, 'bin', 'schemathesis'),
      [
        '--config-file',
        path.join(REPO, 'test', 'contract', 'schemathesis.toml'),
        'run',
        `${api.base}/openapi.json`,
        '--header',
        `Authorization: Bearer ${TOKEN}`,
        '--checks',
        'all',
        '--seed',
        String(SEED),
        '--max-examples',
        String(MAX_EXAMPLES),
        // Postgres text cannot hold NUL: the API refuses it with a 400 that no JSON Schema keyword can express, so a
        // "valid" case holding one would be taken for a wrongly refused request (hostileInput.test.ts covers NULs).
        '--generation-allow-x00',
        'false',
        '--generation-database',
        'none',
        '--request-timeout',
        '10',
        '--no-color',
        '--output-truncate',
        'true',
      ],
      { CONTRACT_CALLS_LOG: callsLog, SCHEMATHESIS_HOOKS: 'hooks', PYTHONPATH: path.join(REPO, 'test', 'contract') },
      dir, // schemathesis keeps a cache of what it found in its working directory: the test's own, not the clone
    );
    assert.ok(existsSync(callsLog), `schemathesis made no call:\n${st.out.slice(-5000)}`);
    calls = readFileSync(callsLog, 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as Call);
    const summary = st.out.slice(st.out.lastIndexOf('=== SUMMARY ==='));
    const perOperation = new Map<string, { positive: number; negative: number; statuses: Set<number> }>();
    for (const c of calls) {
      const o = perOperation.get(c.operation) ?? { positive: 0, negative: 0, statuses: new Set<number>() };
      if (c.mode === 'negative') o.negative++;
      else o.positive++;
      o.statuses.add(c.status);
      perOperation.set(c.operation, o);
    }
    const table = [...perOperation]
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([op, o]) => `  ${op.padEnd(48)} ${String(o.positive).padStart(4)} valid ${String(o.negative).padStart(4)} invalid  statuses ${[...o.statuses].sort().join(',')}`);
    console.log([`schemathesis ${((Date.now() - t0) / 1000).toFixed(0)} s, ${calls.length} cases:`, ...table, summary].join('\n'));
    assert.equal(st.code, 0, `schemathesis found failures:\n${st.out.slice(-12_000)}`);
    const doc = (await (await fetch(`${api.base}/openapi.json`)).json()) as { paths: Record<string, Record<string, { parameters?: unknown[]; requestBody?: unknown }>> };
    for (const [p, methods] of Object.entries(doc.paths)) {
      for (const [m, op] of Object.entries(methods)) {
        const name = `${m.toUpperCase()} ${p}`;
        const fuzzed = perOperation.get(name);
        assert.ok(fuzzed && fuzzed.positive > 0, `${name}: fuzzed with valid cases`);
        if (op.parameters?.length || op.requestBody) assert.ok(fuzzed.negative > 0, `${name}: fuzzed with invalid cases`);
      }
    }
  });

  test('no 5xx, and no run started but by a request that got 202', async () => {
    assert.ok(calls.length > 0, 'the fuzzing ran');
    assert.deepEqual(calls.filter((c) => c.status >= 500), []);
    const accepted = new Set(calls.filter((c) => c.status === 202 && c.runId).map((c) => c.runId));
    const unexplained: string[] = [];
    for await (const wf of rt.temporal.workflow.list({ query: `TaskQueue = "${fuzzQueue}"` })) {
      // Nothing polls this queue, so no run went on to a retry under a new runId: each is the one its trigger announced.
      if (!accepted.has(wf.runId)) unexplained.push(`${wf.workflowId} ${wf.runId}`);
    }
    assert.deepEqual(unexplained, [], 'runs on the fuzzed API queue that no 202 answer announced');
    const rows = (await rt.ds.query(`SELECT workflow_id, run_id, first_run_id FROM job_runs WHERE id > $1`, [lastIdBefore])) as { workflow_id: string; run_id: string; first_run_id: string | null }[];
    assert.deepEqual(
      rows.filter((r) => !accepted.has(r.first_run_id ?? r.run_id)).map((r) => `${r.workflow_id} ${r.run_id}`),
      [],
      'job_runs rows written while fuzzing that no 202 answer announced',
    );
    assert.equal(api.child.exitCode, null, 'the API is alive');
    assert.doesNotMatch(api.output(), /"level":(50|60)/, 'no error logged by the API');
  });
});
