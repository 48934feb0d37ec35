import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { temporal } from '@temporalio/proto';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { bundleWorkflowCode, DefaultLogger, Runtime, Worker } from '@temporalio/worker';
import { DAY, JOB_NAME } from '../../workflows/searchAttributes';
import type { ActivityPolicy } from '../../workflows/types';

const INSTALL = path.join(__dirname, '..', 'workflows', 'testServer', 'install.sh');

/** The activity policy a mocked run log hands the handlers: short, so a failing mock fails fast. */
export const TEST_ACTIVITY_POLICY: ActivityPolicy = {
  maximumAttempts: 1,
  initialIntervalMs: 100,
  backoffCoefficient: 2,
  maximumIntervalMs: 1000,
  nonRetryable: [],
  startToCloseTimeoutMs: 60_000,
  heartbeatTimeoutMs: 5_000,
};

export interface WorkflowTestBed {
  env: TestWorkflowEnvironment;
  taskQueue: string;
  stop(): Promise<void>;
}

/**
 * Temporal's time-skipping test server (installed from Maven Central into the install cache on first use) and a
 * worker on it with the project's workflow bundle and the given activities: workflow code runs as on the real
 * service, while timers (retry backoffs, attempt deadlines) pass in no time.
 */
export async function workflowTestBed(taskQueue: string, activities: object): Promise<WorkflowTestBed> {
  // The worker's state changes and the core's note on an activity completed after its cancel are expected here.
  Runtime.install({ logger: new DefaultLogger('ERROR') });
  const exe = execFileSync('bash', [INSTALL], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] }).trim();
  const env = await TestWorkflowEnvironment.createTimeSkipping({ server: { executable: { type: 'existing-path', path: exe } } });
  // As `stack up` does on the dev server: an attempt upserts them, and an unknown one fails its workflow task.
  const keyword = temporal.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD;
  await env.connection.operatorService.addSearchAttributes({
    namespace: env.namespace ?? 'default',
    searchAttributes: { [JOB_NAME.name]: keyword, [DAY.name]: keyword },
  });
  const quiet = () => undefined;
  const logger = { log: quiet, trace: quiet, debug: quiet, info: quiet, warn: quiet, error: quiet };
  const { code } = await bundleWorkflowCode({ workflowsPath: require.resolve('../../app/workflows'), logger });
  const worker = await Worker.create({
    connection: env.nativeConnection,
    taskQueue,
    workflowBundle: { code },
    activities,
    maxConcurrentActivityTaskExecutions: 100,
  });
  const running = worker.run();
  return {
    env,
    taskQueue,
    async stop() {
      worker.shutdown();
      await running;
      await env.teardown();
    },
  };
}
