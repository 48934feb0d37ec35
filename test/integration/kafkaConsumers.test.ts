import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import { eventually, REPO, uniqueTag, useStackEnv } from '../support/stack';
import { startWorker, type WorkerProcess, bundleWorkflowsForWorkers, TEST_MODULES } from '../support/workerProcess';
import { removeTestConsumers } from '../support/testConsumerCleanup';

useStackEnv(TEST_MODULES);
const run = promisify(execFile);

import { KafkaTools } from '../../connections/kafkaTools';
import { consumerWorkflowId, ingestWorkflowId } from '../../workflows/consumerIds';
import { GARBAGE_KINDS, GARBAGE_REASONS, produceCuratedEvents, type ProduceResult } from '../../scripts/produce-curated-events';
import type { ConsumerReport, ConsumerStatus, IngestProgress } from '../../workflows/consumerTypes';
import { consumerStatusQuery, consumerWorkflowType, ingestProgressQuery, pauseSignal, resumeSignal } from '../../workflows/consumerSignals';
import { openRuntime, type Runtime } from '../../workers/runtime';

const PARTITIONS = 4;
const RANGE_MAX = 2000;
const INGEST_CAN_AFTER = 5;
/** Backlogs the idle test drains one after another; also its consumer's continue-as-new threshold in reports. */
const IDLE_ROUNDS = 3;

interface Scenario {
  name: string;
  topic: string;
  group: string;
  env: Record<string, string>;
}

function scenario(prefix: string, extra: Record<string, string>): Scenario {
  const tag = uniqueTag(prefix).replace(/-/g, '_');
  const name = `kt_${tag}`;
  const topic = `kafka-test.${tag}`;
  const group = `${topic}.group`;
  return {
    name,
    topic,
    group,
    env: { TEST_CONSUMER_NAME: name, TEST_CONSUMER_TOPIC: topic, TEST_CONSUMER_GROUP: group, ...extra },
  };
}

describe('Kafka consumers as long-running workflows, on the real stack', { timeout: 480_000 }, () => {
  let rt: Runtime;
  let kafka: KafkaTools;
  const workers: WorkerProcess[] = [];
  const scenarios: Scenario[] = [];

  before(async () => {
    // Bundle the workflows once; every worker of this file loads that file instead of running webpack itself.
    await bundleWorkflowsForWorkers();
    rt = await openRuntime();
    kafka = new KafkaTools(rt.env, 'kafka-consumers-test');
  });

  after(async () => {
    await Promise.all(workers.map((w) => w.stop()));
    await removeTestConsumers(rt.temporal, kafka, scenarios);
    await kafka.close();
    await rt.close();
  });

  const counts = async (s: Scenario) => {
    const [r] = (await rt.ds.query(
      `SELECT (SELECT count(*) FROM curated_program_events WHERE topic = $1)::int AS rows,
              (SELECT count(*) FROM kafka_dead_letters WHERE consumer = $2 AND topic = $1)::int AS dead`,
      [s.topic, s.name],
    )) as { rows: number; dead: number }[];
    return r!;
  };
  const status = (s: Scenario) => rt.temporal.workflow.getHandle(consumerWorkflowId(s.name)).query(consumerStatusQuery);
  /** The pid in the consumer activity's last heartbeat: the worker hosting the Kafka consumer. */
  const hostPid = async (s: Scenario): Promise<number | undefined> => {
    const d = await rt.temporal.workflow.getHandle(consumerWorkflowId(s.name)).describe();
    const data = d.raw.pendingActivities?.[0]?.heartbeatDetails?.payloads?.[0]?.data;
    if (!data) return undefined;
    return (JSON.parse(Buffer.from(data).toString()) as ConsumerReport).host.pid;
  };
  const runsOf = async (workflowId: string) => {
    const runs: { status: string; historyLength: number }[] = [];
    for await (const wf of rt.temporal.workflow.list({ query: `WorkflowId = "${workflowId}"` })) {
      // Visibility records the history length when a run closes; the open run's comes from describe.
      const length = wf.status.name === 'RUNNING' ? (await rt.temporal.workflow.getHandle(workflowId, wf.runId).describe()).historyLength : wf.historyLength;
      runs.push({ status: wf.status.name, historyLength: length });
    }
    return runs;
  };
  const produce = async (s: Scenario, count: number, seed: number): Promise<ProduceResult> => {
    const r = await produceCuratedEvents({ kafka, topic: s.topic, count, partitions: PARTITIONS, createTopic: true, seed, prefix: s.name });
    console.log(`produced ${r.messages} messages to ${s.topic} in ${r.seconds} s: ${r.distinctValid} distinct valid, ${r.repeats} repeats, ${r.garbage} garbage`);
    return r;
  };
  /** Exactly the distinct valid events as rows, exactly the garbage as dead letters, and the group's lag at 0. */
  const waitForExactResult = async (s: Scenario, expected: ProduceResult, timeoutMs: number) => {
    await eventually(
      `${expected.distinctValid} rows and ${expected.garbage} dead letters of ${s.topic} with lag 0`,
      async () => {
        const c = await counts(s);
        if (c.rows > expected.distinctValid || c.dead > expected.garbage) {
          throw new Error(`too many: ${JSON.stringify(c)} for ${expected.distinctValid} events and ${expected.garbage} garbage`);
        }
        if (c.rows !== expected.distinctValid || c.dead !== expected.garbage) return undefined;
        const st = await status(s);
        return st.lag === 0 && st.partitions.length === PARTITIONS ? st : undefined;
      },
      timeoutMs,
      500,
    );
  };

  // Continue-as-new thresholds the drain crosses whatever its speed, so the kill -9s also land across runs of the
  // long-running workflows: a descriptor covers at most RANGE_MAX offsets, so each partition's 25,000-odd messages
  // take at least 13 descriptors (continue as new after 5); and every attempt of the consumer activity reports once
  // when it starts, so the first run and the 3 kill -9s give 4 reports (continue as new after 4).
  const main = scenario('main', {
    TEST_CONSUMER_BATCH_SIZE: '90',
    TEST_CONSUMER_RANGE_MAX: String(RANGE_MAX),
    // A small lead, so the ingest side stops soon after the consumer dies: each kill -9 lands mid-drain.
    TEST_CONSUMER_MAX_LEAD: '3000',
    TEST_CONSUMER_INGEST_CAN_AFTER: String(INGEST_CAN_AFTER),
    TEST_CONSUMER_CAN_AFTER_REPORTS: '4',
  });
  test('100,000 messages with repeats and garbage, kill -9 of the consumer\'s worker 3 times: exactly the distinct events and the garbage', async () => {
    scenarios.push(main);
    const mainExpected = await produce(main, 100_000, 11);
    const total = mainExpected.distinctValid + mainExpected.garbage;
    const started = Date.now();
    workers.push(await startWorker(main.env), await startWorker(main.env));

    const kills: string[] = [];
    for (const share of [0.15, 0.4, 0.65]) {
      await eventually(`${share * 100}% of the messages stored`, async () => {
        const c = await counts(main);
        return c.rows + c.dead >= total * share;
      }, 180_000, 200);
      const pid = await eventually('a heartbeat from the consumer on one of our workers', async () => {
        const p = await hostPid(main);
        return p !== undefined && workers.some((w) => w.pid === p) ? p : undefined;
      }, 60_000);
      const victim = workers.find((w) => w.pid === pid)!;
      // Every worker is the process it was: one that died on its own must fail here, not be replaced unseen.
      const others = workers.filter((w) => w !== victim);
      const allAlive = (ws: WorkerProcess[], when: string) => {
        for (const w of ws) assert.ok(w.alive(), `worker ${w.pid} died ${when}:\n${w.output().slice(-3000)}`);
      };
      allAlive(workers, 'before the kill');
      const before = await counts(main);
      await victim.kill9();
      const killedAt = Date.now();
      workers.splice(workers.indexOf(victim), 1);
      const replacement = startWorker(main.env);
      const newHost = await eventually('the consumer to run on another worker', async () => {
        const p = await hostPid(main);
        return p !== undefined && p !== pid ? p : undefined;
      }, 60_000);
      const failover = (Date.now() - killedAt) / 1000;
      workers.push(await replacement);
      allAlive(others, 'while its peer was replaced');
      const moved = await eventually('progress after the fail-over', async () => {
        const c = await counts(main);
        return c.rows + c.dead > before.rows + before.dead ? c : undefined;
      }, 60_000, 200);
      kills.push(
        `kill -9 of pid ${pid} at ${before.rows + before.dead}/${total} stored; consumer heartbeating on pid ${newHost} ${failover.toFixed(1)} s later; ${moved.rows + moved.dead} stored ${((Date.now() - killedAt) / 1000).toFixed(1)} s after the kill`,
      );
    }
    await waitForExactResult(main, mainExpected, 240_000);
    for (const w of workers) assert.ok(w.alive(), `worker ${w.pid} died during the drain:\n${w.output().slice(-3000)}`);
    const seconds = (Date.now() - started) / 1000;
    for (const k of kills) console.log(k);
    console.log(`lag 0 with exactly ${mainExpected.distinctValid} rows and ${mainExpected.garbage} dead letters ${seconds.toFixed(1)} s after the workers started`);

    const c = await counts(main);
    assert.equal(c.rows, mainExpected.distinctValid);
    assert.equal(c.dead, mainExpected.garbage);
    assert.equal(kills.length, 3);
    const [ids] = (await rt.ds.query(
      `SELECT count(*)::int AS n, count(*) FILTER (WHERE event_id LIKE $2 || '-%')::int AS ours FROM curated_program_events WHERE topic = $1`,
      [main.topic, main.name],
    )) as { n: number; ours: number }[];
    assert.equal(ids!.ours, ids!.n, 'every row is one of the produced events');
    // Rows travel as array literals (db/pgArrayLiteral.ts): absent titles stay NULL, unicode ones arrive intact.
    const [titles] = (await rt.ds.query(
      `SELECT count(*) FILTER (WHERE title IS NULL)::int AS nulls,
              count(*) FILTER (WHERE title IS NOT NULL AND title !~ '^(Program [0-9]+|Émission n°[0-9]+ ✓ 🎬)$')::int AS odd
         FROM curated_program_events WHERE topic = $1`,
      [main.topic],
    )) as { nulls: number; odd: number }[];
    assert.ok(titles!.nulls > 0, 'some events have no title');
    assert.equal(titles!.odd, 0, 'every title is one the producer wrote');
    // Every garbage kind is there with the reason its construction calls for (kinds that share a reason are counted
    // together), and no dead letter has a reason no kind calls for.
    const reasons = (await rt.ds.query(
      `SELECT reason, count(*)::int AS n FROM kafka_dead_letters WHERE consumer = $1 AND topic = $2 GROUP BY reason`,
      [main.name, main.topic],
    )) as { reason: string; n: number }[];
    const matching = (re: RegExp) => reasons.filter((r) => re.test(r.reason)).reduce((n, r) => n + r.n, 0);
    const g = mainExpected.garbageByKind;
    const byReason = new Map<string, { re: RegExp; kinds: string[]; n: number }>();
    for (const kind of GARBAGE_KINDS) {
      const re = GARBAGE_REASONS[kind];
      const e = byReason.get(re.source) ?? { re, kinds: [], n: 0 };
      e.kinds.push(kind);
      e.n += g[kind] ?? 0;
      byReason.set(re.source, e);
    }
    for (const e of byReason.values()) {
      assert.ok(e.n > 0, `${e.kinds.join('/')}: the producer made some`);
      assert.equal(matching(e.re), e.n, `${e.kinds.join('/')}: dead letters with reason ${e.re}`);
    }
    const unexplained = reasons.filter((r) => ![...byReason.values()].some((e) => e.re.test(r.reason)));
    assert.deepEqual(unexplained, [], 'dead letters with a reason no garbage kind calls for');
    const [raw] = (await rt.ds.query(
      `SELECT count(*) FILTER (WHERE raw IS NULL)::int AS nulls, count(*) FILTER (WHERE length(raw) = 0)::int AS empties FROM kafka_dead_letters WHERE consumer = $1 AND topic = $2`,
      [main.name, main.topic],
    )) as { nulls: number; empties: number }[];
    assert.equal(raw!.nulls, g['tombstone'], 'tombstones are kept as NULL raw bytes');
    assert.equal(raw!.empties, g['empty']);
  });

  test('lag stays 0 while idle and the long-running workflows continue as new with bounded histories', async () => {
    // Its own consumer and backlog, so it runs alone as well as after the others. Workers of earlier tests do not
    // define this consumer and would fail its activities: only its own worker serves the queue.
    await Promise.all(workers.splice(0).map((w) => w.stop()));
    const idle = scenario('idle', {
      TEST_CONSUMER_BATCH_SIZE: '90',
      TEST_CONSUMER_RANGE_MAX: String(RANGE_MAX),
      TEST_CONSUMER_INGEST_CAN_AFTER: String(INGEST_CAN_AFTER),
      TEST_CONSUMER_CAN_AFTER_REPORTS: String(IDLE_ROUNDS),
    });
    scenarios.push(idle);
    workers.push(await startWorker(idle.env));
    // Thresholds crossed whatever the drain's speed: each partition gets about 9,000 messages, at least
    // ceil(9,000 / RANGE_MAX) = 5 descriptors (continue as new after 5); the attempt's first report has no partitions
    // yet, and every round ends with a report of its new high watermarks at lag 0 (the round waits for it), so
    // the rounds give IDLE_ROUNDS + 1 reports (continue as new after IDLE_ROUNDS).
    let expected: ProduceResult | undefined;
    for (let round = 0; round < IDLE_ROUNDS; round++) {
      const r = await produceCuratedEvents({ kafka, topic: idle.topic, count: 12_000, partitions: PARTITIONS, createTopic: true, seed: 41 + round, prefix: `${idle.name}-r${round}` });
      expected = expected
        ? { ...expected, messages: expected.messages + r.messages, distinctValid: expected.distinctValid + r.distinctValid, garbage: expected.garbage + r.garbage }
        : r;
      await waitForExactResult(idle, expected, 180_000);
      const produced = expected.messages;
      await eventually(`a report of all ${produced} messages at lag 0`, async () => {
        const st = await status(idle);
        return st.lag === 0 && st.partitions.reduce((n, p) => n + Number(p.high), 0) === produced ? st : undefined;
      }, 60_000);
    }
    console.log(`idle scenario: ${expected!.messages} messages in ${IDLE_ROUNDS} rounds, ${expected!.distinctValid} rows and ${expected!.garbage} dead letters, lag 0`);
    // The last reports of the catch-up may still arrive (and may make the workflow continue as new): wait until the
    // workflow has been quiet for 3 s, then watch it idle. A late report that continues it as new during the watch
    // starts the watch again on the new run (at most three times).
    let first: Awaited<ReturnType<typeof status>> | undefined;
    let last: Awaited<ReturnType<typeof status>> | undefined;
    const lags: number[] = [];
    for (let watch = 0; watch < 3 && (!first || !last || last.generation !== first.generation); watch++) {
      let quiet = 0;
      let previous = -1;
      first = await eventually('the consumer workflow to go quiet', async () => {
        await new Promise((r) => setTimeout(r, 1000));
        const st = await status(idle);
        quiet = st.historyLength === previous && st.lag === 0 ? quiet + 1 : 0;
        previous = st.historyLength;
        return quiet >= 3 ? st : undefined;
      }, 60_000, 0);
      assert.equal(first.lag, 0);
      lags.length = 0;
      for (let i = 0; i < 8; i++) {
        await new Promise((r) => setTimeout(r, 1000));
        const st = await status(idle);
        lags.push(st.lag ?? -1, await kafka.groupLag(idle.group, idle.topic));
      }
      last = await status(idle);
    }
    assert.deepEqual([...new Set(lags)], [0], `lag while idle: ${lags.join(',')}`);
    assert.equal(last!.generation, first!.generation, 'the consumer workflow settles on one run while idle');
    assert.equal(last!.historyLength, first!.historyLength, 'an idle consumer adds no history');
    for (const p of last!.partitions) assert.equal(p.committed, p.high);

    let batches = 0;
    const ingestRuns: string[] = [];
    let maxIngestHistory = 0;
    for (let p = 0; p < PARTITIONS; p++) {
      const id = ingestWorkflowId(idle.name, idle.topic, p);
      const progress: IngestProgress = await rt.temporal.workflow.getHandle(id).query(ingestProgressQuery);
      batches += progress.totals.batches;
      const high = Number(last!.partitions.find((x) => x.partition === p)!.high);
      assert.ok(Math.ceil(high / RANGE_MAX) >= INGEST_CAN_AFTER, `partition ${p} (${high} messages) needs at least ${INGEST_CAN_AFTER} descriptors`);
      assert.equal(progress.acceptedUpTo?.[`${idle.topic}/${p}`], String(high - 1), `${id} accepted every offset`);
      assert.equal(progress.writtenUpTo[`${idle.topic}/${p}`], String(high - 1), `${id} wrote every offset`);
      assert.equal(progress.pendingRanges, 0);
      const runs = await runsOf(id);
      assert.ok(runs.length > 1, `${id} continued as new (${runs.length} runs)`);
      assert.equal(runs.filter((r) => r.status === 'RUNNING').length, 1);
      assert.equal(progress.generation, runs.length - 1);
      maxIngestHistory = Math.max(maxIngestHistory, ...runs.map((r) => r.historyLength));
      ingestRuns.push(`${runs.length} runs, histories ${runs.map((r) => r.historyLength).join('/')}`);
    }
    const consumerRuns = await runsOf(consumerWorkflowId(idle.name));
    const maxConsumerHistory = Math.max(...consumerRuns.map((r) => r.historyLength));
    console.log(`ingest workflows wrote ${batches} ranges: ${ingestRuns.join('; ')}`);
    console.log(`consumer workflow: ${consumerRuns.length} runs (generation ${last!.generation}), histories ${consumerRuns.map((r) => r.historyLength).join('/')}`);
    assert.ok(maxIngestHistory < 2_000, `largest ingest history ${maxIngestHistory} events`);
    assert.ok(consumerRuns.length > 1, 'the consumer workflow continued as new');
    assert.ok(maxConsumerHistory < 1_000, `largest consumer history ${maxConsumerHistory} events`);
  });

  test('a restart of the Temporal server during consumption: the consumer resumes, same exact result', async () => {
    await Promise.all(workers.splice(0).map((w) => w.stop()));
    const s = scenario('restart', { TEST_CONSUMER_BATCH_SIZE: '100', TEST_CONSUMER_INGEST_CAN_AFTER: '100' });
    scenarios.push(s);
    const expected = await produce(s, 40_000, 23);
    const total = expected.distinctValid + expected.garbage;
    const worker = await startWorker(s.env);
    workers.push(worker);
    await eventually('a quarter of the messages stored', async () => {
      const c = await counts(s);
      return c.rows + c.dead >= total * 0.25;
    }, 120_000, 200);
    const before = await counts(s);
    const t0 = Date.now();
    await run('bash', [path.join(REPO, 'stack', 'stack.sh'), 'restart', 'temporal'], { env: process.env });
    const restartSeconds = (Date.now() - t0) / 1000;
    const middle = await counts(s);
    await waitForExactResult(s, expected, 180_000);
    console.log(
      `Temporal restarted in ${restartSeconds.toFixed(1)} s at ${before.rows + before.dead}/${total} stored (${middle.rows + middle.dead} when it was back); ` +
        `exact result ${((Date.now() - t0) / 1000).toFixed(1)} s after the restart began`,
    );
    assert.equal(worker.child.exitCode, null, 'the worker survived the restart');
    const st: ConsumerStatus = await status(s);
    assert.equal(st.lag, 0);
    assert.equal(st.state, 'running');
    assert.deepEqual(await counts(s), { rows: expected.distinctValid, dead: expected.garbage });
    restarted = { s, expected };
  });

  let restarted: { s: Scenario; expected: ProduceResult } | undefined;

  test('the raw pause signal holds in Postgres: the backlog waits uncommitted and unwritten; resume catches up; cancel stops the consumer gracefully', async () => {
    assert.ok(restarted, 'runs after the Temporal-restart test');
    const { s, expected } = restarted;
    const handle = rt.temporal.workflow.getHandle(consumerWorkflowId(s.name));
    const groupState = () => kafka.groupState(s.group);
    const pausedInPostgres = async () =>
      ((await rt.ds.query(`SELECT paused FROM kafka_consumer_controls WHERE consumer = $1`, [s.name])) as { paused: boolean }[])[0]?.paused === true;
    const signalledAt = Date.now();
    await handle.signal(pauseSignal);
    // The workflow writes the signal to kafka_consumer_controls, where the consumer and every range write read it.
    await eventually('the pause in Postgres', pausedInPostgres, 30_000, 50);
    console.log(`pause signal to the pause in Postgres: ${Date.now() - signalledAt} ms`);
    assert.equal((await status(s)).state, 'paused');
    const more = await produceCuratedEvents({ kafka, topic: s.topic, count: 3000, partitions: PARTITIONS, seed: 31, prefix: `${s.name}-more` });
    // The consumer never joins its group (its workflow is the lock), so the group stays empty.
    assert.equal(await groupState(), 'Empty', 'no member in the group');
    await new Promise((r) => setTimeout(r, 3000));
    assert.equal(((await handle.describe()).raw.pendingActivities ?? []).length, 1, 'the consumer activity runs on while paused');
    const paused = await counts(s);
    assert.deepEqual(paused, { rows: expected.distinctValid, dead: expected.garbage }, 'nothing is written while paused');
    assert.equal((await kafka.committedOffsets(s.group, s.topic)).size, PARTITIONS, 'every partition has a commit');
    const lag = await kafka.groupLag(s.group, s.topic);
    assert.equal(lag, 3000, 'the new messages wait, not handed over');

    const resumedAt = Date.now();
    await handle.signal(resumeSignal);
    const total = { ...expected, distinctValid: expected.distinctValid + more.distinctValid, garbage: expected.garbage + more.garbage };
    await waitForExactResult(s, total, 60_000);
    console.log(`paused: lag held at ${lag}; resumed and caught up in ${((Date.now() - resumedAt) / 1000).toFixed(1)} s`);

    const cancelledAt = Date.now();
    await handle.cancel();
    await assert.rejects(handle.result(), /cancel/i);
    await eventually('the consumer group to be empty after cancel', async () => (await groupState()) === 'Empty', 30_000);
    console.log(`cancel: workflow closed and the consumer left the group in ${((Date.now() - cancelledAt) / 1000).toFixed(1)} s`);
    assert.deepEqual(await counts(s), { rows: total.distinctValid, dead: total.garbage });
  });

  test('with Kafka unreachable the worker starts, keeps running jobs, and the consumer retries; an orphaned consumer workflow moves to it', async () => {
    await Promise.all(workers.splice(0).map((w) => w.stop()));
    const s = scenario('nokafka', {});
    scenarios.push(s);
    // A run of this consumer left behind on a task queue no worker polls (as a finished test's would be).
    const orphan = await rt.temporal.workflow.start(consumerWorkflowType, {
      workflowId: consumerWorkflowId(s.name),
      taskQueue: uniqueTag('dead-queue'),
      args: [{ consumer: s.name, settings: { heartbeatTimeoutMs: 5000, retryInitialIntervalMs: 200, retryMaximumIntervalMs: 2000, continueAsNewAfterReports: 10 } }],
    });
    const worker = await startWorker({ ...s.env, KAFKA_BROKERS: '127.0.0.1:1' });
    workers.push(worker);
    await eventually('the orphaned consumer workflow to move to our task queue', async () => {
      const d = await rt.temporal.workflow.getHandle(consumerWorkflowId(s.name)).describe();
      return d.taskQueue === rt.env.TEMPORAL_TASK_QUEUE && d.status.name === 'RUNNING';
    }, 30_000);
    const old = await rt.temporal.workflow.getHandle(consumerWorkflowId(s.name), orphan.firstExecutionRunId).describe();
    assert.equal(old.status.name, 'TERMINATED');
    const tag = uniqueTag('kafka-down');
    const job = await rt.client.trigger('test_steps', { steps: 1, stepMs: 10, tag });
    const view = await rt.client.waitFor('test_steps', job.runId);
    assert.equal(view.status, 'succeeded');
    await eventually('the consumer activity to report its Kafka failure', async () => {
      const d = await rt.temporal.workflow.getHandle(consumerWorkflowId(s.name)).describe();
      const pending = d.raw.pendingActivities?.[0];
      return (pending?.attempt ?? 0) > 1 || /Connection|ECONNREFUSED|describing failed/i.test(worker.output()) ? true : undefined;
    }, 60_000, 500);
    assert.equal(worker.child.exitCode, null, 'the worker is still running');
    assert.equal((await status(s)).state, 'running');
  });
});
