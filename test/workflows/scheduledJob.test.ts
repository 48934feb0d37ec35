/**
 * The ScheduledJob workflow on Temporal's time-skipping test server, with the run log mocked and the example job's
 * own activity: retries as declared (continue-as-new after the backoff, the lock and first run ID kept), the attempt
 * deadline, cancellation and the starts that are never retried. No stack is needed, and backoffs of hours pass in
 * no time, so these cover what the integration tests can only sample with second-long policies.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { Context } from '@temporalio/activity';
import { WorkflowFailedError } from '@temporalio/client';
import { ApplicationFailure, CancelledFailure } from '@temporalio/common';
import { createExampleActivities } from '../../features/examples/activities';
import type { FinishAttemptInput, RunLogActivities, StartAttemptInput } from '../../activities/runLog';
import type { ResolvedJob, ScheduledJobInput } from '../../workflows/types';
import { ATTEMPT_TIMED_OUT, WRONG_WORKFLOW_ID } from '../../workflows/types';
import { TEST_ACTIVITY_POLICY, workflowTestBed, type WorkflowTestBed } from '../support/timeSkipping';

const HOUR = 3_600_000;
const TASK_QUEUE = 'scheduled-job-workflow-tests';

function resolved(handler: string, args: Record<string, unknown>, over: Partial<ResolvedJob> = {}): ResolvedJob {
  return {
    args,
    handler,
    activity: TEST_ACTIVITY_POLICY,
    retry: { retries: 0, initialIntervalMs: HOUR, backoffCoefficient: 2, maximumIntervalMs: 24 * HOUR, nonRetryable: [] },
    attemptTimeoutMs: null,
    ...over,
  };
}

/** What the mocked run log saw for one workflow ID. */
interface Log {
  starts: StartAttemptInput[];
  finishes: FinishAttemptInput[];
  /** What startAttempt answers (or throws) for this workflow ID. */
  answer: (input: StartAttemptInput) => ResolvedJob;
  /** Settles when the handler's first activity starts. */
  stepStarted: Promise<void>;
  onStep: () => void;
}

describe('the ScheduledJob workflow on the time-skipping test server', { timeout: 240_000 }, () => {
  let bed: WorkflowTestBed;
  const logs = new Map<string, Log>();
  const example = createExampleActivities();

  const logOfCaller = () => logs.get(Context.current().info.workflowExecution?.workflowId ?? '')!;
  const runLog: Pick<RunLogActivities, 'startAttempt' | 'finishAttempt'> = {
    async startAttempt(input) {
      const log = logs.get(input.workflowId)!;
      log.starts.push(input);
      return log.answer(input);
    },
    async finishAttempt(input) {
      logOfCaller().finishes.push(input);
    },
  };
  const activities = {
    ...runLog,
    async doStep(input: { step: number; ms: number }) {
      logOfCaller().onStep();
      return example.doStep(input);
    },
  };

  before(async () => {
    bed = await workflowTestBed(TASK_QUEUE, activities);
  });
  after(async () => bed?.stop());

  const start = (answer: Log['answer'], input: Omit<ScheduledJobInput, 'attempt'>) => {
    const workflowId = `${input.job}/${randomUUID()}`;
    let onStep = () => undefined as void;
    const stepStarted = new Promise<void>((resolve) => (onStep = resolve));
    const log: Log = { starts: [], finishes: [], answer, stepStarted, onStep };
    logs.set(workflowId, log);
    return { workflowId, log, handle: bed.env.client.workflow.start('scheduledJob', { taskQueue: bed.taskQueue, workflowId, args: [input] }) };
  };

  /**
   * The time between the starts of consecutive attempts' runs on the server's own (skipping) clock: the backoff, plus
   * the little an attempt takes. (The run log's local activities are timed by the worker's clock, which does not skip.)
   */
  const assertGaps = async (log: Log, backoffs: number[]) => {
    const startedAt: number[] = [];
    for (const s of log.starts) startedAt.push((await bed.env.client.workflow.getHandle(s.workflowId, s.runId).describe()).startTime.getTime());
    const gaps = startedAt.slice(1).map((t, i) => t - startedAt[i]!);
    assert.equal(gaps.length, backoffs.length);
    for (const [i, gap] of gaps.entries()) {
      assert.ok(gap >= backoffs[i]! && gap < backoffs[i]! + 60_000, `backoff ${i + 1}: ${gap} ms on the server's clock, expected ${backoffs[i]}`);
    }
  };

  const failureOf = async (result: Promise<unknown>) => {
    const err = await result.then(
      () => assert.fail('the workflow succeeded'),
      (e: unknown) => e,
    );
    assert.ok(err instanceof WorkflowFailedError, String(err));
    return err.cause;
  };

  test('a successful attempt is logged succeeded with the metrics its handler returned', async () => {
    const args = { steps: 2, stepMs: 10 };
    const { log, handle } = start(() => resolved('example_steps', args), { job: 'steps', args });
    const result = await (await handle).result();
    assert.equal(result.status, 'succeeded');
    assert.equal(result.attempt, 1);
    assert.equal(result.metrics['steps'], 2);
    assert.deepEqual(log.finishes.map((f) => [f.status, f.error, f.metrics['steps']]), [['succeeded', null, 2]]);
  });

  test('a failing attempt is retried as declared: the backoff (hours, skipped) then continue-as-new, same lock and first run ID', async () => {
    const args = { failAttempts: 2 };
    const retry = { retries: 3, initialIntervalMs: HOUR, backoffCoefficient: 3, maximumIntervalMs: 24 * HOUR, nonRetryable: [] };
    const { workflowId, log, handle } = start(() => resolved('example_flaky', args, { retry }), { job: 'flaky', args });
    const h = await handle;
    const realStart = Date.now();
    const result = await h.result();

    assert.equal(result.attempt, 3);
    assert.deepEqual(log.starts.map((s) => s.attempt), [1, 2, 3]);
    assert.deepEqual(log.finishes.map((f) => f.status), ['failed', 'failed', 'succeeded']);
    assert.match(log.finishes[0]!.error!, /^SimulatedFailure: simulated failure on attempt 1/);
    // One chain: every attempt ran under the lock's workflow ID, as new runs of the run the trigger returned.
    assert.deepEqual([...new Set(log.starts.map((s) => s.workflowId))], [workflowId]);
    assert.deepEqual([...new Set(log.starts.map((s) => s.firstRunId))], [h.firstExecutionRunId]);
    assert.equal(new Set(log.starts.map((s) => s.runId)).size, 3);
    // Backoffs of 1 h and 3 h (initial interval, then times the coefficient) passed on the server's clock.
    await assertGaps(log, [HOUR, 3 * HOUR]);
    assert.ok(Date.now() - realStart < 60_000, 'and not on the wall clock');
  });

  test('the backoff is capped at the declared maximum interval', async () => {
    const args = { failAttempts: 2 };
    const retry = { retries: 2, initialIntervalMs: 10 * HOUR, backoffCoefficient: 10, maximumIntervalMs: 12 * HOUR, nonRetryable: [] };
    const { log, handle } = start(() => resolved('example_flaky', args, { retry }), { job: 'flaky', args });
    await (await handle).result();
    assert.deepEqual(log.finishes.map((f) => f.status), ['failed', 'failed', 'succeeded']);
    // 10 h, then min(100 h, 12 h).
    await assertGaps(log, [10 * HOUR, 12 * HOUR]);
  });

  test('retries used up: the chain fails with the job\'s own error type after 1 + retries attempts', async () => {
    const args = { failAttempts: 10 };
    const retry = { retries: 2, initialIntervalMs: HOUR, backoffCoefficient: 1, maximumIntervalMs: HOUR, nonRetryable: [] };
    const { log, handle } = start(() => resolved('example_flaky', args, { retry }), { job: 'flaky', args });
    const cause = await failureOf((await handle).result());
    assert.ok(cause instanceof ApplicationFailure);
    assert.equal(cause.type, 'SimulatedFailure');
    assert.match(cause.message, /attempt 3 of 11/);
    assert.deepEqual(log.finishes.map((f) => f.status), ['failed', 'failed', 'failed']);
  });

  test('an error type the definition declares non-retryable ends the chain at the first attempt', async () => {
    const args = { failAttempts: 10 };
    const retry = { retries: 5, initialIntervalMs: HOUR, backoffCoefficient: 1, maximumIntervalMs: HOUR, nonRetryable: ['SimulatedFailure'] };
    const { log, handle } = start(() => resolved('example_flaky', args, { retry }), { job: 'flaky', args });
    const cause = await failureOf((await handle).result());
    assert.equal((cause as ApplicationFailure).type, 'SimulatedFailure');
    assert.deepEqual(log.starts.map((s) => s.attempt), [1]);
  });

  test('a start the run log refuses (under another workflow ID than the lock\'s) is never retried, whatever the policy', async () => {
    const args = { failAttempts: 0 };
    const { log, handle } = start(
      () => {
        throw ApplicationFailure.nonRetryable('must be started under workflow ID "flaky"', WRONG_WORKFLOW_ID);
      },
      { job: 'flaky', args },
    );
    const cause = await failureOf((await handle).result());
    assert.equal((cause as ApplicationFailure).type, WRONG_WORKFLOW_ID);
    assert.equal(log.starts.length, 1, 'one start, no retry');
  });

  test('an attempt past its deadline cancels the handler\'s activity, is logged timed_out, and is retried like a failure', async () => {
    const args = { steps: 1, stepMs: 600_000 };
    const retry = { retries: 1, initialIntervalMs: HOUR, backoffCoefficient: 1, maximumIntervalMs: HOUR, nonRetryable: [] };
    const { log, handle } = start(() => resolved('example_steps', args, { retry, attemptTimeoutMs: 2_000 }), { job: 'steps', args });
    const realStart = Date.now();
    const cause = await failureOf((await handle).result());
    assert.ok(cause instanceof ApplicationFailure);
    assert.equal(cause.type, ATTEMPT_TIMED_OUT);
    assert.deepEqual(log.finishes.map((f) => f.status), ['timed_out', 'timed_out']);
    assert.match(log.finishes[0]!.error!, /^AttemptTimedOut: the attempt ran past its timeout of 2000 ms/);
    // The 10-minute step ended when the deadline cancelled it, not when it was done.
    assert.ok(Date.now() - realStart < 60_000);
  });

  test('a cancel reaches the running activity, the attempt is logged cancelled and the workflow ends cancelled, not retried', async () => {
    const args = { steps: 1, stepMs: 600_000 };
    const retry = { retries: 3, initialIntervalMs: HOUR, backoffCoefficient: 1, maximumIntervalMs: HOUR, nonRetryable: [] };
    const { log, handle } = start(() => resolved('example_steps', args, { retry }), { job: 'steps', args });
    const h = await handle;
    await log.stepStarted;
    await h.cancel();
    const cause = await failureOf(h.result());
    assert.ok(cause instanceof CancelledFailure, String(cause));
    assert.deepEqual(log.finishes.map((f) => [f.status, f.error]), [['cancelled', 'cancelled']]);
    assert.deepEqual(log.starts.map((s) => s.attempt), [1]);
  });
});
