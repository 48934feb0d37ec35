import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { REPO } from './stack';

/**
 * The jobs and consumers test workers load: the shipped ones plus the tests' own (test/support/jobs.ts,
 * test/support/consumers.ts). A test file that starts workers gives its own process the same, so its registries
 * agree with theirs.
 */
export const TEST_MODULES = {
  JOBS_MODULE: path.join(REPO, 'test', 'support', 'jobs.ts'),
  // The shipped consumers plus the test's own, so tests run what users run. A consumer workflow left on a finished
  // test's queue is moved by the next worker once that queue has no pollers.
  CONSUMERS_MODULE: path.join(REPO, 'test', 'support', 'consumers.ts'),
};

/**
 * Bundles the workflows once for a test file: every worker it starts then loads that file instead of running webpack
 * itself (seconds and a few hundred MB at each start).
 */
export async function bundleWorkflowsForWorkers(): Promise<void> {
  const bundle = path.join(mkdtempSync(path.join(tmpdir(), 'test-workers-')), 'workflows.js');
  await promisify(execFile)(process.execPath, [path.join(REPO, 'bin', 'scheduled-job.js'), 'bundle-workflows', bundle], { env: process.env });
  process.env['SCHEDULED_JOB_WORKFLOW_BUNDLE'] = bundle;
}

export interface WorkerProcess {
  child: ChildProcess;
  pid: number;
  output: () => string;
  /** A mark in the output stream, for `outputSince`: what this worker logged during one scenario. */
  mark: () => number;
  outputSince: (mark: number) => string;
  /** Whether the process is still running (it never exited): the same process as at start. */
  alive: () => boolean;
  kill9(): Promise<void>;
  stop(): Promise<void>;
}

/** A real `scheduled-job worker` process, so fault tests can kill -9 it like an operator's host would. */
export async function startWorker(env: Record<string, string> = {}, readyTimeoutMs = 120_000): Promise<WorkerProcess> {
  // Through the launcher, so its V8 flags and malloc settings apply, as they do for a user.
  const child = spawn(path.join(REPO, 'bin', 'scheduled-job'), ['worker'], {
    cwd: REPO,
    env: {
      ...process.env,
      ...TEST_MODULES,
      LOG_LEVEL: 'info',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let received = 0; // characters ever received; `out` keeps only the tail
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`worker not ready in ${readyTimeoutMs} ms:\n${out.slice(-4000)}`)), readyTimeoutMs);
    const onData = (d: Buffer) => {
      const text = d.toString();
      out += text;
      received += text.length;
      if (out.length > 1_000_000) out = out.slice(-200_000);
      if (out.includes('"worker started"')) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`worker exited with ${code} before it was ready:\n${out.slice(-4000)}`));
    });
  });
  return {
    child,
    pid: child.pid!,
    output: () => out,
    mark: () => received,
    outputSince: (mark) => out.slice(Math.max(0, out.length - (received - mark))),
    alive: () => child.exitCode === null && child.signalCode === null,
    async kill9() {
      child.kill('SIGKILL');
      await exited;
    },
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
      await exited;
      clearTimeout(timer);
    },
  };
}
