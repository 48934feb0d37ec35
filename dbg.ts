import { Worker } from '@temporalio/worker';
import { timeSkippingEnvironment, workflowBundle } from './test/support/timeSkipping';
async function main() {
  const env = await timeSkippingEnvironment();
  const worker = await Worker.create({ connection: env.nativeConnection, taskQueue: 'q', workflowBundle: await workflowBundle(), activities: {
    async startAttempt() { console.log('startAttempt'); return { args: { steps: 1, stepMs: 1 }, handler: 'example_steps', activity: { maximumAttempts: 1, initialIntervalMs: 100, backoffCoefficient: 2, maximumIntervalMs: 1000, nonRetryable: [], startToCloseTimeoutMs: 60000, heartbeatTimeoutMs: 5000 }, retry: { retries: 0, initialIntervalMs: 1, backoffCoefficient: 1, maximumIntervalMs: 1, nonRetryable: [] }, attemptTimeoutMs: null }; },
    async finishAttempt(i: unknown) { console.log('finish', i); },
    async doStep() { console.log('doStep'); return 1; },
  } });
  const running = worker.run();
  const h = await env.client.workflow.start('scheduledJob', { taskQueue: 'q', workflowId: 'x', args: [{ job: 'steps', args: {} }] });
  const r = await Promise.race([h.result(), new Promise((r) => setTimeout(() => r('timeout'), 15000))]);
  console.log('result', r);
  const hist = await h.fetchHistory();
  for (const e of hist.events ?? []) console.log(e.eventType, JSON.stringify(e.workflowTaskFailedEventAttributes?.failure?.message ?? ''));
  worker.shutdown(); await running; await env.teardown();
}
main().catch((e) => { console.error(e); process.exit(1); });
