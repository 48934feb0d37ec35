import { execFile } from 'node:child_process';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { bundleWorkflowCode } from '@temporalio/worker';
import { PACKAGE_ROOT } from '../config/packageRoot';
import { tracingEnabled } from '../observability/tracingEnabled';

/**
 * The OpenTelemetry workflow interceptors (RunWorkflow, StartActivity, StartChildWorkflow spans; trace context
 * passed on in headers), bundled only when tracing is on: they double the bundle and cost every workflow memory
 * (about 35 MiB over 200 short runs, BENCHMARKS.md) even with no exporter. They only add headers, so a worker with
 * and one without them change no workflow's commands or determinism. A prebuilt bundle
 * (SCHEDULED_JOB_WORKFLOW_BUNDLE) gets them when `bundle-workflows` runs with the OTEL_* variables set.
 */
const workflowInterceptorModules = (): string[] =>
  tracingEnabled() ? [require.resolve('@temporalio/interceptors-opentelemetry/lib/workflow-interceptors')] : [];

/** Writes the workflow bundle (webpack over workflows/) to `out`. */
export async function writeWorkflowBundle(out: string): Promise<void> {
  const { code } = await bundleWorkflowCode({
    workflowsPath: require.resolve('../app/workflows'),
    workflowInterceptorModules: workflowInterceptorModules(),
  });
  await writeFile(out, code);
}

/**
 * The bundle for this worker. Webpack needs ~250 MB that the heap never returns, which would count against every
 * worker's memory for its whole life, so a short-lived child process bundles and this process only loads the file.
 */
export async function prepareWorkflowBundle(): Promise<{ codePath: string }> {
  const prebuilt = process.env['SCHEDULED_JOB_WORKFLOW_BUNDLE'];
  if (prebuilt) return { codePath: prebuilt };
  const out = path.join(await mkdtemp(path.join(tmpdir(), 'scheduled-job-')), 'workflow-bundle.js');
  const cli = path.join(PACKAGE_ROOT, 'bin', 'scheduled-job.js');
  await promisify(execFile)(process.execPath, [cli, 'bundle-workflows', out], { maxBuffer: 16 * 1024 * 1024 });
  return { codePath: out };
}
