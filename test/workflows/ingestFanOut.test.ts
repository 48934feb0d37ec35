/**
 * The notification-view ingest's workflow side on the time-skipping test server, with its activities mocked: the
 * day's plan fanned out over one child workflow per batch under the attempt's IDs, every planned object ingested
 * once with the declared parallelism, the run's metrics taken from the checkpoint totals, and an unfinished day
 * failing the attempt so that the job's retry resumes the same checkpoints (the chain's first run ID).
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { Context } from '@temporalio/activity';
import { WorkflowFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import type { NotificationIngestActivities } from '../../features/notificationViews/activities';
import type { FinishAttemptInput, RunLogActivities, StartAttemptInput } from '../../activities/runLog';
import type { DayTotals } from '../../features/notificationViews/types';
import type { ResolvedJob } from '../../workflows/types';
import { TEST_ACTIVITY_POLICY, workflowTestBed, type WorkflowTestBed } from '../support/timeSkipping';

const TASK_QUEUE = 'ingest-fan-out-tests';
/** One fake day: its objects by batch, what was ingested, and how many ingests ran at once at most. */
interface Day {
  objects: number;
  batchSize: number;
  /** The parallelism the planning worker suggests. */
  suggested?: number;
  /** Objects whose first ingest "crashes" (is left unfinished): the first attempt ends with them pending. */
  unfinishedOnce: Set<string>;
  chainIds: Set<string>;
  ingested: string[];
  inFlight: number;
  maxInFlight: number;
  childIds: Set<string>;
  finishes: FinishAttemptInput[];
  starts: StartAttemptInput[];
}

const keyOf = (i: number) => `day/object-${String(i).padStart(4, '0')}.log`;

describe('the ingest fan-out on the time-skipping test server', { timeout: 240_000 }, () => {
  let bed: WorkflowTestBed;
  const days = new Map<string, Day>();
  const dayOf = (d: string) => days.get(d)!;

  const ingest: Pick<NotificationIngestActivities, 'checkDayReady' | 'planDay' | 'pendingObjects' | 'ingestObject' | 'summarizeDay'> = {
    async checkDayReady() {},
    async planDay({ day, chainId, batchSize }) {
      const d = dayOf(day);
      d.chainIds.add(chainId);
      assert.equal(batchSize, d.batchSize);
      return { objects: d.objects, batches: Math.ceil(d.objects / batchSize), bytes: d.objects * 1000, parallelism: d.suggested ?? 4 };
    },
    async pendingObjects({ day, batch }) {
      const d = dayOf(day);
      d.childIds.add(Context.current().info.workflowExecution?.workflowId ?? '');
      const keys = Array.from({ length: d.objects }, (_, i) => keyOf(i)).slice(batch * d.batchSize, (batch + 1) * d.batchSize);
      const done = new Set(d.ingested);
      return keys.filter((k) => !done.has(k));
    },
    async ingestObject({ day, key, chainId }) {
      const d = dayOf(day);
      d.chainIds.add(chainId);
      d.inFlight++;
      d.maxInFlight = Math.max(d.maxInFlight, d.inFlight);
      await new Promise((r) => setTimeout(r, 5));
      d.inFlight--;
      if (d.unfinishedOnce.delete(key)) return;
      d.ingested.push(key);
    },
    async summarizeDay({ day }): Promise<DayTotals> {
      const d = dayOf(day);
      const n = new Set(d.ingested).size;
      return { objects: d.objects, objectsPending: d.objects - n, bytesRead: n * 1000, linesRead: n * 10, rowsWritten: n * 9, duplicates: 0, skipped: 0, rejected: n, blank: 0, chunks: n };
    },
  };
  const runLog: Pick<RunLogActivities, 'startAttempt' | 'finishAttempt'> = {
    async startAttempt(input): Promise<ResolvedJob> {
      const args = input.args as { day: string; parallelism: number; batchSize: number };
      dayOf(args.day).starts.push(input);
      return {
        args,
        handler: 'ingest_notification_views',
        activity: TEST_ACTIVITY_POLICY,
        retry: { retries: 1, initialIntervalMs: 3_600_000, backoffCoefficient: 2, maximumIntervalMs: 3_600_000, nonRetryable: [] },
        attemptTimeoutMs: null,
      };
    },
    async finishAttempt(input) {
      for (const d of days.values()) if (d.starts.some((s) => s.runId === input.runId)) d.finishes.push(input);
    },
  };

  before(async () => {
    // Looked up on every call, so a test can swap one activity for a failing one.
    const byName = Object.keys(ingest).map((k) => [k, (input: never) => (ingest[k as keyof typeof ingest] as (i: never) => unknown)(input)]);
    bed = await workflowTestBed(TASK_QUEUE, { ...runLog, ...Object.fromEntries(byName) });
  });
  after(async () => bed?.stop());

  const run = async (d: Omit<Day, 'chainIds' | 'ingested' | 'inFlight' | 'maxInFlight' | 'childIds' | 'finishes' | 'starts'>, parallelism?: number) => {
    const day = `2100-01-${String(days.size + 1).padStart(2, '0')}`;
    days.set(day, { ...d, chainIds: new Set(), ingested: [], inFlight: 0, maxInFlight: 0, childIds: new Set(), finishes: [], starts: [] });
    const workflowId = `ingest_notification_views/${day}/${randomUUID()}`;
    const handle = await bed.env.client.workflow.start('scheduledJob', {
      taskQueue: bed.taskQueue,
      workflowId,
      args: [{ job: 'ingest_notification_views', args: { day, batchSize: d.batchSize, ...(parallelism === undefined ? {} : { parallelism }) } }],
    });
    return { day: dayOf(day), handle, workflowId };
  };

  test('250 objects in batches of 100: three children under the attempt\'s IDs, each object once, at most 2 x parallelism at once', async () => {
    const { day, handle, workflowId } = await run({ objects: 250, batchSize: 100, unfinishedOnce: new Set() }, 3);
    const result = await handle.result();
    assert.equal(result.attempt, 1);
    assert.deepEqual([...day.childIds].sort(), [0, 1, 2].map((b) => `${workflowId}/attempt-1/batch-${b}`));
    assert.equal(day.ingested.length, 250);
    assert.equal(new Set(day.ingested).size, 250, 'no object ingested twice');
    // Two batches at once, each with `parallelism` objects in flight.
    assert.ok(day.maxInFlight <= 6, `${day.maxInFlight} ingests at once`);
    assert.ok(day.maxInFlight > 3, `${day.maxInFlight} ingests at once: the two batches overlapped`);
    assert.deepEqual([...day.chainIds], [handle.firstExecutionRunId], 'one checkpoint set: the chain\'s first run ID');
    assert.equal(result.metrics['rowsWritten'], 250 * 9);
    assert.equal(result.metrics['objects'], 250);
    assert.equal(result.metrics['objectsPending'], undefined, 'pending objects are not a metric of a finished run');
    assert.deepEqual(day.finishes.map((f) => f.status), ['succeeded']);
  });

  test('without a parallelism argument the batches use the planning worker\'s suggestion', async () => {
    const { day, handle } = await run({ objects: 250, batchSize: 100, suggested: 1, unfinishedOnce: new Set() });
    await handle.result();
    assert.equal(new Set(day.ingested).size, 250);
    // One object per batch, two batches at once.
    assert.equal(day.maxInFlight, 2, `${day.maxInFlight} ingests at once`);
  });

  test('objects left unfinished fail the attempt (IngestIncomplete); the retry resumes the same checkpoints and ingests only those', async () => {
    const unfinished = new Set([keyOf(3), keyOf(140)]);
    const { day, handle, workflowId } = await run({ objects: 150, batchSize: 100, unfinishedOnce: new Set(unfinished) }, 2);
    const result = await handle.result();
    assert.equal(result.attempt, 2);
    assert.deepEqual(day.finishes.map((f) => f.status), ['failed', 'succeeded']);
    assert.match(day.finishes[0]!.error!, /^IngestIncomplete: 2 objects of .* are not finished/);
    assert.deepEqual([...day.chainIds], [handle.firstExecutionRunId], 'attempt 2 resumed attempt 1\'s checkpoints');
    // The children's IDs carry Temporal's attempt of the run, which restarts at 1 in each continued run.
    assert.deepEqual([...day.childIds].sort(), [0, 1].map((b) => `${workflowId}/attempt-1/batch-${b}`));
    assert.equal(day.ingested.length, 150, 'each object written once across both attempts');
    assert.deepEqual(day.ingested.slice(-2).sort(), [...unfinished].sort(), 'attempt 2 ingested only what attempt 1 left');
  });

  test('a failing object activity fails the attempt with its own error type', async () => {
    const boom = ingest.ingestObject;
    ingest.ingestObject = async () => {
      throw ApplicationFailure.nonRetryable('the bucket is gone', 'NoSuchBucket');
    };
    try {
      const { day, handle } = await run({ objects: 5, batchSize: 100, unfinishedOnce: new Set() }, 1);
      const err = await handle.result().then(() => assert.fail('succeeded'), (e: unknown) => e);
      assert.ok(err instanceof WorkflowFailedError);
      assert.equal((err.cause as ApplicationFailure).type, 'NoSuchBucket');
      assert.match(day.finishes.at(-1)!.error!, /^NoSuchBucket: the bucket is gone/);
      assert.equal(day.starts.length, 1, 'a non-retryable activity error is not retried by the job either');
    } finally {
      ingest.ingestObject = boom;
    }
  });
});
