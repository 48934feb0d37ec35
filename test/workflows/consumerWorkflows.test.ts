/**
 * The stream half's two workflows on Temporal's time-skipping test server, with their activities mocked (no Kafka,
 * no Postgres). `kafkaConsumer`: its consumer activity kept alive through retryable failures with the definition's
 * backoff, restarted after a pause when a non-retryable one reaches it, `pause` and `resume` written to the control
 * store in the order they came (the activity keeps running), a chain's first run taking the pause the store holds,
 * the status built from the activity's reports, and continue-as-new after `continueAsNewAfterReports` reports with its
 * state carried. `consumerIngest`: descriptors written in offset order, redeliveries dropped, contiguous descriptors
 * merged, a failing write retried while the partition waits, a write handed back part-way (paused) resumed where it
 * stopped, and continue-as-new after `continueAsNewAfterBatches` descriptors with the unwritten ones carried.
 *
 * Settings come from the shipped consumer's definition through the registry, the consumer workflow is started by the
 * worker's own start-up call and the ingest workflows by the signal-with-start the consumer activity sends, under the
 * product's workflow IDs.
 */
import assert from 'node:assert/strict';
import { afterEach, after, before, describe, test } from 'node:test';
import { Context } from '@temporalio/activity';
import { ApplicationFailure, CancelledFailure } from '@temporalio/common';
import { ConsumerRegistry, type ResolvedConsumer } from '../../consumers/registry';
import type { ConsumerDefinition } from '../../consumers/definition';
import { ensureConsumerWorkflows } from '../../consumers/start';
import { curatedProgramConsumer } from '../../features/curatedPrograms/consumer';
import { consumerWorkflowId, ingestWorkflowId } from '../../workflows/consumerIds';
import {
  consumerIngestWorkflowType,
  consumerReportSignal,
  consumerStatusQuery,
  ingestProgressQuery,
  ingestRangeSignalName,
  pauseSignal,
  resumeSignal,
} from '../../workflows/consumerSignals';
import {
  type ConsumerReport,
  type ConsumerStatus,
  type IngestProgress,
  type IngestWorkflowInput,
  type KafkaRange,
  type RangeIngestInput,
  type RangeIngestResult,
} from '../../workflows/consumerTypes';
import { workflowTestBed, type WorkflowTestBed } from '../support/timeSkipping';

const TASK_QUEUE = 'consumer-workflow-tests';
const TOPIC = curatedProgramConsumer.topics[0]!;
/**
 * Retries here run on the server's clock with time skipping locked: while an attempt runs, the test server would skip
 * straight to its heartbeat deadline, so a retry schedule is kept short instead of being skipped.
 */
const RETRY = { initialInterval: '300ms', maximumInterval: '1200ms' } as const;
/** What an attempt may take on the server's clock beyond its backoff (dispatch, the mock, the answer). */
const SLACK_MS = 250;

/** The shipped consumer under another name and group, resolved as a worker resolves it. */
function consumerNamed(name: string, over: Partial<ConsumerDefinition> = {}): ResolvedConsumer {
  const def: ConsumerDefinition = { ...curatedProgramConsumer, name, groupId: `${name}.group`, retry: RETRY, ...over };
  return new ConsumerRegistry([def]).get(name);
}

/** One attempt of the mocked consumer activity. */
interface ConsumeCall {
  workflowId: string;
  runId: string;
  activityId: string;
  attempt: number;
  /** When this attempt started, on the server's clock. */
  startedAt: number;
  cancelled: boolean;
  ended: boolean;
}

interface ConsumerMock {
  calls: ConsumeCall[];
  /** What an attempt throws instead of consuming; undefined: it consumes until cancelled. */
  failure?: (call: ConsumeCall) => Error | undefined;
  /** As the real activity does, every attempt that starts consuming reports once. */
  reportOnStart: boolean;
}

/** One attempt of the mocked range write. */
interface IngestCall {
  input: RangeIngestInput;
  attempt: number;
  startedAt: number;
  ok: boolean;
}

interface IngestMock {
  calls: IngestCall[];
  /** Where an attempt stops short of its range's end, as a write handed back while its consumer stayed paused. */
  handBackAt?: (call: IngestCall) => bigint | undefined;
  /** How often each offset was written (succeeded) per `topic/partition`. */
  writes: Map<string, Map<bigint, number>>;
  /** Awaited before an attempt writes: a test holds a write open with it. */
  hold?: (call: IngestCall) => Promise<void> | undefined;
  failure?: (call: IngestCall) => Error | undefined;
}

/** A promise the test settles when it chooses. */
function gate(): { opened: Promise<void>; open: () => void } {
  let open = () => undefined as void;
  const opened = new Promise<void>((resolve) => (open = resolve));
  return { opened, open };
}

async function waitFor<T>(what: string, probe: () => Promise<T | undefined> | T | undefined, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await probe();
      if (v !== undefined && v !== false) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}${last ? ` (last error: ${String(last)})` : ''}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** The gaps between consecutive attempts, each at least its backoff and not much more. */
function assertBackoffs(startedAt: number[], backoffs: number[]): void {
  const gaps = startedAt.slice(1).map((t, i) => t - startedAt[i]!);
  assert.equal(gaps.length, backoffs.length, `gaps ${gaps.join(', ')}`);
  for (const [i, gap] of gaps.entries()) {
    assert.ok(gap >= backoffs[i]! && gap < backoffs[i]! + SLACK_MS, `retry ${i + 1}: ${gap} ms on the server's clock, expected ${backoffs[i]} (all: ${gaps.join(', ')})`);
  }
}

describe('the consumer workflows on the time-skipping test server', { timeout: 120_000 }, () => {
  let bed: WorkflowTestBed;
  const consumerMocks = new Map<string, ConsumerMock>();
  const ingestMocks = new Map<string, IngestMock>();
  /** Workflow IDs a test started: ended after it, so no activity of theirs runs on into another test's skipped time. */
  const started = new Set<string>();
  const closing = new AbortController();

  /** Heartbeats (cancellation reaches an activity only through them) until the activity is cancelled. */
  const heartbeatUntilCancelled = async (ctx: Context, whileWaiting?: Promise<void>) => {
    const beat = setInterval(() => ctx.heartbeat(), 200);
    try {
      const closed = new Promise<never>((_, reject) => closing.signal.addEventListener('abort', () => reject(new CancelledFailure('the test bed is closing')), { once: true }));
      closed.catch(() => undefined);
      await Promise.race([ctx.cancelled, closed, ...(whileWaiting ? [whileWaiting] : [])]);
    } finally {
      clearInterval(beat);
    }
  };

  const activities = {
    async consumeKafka(input: { consumer: string }): Promise<void> {
      const ctx = Context.current();
      const m = consumerMocks.get(input.consumer)!;
      const call: ConsumeCall = {
        workflowId: ctx.info.workflowExecution!.workflowId,
        runId: ctx.info.workflowExecution!.runId,
        activityId: ctx.info.activityId,
        attempt: ctx.info.attempt,
        startedAt: await bed.env.currentTimeMs(),
        cancelled: false,
        ended: false,
      };
      m.calls.push(call);
      try {
        const failure = m.failure?.(call);
        if (failure) throw failure;
        if (m.reportOnStart) await sendReport(call, { high: 0, committed: null, applied: null });
        await heartbeatUntilCancelled(ctx).catch((err: unknown) => {
          call.cancelled = ctx.cancellationSignal.aborted;
          throw err;
        });
      } finally {
        call.ended = true;
      }
    },
    async ingestKafkaRange(input: RangeIngestInput): Promise<RangeIngestResult> {
      const ctx = Context.current();
      const m = ingestMocks.get(input.consumer)!;
      const call: IngestCall = { input, attempt: ctx.info.attempt, startedAt: await bed.env.currentTimeMs(), ok: false };
      m.calls.push(call);
      const held = m.hold?.(call);
      if (held) await heartbeatUntilCancelled(ctx, held);
      const failure = m.failure?.(call);
      if (failure) throw failure;
      const key = `${input.topic}/${input.partition}`;
      const counts = m.writes.get(key) ?? new Map<bigint, number>();
      m.writes.set(key, counts);
      const upTo = m.handBackAt?.(call) ?? BigInt(input.lastOffset);
      for (let o = BigInt(input.firstOffset); o <= upTo; o++) counts.set(o, (counts.get(o) ?? 0) + 1);
      call.ok = true;
      const messages = Number(upTo - BigInt(input.firstOffset) + 1n);
      const handedBack = upTo < BigInt(input.lastOffset);
      return { messages, rows: messages, inserted: messages, deadLetters: 0, skipped: 0, appliedOffset: upTo.toString(), ...(handedBack ? { paused: true } : {}) };
    },
    // The consumer workflow's pause store (kafka_consumer_controls in the product), in memory.
    async consumerPaused(input: { consumer: string }): Promise<boolean> {
      return pauseStore.get(input.consumer)?.at(-1) ?? false;
    },
    async setConsumerPaused(input: { consumer: string; paused: boolean }): Promise<void> {
      pauseStore.set(input.consumer, [...(pauseStore.get(input.consumer) ?? []), input.paused]);
    },
  };
  /** Per consumer, every pause state written to the store, in order (the last is the current one). */
  const pauseStore = new Map<string, boolean[]>();

  /** A report as the consumer activity sends it: to its own workflow run, one partition of the consumer's topic. */
  const sendReport = async (
    call: ConsumeCall,
    p: { high: number; committed: number | null; applied: number | null; maxLead?: number; paused?: boolean },
  ): Promise<ConsumerReport> => {
    const committed = p.committed ?? 0;
    const lead = p.committed === null ? 0 : committed - (p.applied === null ? 0 : p.applied + 1);
    const report: ConsumerReport = {
      at: new Date().toISOString(),
      host: { pid: process.pid, hostname: `worker-${call.activityId}` },
      attempt: call.attempt,
      partitions: [
        {
          topic: TOPIC,
          partition: 0,
          committed: p.committed === null ? null : String(p.committed),
          high: String(p.high),
          lag: p.high - committed,
          described: String(committed),
          applied: p.applied === null ? null : String(p.applied),
          lead,
        },
      ],
      lag: p.high - committed,
      lead,
      maxLead: p.maxLead ?? 200_000,
      paused: p.paused ?? false,
    };
    await bed.env.client.workflow.getHandle(call.workflowId, call.runId).signal(consumerReportSignal, report);
    return report;
  };

  before(async () => {
    bed = await workflowTestBed(TASK_QUEUE, activities);
  });
  afterEach(async () => {
    // Cancelled rather than terminated: a run terminated with an activity in flight leaves the test server's clock
    // locked, and the next `env.sleep` would then wait in real time.
    for (const id of started) {
      const h = bed.env.client.workflow.getHandle(id);
      await h.cancel().catch(() => undefined);
      await waitFor(`${id} closed`, async () => (await h.describe()).status.name !== 'RUNNING', 5_000).catch(() => h.terminate('the test is over').catch(() => undefined));
    }
    started.clear();
  });
  after(async () => {
    closing.abort();
    await bed?.stop();
  });

  /** The consumer's workflow, started by the worker's own start-up call with the definition's settings. */
  const startConsumer = async (c: ResolvedConsumer, mock: Partial<ConsumerMock> = {}) => {
    const m: ConsumerMock = { calls: [], reportOnStart: true, ...mock };
    consumerMocks.set(c.name, m);
    const [run] = await ensureConsumerWorkflows(bed.env.client, [c], TASK_QUEUE);
    assert.equal(run!.workflowId, consumerWorkflowId(c.name));
    started.add(run!.workflowId);
    const latest = bed.env.client.workflow.getHandle(run!.workflowId);
    return { m, workflowId: run!.workflowId, firstRunId: run!.runId, latest, status: () => latest.query(consumerStatusQuery) };
  };

  /** The ingest side of partition `partition`, addressed as the consumer activity addresses it. */
  const ingestOf = (c: ResolvedConsumer, mock: Partial<IngestMock> = {}, partition = 0) => {
    const m: IngestMock = { calls: [], writes: new Map(), ...mock };
    ingestMocks.set(c.name, m);
    const workflowId = ingestWorkflowId(c.name, TOPIC, partition, c.partitionsPerIngestWorkflow);
    started.add(workflowId);
    const handle = bed.env.client.workflow.getHandle(workflowId);
    return {
      m,
      workflowId,
      /** signalWithStart, exactly as the consumer activity describes a range. */
      describe: async (first: number, last: number) => {
        const range: KafkaRange = { topic: TOPIC, partition, firstOffset: String(first), lastOffset: String(last), messages: last - first + 1 };
        const args: IngestWorkflowInput = { consumer: c.name, settings: c.ingest };
        await bed.env.client.workflow.signalWithStart(consumerIngestWorkflowType, {
          workflowId,
          taskQueue: TASK_QUEUE,
          args: [args],
          signal: ingestRangeSignalName,
          signalArgs: [range],
        });
      },
      progress: (): Promise<IngestProgress> => handle.query(ingestProgressQuery),
      /** The offset ranges of the write attempts, as `first-last`. */
      written: () => m.calls.map((c) => `${c.input.firstOffset}-${c.input.lastOffset}${c.ok ? '' : ' failed'}`),
      key: `${TOPIC}/${partition}`,
    };
  };

  /**
   * The run a workflow continued as new into, found by describing it: a query that reaches a run just as it continues
   * as new is never answered by the test server, and its clock stays locked.
   */
  const nextRun = (workflowId: string, previousRunId: string) =>
    waitFor(`the run after ${previousRunId}`, async () => {
      const d = await bed.env.client.workflow.getHandle(workflowId).describe();
      return d.runId !== previousRunId && d.status.name === 'RUNNING' ? d.runId : undefined;
    });

  const untilStatus = (s: () => Promise<ConsumerStatus>, what: string, ok: (st: ConsumerStatus) => boolean) =>
    waitFor(what, async () => {
      const st = await s();
      return ok(st) ? st : undefined;
    });

  describe('kafkaConsumer', () => {
    test('a retryably failing consumer activity is retried by Temporal with the definition\'s backoff, doubling up to its maximum', async () => {
      const c = consumerNamed('cwf_retry');
      assert.deepEqual([c.workflow.retryInitialIntervalMs, c.workflow.retryMaximumIntervalMs], [300, 1200]);
      const { m, status } = await startConsumer(c, {
        failure: (call) => (call.attempt <= 4 ? ApplicationFailure.retryable(`broker unreachable (attempt ${call.attempt})`, 'KafkaConnectionError') : undefined),
      });
      await waitFor('attempt 5 consuming', () => m.calls.find((call) => call.attempt === 5));
      assert.deepEqual(m.calls.map((call) => call.attempt), [1, 2, 3, 4, 5]);
      // One activity retried by the server, not restarted by the workflow.
      assert.equal(new Set(m.calls.map((call) => call.activityId)).size, 1);
      // 300 ms, then doubled (coefficient 2), then capped at the 1200 ms maximum.
      assertBackoffs(m.calls.map((call) => call.startedAt), [300, 600, 1200, 1200]);
      const st = await untilStatus(status, 'the first report', (s) => s.reportedAt !== null);
      assert.equal(st.state, 'running');
      assert.equal(st.lastError, null, 'retryable failures stay with Temporal\'s retries, never in the workflow');
    });

    test('a non-retryable failure reaches the workflow: backing_off with the error, then a new activity after the maximum interval', async () => {
      const c = consumerNamed('cwf_non_retryable');
      let failed = false;
      const { m, status } = await startConsumer(c, {
        // The first activity only: the one after the back-off consumes.
        failure: () => (failed ? undefined : ((failed = true), ApplicationFailure.nonRetryable('this worker has no consumer named cwf_non_retryable', 'UnknownConsumer'))),
      });
      const backingOff = await untilStatus(status, 'backing_off', (s) => s.state === 'backing_off');
      assert.match(backingOff.lastError!, /no consumer named cwf_non_retryable/);
      await waitFor('the second activity', () => m.calls[1]);
      assert.notEqual(m.calls[1]!.activityId, m.calls[0]!.activityId, 'not retried by the server: a new activity');
      assert.deepEqual(m.calls.map((call) => call.attempt), [1, 1]);
      const gap = m.calls[1]!.startedAt - m.calls[0]!.startedAt;
      assert.ok(gap >= 1200 && gap < 1200 + SLACK_MS, `${gap} ms between the activities, expected the 1200 ms maximum interval`);
      const running = await untilStatus(status, 'running again', (s) => s.state === 'running');
      assert.match(running.lastError!, /no consumer named/, 'the last error stays visible');
    });

    test('pause and resume are written to the store in the order they came, the activity running on while paused', async () => {
      const c = consumerNamed('cwf_pause');
      const { m, latest, status } = await startConsumer(c);
      const first = await waitFor('the activity consuming', () => m.calls[0]);
      assert.deepEqual(pauseStore.get(c.name) ?? [], [], 'a first start only reads the store');
      await latest.signal(pauseSignal);
      await waitFor('the pause written', () => pauseStore.get(c.name)?.length === 1);
      assert.equal((await status()).state, 'paused');
      await new Promise((r) => setTimeout(r, 1000));
      assert.equal(first.ended, false, 'the activity keeps running while paused (it reads the pause itself)');
      assert.equal(m.calls.length, 1);
      assert.equal((await status()).state, 'paused');
      // Three signals at once: written one at a time, so the last one is what the store holds.
      await latest.signal(resumeSignal);
      await latest.signal(pauseSignal);
      await latest.signal(resumeSignal);
      await waitFor('the last signal written', () => pauseStore.get(c.name)?.at(-1) === false && (pauseStore.get(c.name)?.length ?? 0) >= 2);
      const writes = pauseStore.get(c.name)!;
      assert.equal(writes[0], true);
      assert.equal(writes.at(-1), false);
      assert.equal((await status()).state, 'running');
      assert.equal(m.calls.length, 1, 'the same activity throughout');
    });

    test('a chain\'s first run takes the pause the store holds (set by the CLI, the API or a terminated run)', async () => {
      const c = consumerNamed('cwf_adopt');
      pauseStore.set(c.name, [true]);
      const { m, latest, status } = await startConsumer(c);
      await waitFor('the activity consuming', () => m.calls[0]);
      assert.equal((await untilStatus(status, 'paused from the store', (s) => s.state === 'paused')).state, 'paused');
      assert.deepEqual(pauseStore.get(c.name), [true], 'nothing written by reading it');
      await latest.signal(resumeSignal);
      await waitFor('the resume written', () => pauseStore.get(c.name)?.at(-1) === false);
      assert.equal((await status()).state, 'running');
    });

    test('status answers from the reports: the last report\'s lag, partitions, lead and host', async () => {
      const c = consumerNamed('cwf_status');
      const { m, status } = await startConsumer(c, { reportOnStart: false });
      const before = await status();
      assert.equal(before.state, 'running');
      assert.equal(before.lag, null, 'no report yet');
      const call = await waitFor('the activity consuming', () => m.calls[0]);
      await sendReport(call, { high: 1000, committed: 400, applied: 199 });
      const last = await sendReport(call, { high: 1500, committed: 900, applied: 699, maxLead: c.maxLead });
      const st = await untilStatus(status, 'both reports', (s) => s.reportsThisRun === 2);
      assert.equal(st.consumer, c.name);
      assert.equal(st.state, 'running');
      assert.equal(st.lag, 600);
      assert.deepEqual(st.partitions, last.partitions);
      assert.equal(st.lead, 200);
      assert.equal(st.maxLead, c.maxLead);
      assert.deepEqual(st.host, last.host);
      assert.equal(st.reportedAt, last.at);
      assert.equal(st.generation, 0);
    });

    test('after continueAsNewAfterReports reports it continues as new: the activity ended first, then restarted in the new run with its state carried', async () => {
      const c = consumerNamed('cwf_can_running', { continueAsNewAfterReports: 3 });
      const { m, latest, firstRunId, status } = await startConsumer(c);
      const first = await waitFor('the activity consuming', () => m.calls[0]);
      assert.equal(first.runId, firstRunId);
      const startedAt = (await status()).startedAt;
      // The start report was the first of three.
      await sendReport(first, { high: 100, committed: 50, applied: 9 });
      const last = await sendReport(first, { high: 300, committed: 250, applied: 49 });
      const second = await waitFor('an activity in the next run', () => m.calls[1]);
      assert.notEqual(second.runId, firstRunId);
      assert.equal(first.ended && first.cancelled, true, 'the old run\'s activity was cancelled and had ended before the new run started it');
      const d = await latest.describe();
      assert.equal(d.runId, second.runId);
      const st = await untilStatus(status, 'the new run\'s start report', (s) => s.reportsThisRun === 1);
      assert.equal(st.generation, 1);
      assert.equal(st.state, 'running');
      assert.equal(st.startedAt, startedAt, 'the chain\'s start, not the run\'s');
      assert.notDeepEqual(st.partitions, last.partitions, 'the new run\'s own start report');
      assert.equal(m.calls.length, 2);
    });

    test('a paused consumer continues as new paused: the last report carried, the store not read again, the activity restarted', async () => {
      const c = consumerNamed('cwf_can_paused', { continueAsNewAfterReports: 3 });
      // Without start reports, so the new run's status holds the carried report until the test sends one.
      const { m, latest, firstRunId, status } = await startConsumer(c, { reportOnStart: false });
      const first = await waitFor('the activity consuming', () => m.calls[0]);
      await latest.signal(pauseSignal);
      await waitFor('the pause written', () => pauseStore.get(c.name)?.at(-1) === true);
      await sendReport(first, { high: 80, committed: 60, applied: 59, paused: true });
      await sendReport(first, { high: 100, committed: 60, applied: 59, paused: true });
      const last = await sendReport(first, { high: 120, committed: 60, applied: 59, paused: true });
      const runId = await nextRun(latest.workflowId, firstRunId);
      const st = await bed.env.client.workflow.getHandle(latest.workflowId, runId).query(consumerStatusQuery);
      assert.equal(st.generation, 1);
      assert.equal(st.state, 'paused');
      assert.equal(st.reportsThisRun, 0);
      assert.equal(st.lag, 60);
      assert.deepEqual(st.partitions, last.partitions);
      assert.equal(st.reportedAt, last.at);
      const second = await waitFor('the activity of the new run', () => m.calls[1]);
      assert.equal(second.runId, runId, 'the consumer activity runs while paused: it reads the pause itself');
      assert.deepEqual(pauseStore.get(c.name), [true], 'the carried pause is not written again');
      await latest.signal(resumeSignal);
      await waitFor('the resume written', () => pauseStore.get(c.name)?.at(-1) === false);
      assert.equal((await status()).state, 'running');
    });
  });

  describe('consumerIngest', () => {
    test('descriptors are written in offset order, the ones queued behind a write merged into one activity; progress reports the offsets', async () => {
      const c = consumerNamed('cwf_ingest_order');
      const firstWrite = gate();
      const p = ingestOf(c, { hold: (call) => (call.input.firstOffset === '0' ? firstWrite.opened : undefined) });
      await p.describe(0, 99);
      await waitFor('the first write', () => p.m.calls[0]);
      await p.describe(100, 199);
      await p.describe(200, 299);
      // A range that does not continue the last one is not merged into it.
      await p.describe(400, 449);
      const queued = await waitFor('all four accepted', async () => {
        const pr = await p.progress();
        return pr.acceptedUpTo?.[p.key] === '449' ? pr : undefined;
      });
      assert.equal(queued.pendingRanges, 4, 'the one being written and three behind it');
      assert.equal(queued.pendingMessages, 100 + 200 + 50);
      assert.deepEqual(queued.writtenUpTo, {});
      firstWrite.open();
      const done = await waitFor('everything written', async () => {
        const pr = await p.progress();
        return pr.writtenUpTo[p.key] === '449' ? pr : undefined;
      });
      assert.deepEqual(p.written(), ['0-99', '100-299', '400-449']);
      assert.equal(done.pendingRanges, 0);
      assert.deepEqual(done.acceptedUpTo, { [p.key]: '449' });
      assert.equal(done.totals.batches, 3);
      assert.equal(done.totals.messages, 350);
      assert.equal(done.totals.rows, 350);
      assert.equal(done.batchesThisRun, 4);
      assert.equal(done.lastError, null);
    });

    test('a redelivered descriptor (at or below what was accepted) is dropped, an overlapping one trimmed: no offset written twice', async () => {
      const c = consumerNamed('cwf_ingest_dedupe');
      const p = ingestOf(c);
      await p.describe(0, 99);
      await p.describe(100, 199);
      await waitFor('0-199 written', async () => (await p.progress()).writtenUpTo[p.key] === '199');
      const before = p.m.calls.length;
      // What a consumer that crashed before its commit describes again, then an overlap, then a stale one.
      await p.describe(100, 199);
      await p.describe(150, 249);
      await p.describe(0, 49);
      await p.describe(250, 299);
      const done = await waitFor('299 written', async () => {
        const pr = await p.progress();
        return pr.writtenUpTo[p.key] === '299' ? pr : undefined;
      });
      const later = p.m.calls.slice(before).map((call) => call.input);
      assert.equal(later[0]?.firstOffset, '200', 'the overlap trimmed to what was new');
      assert.ok(later.every((r) => BigInt(r.firstOffset) >= 200n), `later writes: ${JSON.stringify(later)}`);
      const counts = p.m.writes.get(p.key)!;
      assert.equal(counts.size, 300, 'every offset of 0-299 written');
      assert.deepEqual([...counts].filter(([, n]) => n !== 1), [], 'none twice');
      assert.equal(done.totals.messages, 300);
      assert.deepEqual(done.acceptedUpTo, { [p.key]: '299' });
    });

    test('a failing write is retried with the definition\'s backoff while the partition waits: nothing later is written before it', async () => {
      const c = consumerNamed('cwf_ingest_retry');
      assert.deepEqual([c.ingest.retryInitialIntervalMs, c.ingest.retryMaximumIntervalMs], [300, 1200]);
      const thirdAttempt = gate();
      const p = ingestOf(c, {
        failure: (call) => (call.input.firstOffset === '0' && call.attempt <= 2 ? ApplicationFailure.retryable('Connection terminated unexpectedly', 'QueryFailedError') : undefined),
        hold: (call) => (call.input.firstOffset === '0' && call.attempt === 3 ? thirdAttempt.opened : undefined),
      });
      await p.describe(0, 99);
      await waitFor('the first attempt failed', () => p.m.calls[0]);
      await p.describe(100, 149);
      await p.describe(150, 199);
      await waitFor('the third attempt', () => p.m.calls[2]);
      const waiting = await waitFor('both later descriptors accepted', async () => {
        const pr = await p.progress();
        return pr.acceptedUpTo?.[p.key] === '199' ? pr : undefined;
      });
      assert.deepEqual(waiting.writtenUpTo, {}, 'nothing written while the first range fails');
      assert.equal(waiting.pendingRanges, 3);
      assert.equal(waiting.lastError, null, 'a retried write is Temporal\'s business until its retries are used up');
      assert.deepEqual(p.written(), ['0-99 failed', '0-99 failed', '0-99 failed'], 'the same range, again and again');
      thirdAttempt.open();
      await waitFor('199 written', async () => (await p.progress()).writtenUpTo[p.key] === '199');
      assert.deepEqual(p.written(), ['0-99 failed', '0-99 failed', '0-99', '100-199']);
      assert.deepEqual(p.m.calls.map((call) => call.attempt), [1, 2, 3, 1]);
      assertBackoffs(p.m.calls.slice(0, 3).map((call) => call.startedAt), [300, 600]);
    });

    test('a write handed back part-way (its consumer stayed paused) leaves the rest queued first, written next from where it stopped', async () => {
      const c = consumerNamed('cwf_ingest_hand_back');
      const p = ingestOf(c, { handBackAt: (call) => (call.input.firstOffset === '100' ? 149n : undefined) });
      const firstWrite = gate();
      p.m.hold = (call) => (call.input.firstOffset === '0' ? firstWrite.opened : undefined);
      await p.describe(0, 99);
      await waitFor('the first write', () => p.m.calls[0]);
      await p.describe(100, 199);
      await p.describe(200, 299);
      await waitFor('all accepted', async () => (await p.progress()).acceptedUpTo[p.key] === '299');
      firstWrite.open();
      const done = await waitFor('299 written', async () => {
        const pr = await p.progress();
        return pr.writtenUpTo[p.key] === '299' ? pr : undefined;
      });
      assert.deepEqual(p.written(), ['0-99', '100-299', '150-299'], 'the merged write stopped after 149; the next one went on from 150');
      assert.deepEqual([...p.m.writes.get(p.key)!].filter(([, n]) => n !== 1), [], 'no offset written twice');
      assert.equal(done.totals.messages, 300);
    });

    test('after continueAsNewAfterBatches descriptors it continues as new carrying the unwritten ones and what it accepted', async () => {
      const c = consumerNamed('cwf_ingest_can', { ingestContinueAsNewAfter: 3 });
      assert.equal(c.ingest.continueAsNewAfterBatches, 3);
      const firstWrite = gate();
      const p = ingestOf(c, { hold: (call) => (call.input.firstOffset === '0' ? firstWrite.opened : undefined) });
      await p.describe(0, 9);
      await waitFor('the first write', () => p.m.calls[0]);
      const firstRunId = (await bed.env.client.workflow.getHandle(p.workflowId).describe()).runId;
      await p.describe(10, 19);
      await p.describe(20, 29);
      await waitFor('three accepted', async () => (await p.progress()).acceptedUpTo?.[p.key] === '29');
      firstWrite.open();
      const runId = await nextRun(p.workflowId, firstRunId);
      const next = await bed.env.client.workflow.getHandle(p.workflowId, runId).query(ingestProgressQuery);
      assert.equal(next.generation, 1);
      assert.equal(next.batchesThisRun, 0);
      assert.deepEqual(next.acceptedUpTo, { [p.key]: '29' });
      const done = await waitFor('the carried ranges written', async () => {
        const pr = await p.progress();
        return pr.writtenUpTo[p.key] === '29' ? pr : undefined;
      });
      assert.deepEqual(p.written(), ['0-9', '10-29'], 'the first run wrote only its first range; the next run the two it carried, merged');
      assert.equal(done.totals.batches, 2, 'totals carried');
      assert.equal(done.totals.messages, 30);
      // The next run still knows what the first accepted: a redelivery from before the hand-over is dropped.
      await p.describe(10, 29);
      await p.describe(30, 39);
      await waitFor('39 written', async () => (await p.progress()).writtenUpTo[p.key] === '39');
      assert.deepEqual(p.written(), ['0-9', '10-29', '30-39']);
      assert.deepEqual([...p.m.writes.get(p.key)!].filter(([, n]) => n !== 1), [], 'no offset written twice across runs');
    });
  });
});
