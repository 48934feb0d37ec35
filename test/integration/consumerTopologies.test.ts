import assert from 'node:assert/strict';
import { hostname } from 'node:os';
import { after, before, describe, test } from 'node:test';
import { eventually, uniqueTag, useStackEnv } from '../support/stack';
import { startWorker, type WorkerProcess, bundleWorkflowsForWorkers, TEST_MODULES } from '../support/workerProcess';

useStackEnv(TEST_MODULES);

import { KafkaTools } from '../../connections/kafkaTools';
import { curatedProgramConsumer } from '../../features/curatedPrograms/consumer';
import { consumerWorkflowId, ingestWorkflowId } from '../../workflows/consumerIds';
import { produceCuratedEvents, type ProduceResult } from '../../scripts/produce-curated-events';
import { temporal } from '@temporalio/proto';
import type { ConsumerReport, ConsumerStatus, IngestProgress } from '../../workflows/consumerTypes';
import { consumerStatusQuery, ingestProgressQuery } from '../../workflows/consumerSignals';
import { openRuntime, type Runtime } from '../../workers/runtime';
import { APPEND_ONLY_TABLE_DDL } from '../support/appendOnlyHandler';
import type { TestConsumerSpec } from '../support/consumers';

const PARTITIONS = 4;
const SHIPPED = curatedProgramConsumer.name;
const SHIPPED_TOPIC = curatedProgramConsumer.topics[0]!;
const SHIPPED_GROUP = curatedProgramConsumer.groupId;

/** A test consumer of its own: name, topic and group nobody else uses, so its counts are its own. */
function spec(prefix: string, extra: Partial<TestConsumerSpec> = {}): TestConsumerSpec {
  const tag = uniqueTag(prefix).replace(/-/g, '_');
  const topic = `topo-test.${tag}`;
  return { name: `tt_${tag}`, topic, group: `${topic}.group`, ...extra };
}
const workerEnv = (...specs: TestConsumerSpec[]) => ({ TEST_CONSUMERS: JSON.stringify(specs) });
const processAlive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
};
const sorted = <T>(rows: T[]): T[] => [...rows].sort((x, y) => (JSON.stringify(x) < JSON.stringify(y) ? -1 : 1));

describe('Consumer topologies on the real stack: shared ingest workflows, several consumers, SIGTERM hand-over', { timeout: 900_000 }, () => {
  let rt: Runtime;
  let kafka: KafkaTools;
  const workers: WorkerProcess[] = [];
  const specs: TestConsumerSpec[] = [];
  let queue: string;

  before(async () => {
    // Bundle the workflows once; every worker of this file loads that file instead of running webpack itself.
    await bundleWorkflowsForWorkers();
    rt = await openRuntime();
    kafka = new KafkaTools(rt.env, 'consumer-topologies-test');
    queue = rt.env.TEMPORAL_TASK_QUEUE;
  });

  after(async () => {
    // Long-running workflows of this file would otherwise wait forever on a task queue nobody polls.
    await freshStart();
    await releaseShippedConsumer((q) => q === queue).catch((err: unknown) => console.log(`shipped consumer left running: ${(err as Error).message}`));
    await kafka.deleteGroups(specs.map((s) => s.group!)).catch(() => undefined);
    await kafka.deleteTopics(specs.map((s) => s.topic)).catch(() => undefined);
    await kafka.close();
    await rt.close();
  });

  /**
   * The shipped consumer's workflows are shared by every test file (one workflow ID per consumer), and the runs a
   * finished file left on its task queue would keep its descriptors from reaching our worker. They may be ended only
   * when nothing is in flight: every offset committed to the group is applied in Postgres, so no ingest workflow holds
   * an accepted descriptor not yet written; and no live worker serves that queue.
   */
  async function releaseShippedConsumer(which: (taskQueue: string) => boolean): Promise<void> {
    const open = [];
    for await (const wf of rt.temporal.workflow.list({
      query: `(WorkflowId = "${consumerWorkflowId(SHIPPED)}" OR WorkflowId STARTS_WITH "ingest/${SHIPPED}/") AND ExecutionStatus = "Running"`,
    })) {
      if (which(wf.taskQueue)) open.push(wf);
    }
    if (open.length === 0) return;
    for (const tq of new Set(open.map((wf) => wf.taskQueue))) {
      if (tq === queue) continue;
      const res = await rt.temporal.workflowService.describeTaskQueue({ namespace: rt.env.TEMPORAL_NAMESPACE, taskQueue: { name: tq }, taskQueueType: 2 });
      // The server remembers pollers for minutes after their worker stopped. One of this host (the SDK's identity is
      // pid@hostname) is live while its process is; of another host, while it polled within a long poll's minute.
      const live = (res.pollers ?? []).filter((p) => {
        const m = /^(\d+)@(.+)$/.exec(p.identity ?? '');
        if (m && m[2] === hostname()) return processAlive(Number(m[1]));
        return Date.now() - Number(p.lastAccessTime?.seconds?.toString() ?? 0) * 1000 < 90_000;
      });
      if (live.length > 0) {
        throw new Error(`the shipped consumer runs on task queue ${tq}, which a live worker serves (${live.map((p) => p.identity).join(', ')}); stop it first`);
      }
    }
    const committed = await kafka.committedOffsets(SHIPPED_GROUP, SHIPPED_TOPIC).catch(() => new Map<number, bigint>());
    const applied = new Map(
      ((await rt.ds.query(`SELECT kafka_partition AS p, applied_offset::text AS o FROM kafka_applied_offsets WHERE consumer = $1 AND topic = $2`, [
        SHIPPED,
        SHIPPED_TOPIC,
      ])) as { p: number; o: string }[]).map((r) => [r.p, BigInt(r.o)]),
    );
    const inFlight = [...committed].filter(([p, c]) => c > (applied.get(p) ?? -1n) + 1n);
    if (inFlight.length > 0) throw new Error(`the shipped consumer has committed offsets not yet applied (${inFlight.map(([p, c]) => `${p}@${c}`).join(', ')})`);
    for (const wf of open) await rt.temporal.workflow.getHandle(wf.workflowId, wf.runId).terminate('consumer topologies test: released an idle run').catch(() => undefined);
  }

  /**
   * Stops this file's workers and ends the workflows of the consumers tested so far: a later worker (which does not
   * define them) would otherwise keep failing their activities on our task queue.
   */
  const freshStart = async () => {
    await Promise.all(workers.splice(0).map((w) => w.stop()));
    for (const s of specs) {
      const open = rt.temporal.workflow.list({
        query: `(WorkflowId = "${consumerWorkflowId(s.name)}" OR WorkflowId STARTS_WITH "ingest/${s.name}/") AND ExecutionStatus = "Running"`,
      });
      for await (const wf of open) await rt.temporal.workflow.getHandle(wf.workflowId).terminate('test finished').catch(() => undefined);
    }
  };

  const counts = async (name: string, topic: string) => {
    const [r] = (await rt.ds.query(
      `SELECT (SELECT count(*) FROM curated_program_events WHERE topic = $1)::int AS rows,
              (SELECT count(*) FROM kafka_dead_letters WHERE consumer = $2 AND topic = $1)::int AS dead`,
      [topic, name],
    )) as { rows: number; dead: number }[];
    return r!;
  };
  const status = (name: string): Promise<ConsumerStatus> => rt.temporal.workflow.getHandle(consumerWorkflowId(name)).query(consumerStatusQuery);
  /** The pid in the consumer activity's last heartbeat: the worker hosting the consumer session. */
  const hostPid = async (name: string): Promise<number | undefined> => {
    const d = await rt.temporal.workflow.getHandle(consumerWorkflowId(name)).describe();
    const data = d.raw.pendingActivities?.[0]?.heartbeatDetails?.payloads?.[0]?.data;
    if (!data) return undefined;
    return (JSON.parse(Buffer.from(data).toString()) as ConsumerReport).host.pid;
  };
  const produce = async (s: TestConsumerSpec, count: number, seed: number, prefix = s.name): Promise<ProduceResult> => {
    const r = await produceCuratedEvents({ kafka, topic: s.topic, count, partitions: PARTITIONS, createTopic: true, seed, prefix });
    console.log(`produced ${r.messages} messages to ${s.topic} in ${r.seconds} s: ${r.distinctValid} distinct valid, ${r.repeats} repeats, ${r.garbage} garbage`);
    return r;
  };
  /** The consumer's status once it shows lag 0 over all partitions, each committed up to its high watermark. */
  const caughtUp = (st: ConsumerStatus, topic: string, partitions: number) => {
    const foreign = st.partitions.filter((p) => p.topic !== topic);
    if (foreign.length > 0) throw new Error(`consumer ${st.consumer} describes another's topic: ${[...new Set(foreign.map((p) => p.topic))].join(', ')}`);
    return st.lag === 0 && st.partitions.length === partitions && st.partitions.every((p) => p.committed === p.high) ? st : undefined;
  };
  /** Exactly the distinct valid events as rows, exactly the garbage as dead letters, and lag 0 with committed == high. */
  const waitForExactResult = async (s: TestConsumerSpec, expected: ProduceResult, timeoutMs: number): Promise<ConsumerStatus> =>
    eventually(
      `${expected.distinctValid} rows and ${expected.garbage} dead letters of ${s.topic} with lag 0`,
      async () => {
        const c = await counts(s.name, s.topic);
        if (c.rows > expected.distinctValid || c.dead > expected.garbage) {
          throw new Error(`too many: ${JSON.stringify(c)} for ${expected.distinctValid} events and ${expected.garbage} garbage`);
        }
        if (c.rows !== expected.distinctValid || c.dead !== expected.garbage) return undefined;
        return caughtUp(await status(s.name), s.topic, PARTITIONS);
      },
      timeoutMs,
      500,
    );
  /** Every ingest workflow ID the consumer ever used (each run of a chain counts once). */
  const ingestIds = async (name: string): Promise<string[]> => {
    const ids = new Set<string>();
    for await (const wf of rt.temporal.workflow.list({ query: `WorkflowId STARTS_WITH "ingest/${name}/"` })) ids.add(wf.workflowId);
    return [...ids].sort();
  };
  const applied = async (name: string) =>
    (await rt.ds.query(
      `SELECT topic, kafka_partition AS partition, applied_offset::text AS applied FROM kafka_applied_offsets WHERE consumer = $1 ORDER BY topic, kafka_partition`,
      [name],
    )) as { topic: string; partition: number; applied: string }[];

  test('partitionsPerIngestWorkflow 2 on a 4-partition topic: 2 shared ingest workflows, exactly the distinct events and the garbage', async () => {
    const s = spec('shared', { partitionsPerIngestWorkflow: 2, batchSize: 100, rangeMaxMessages: 2000 });
    specs.push(s);
    const expected = await produce(s, 20_000, 41);
    workers.push(await startWorker(workerEnv(s)));
    const st = await waitForExactResult(s, expected, 240_000);

    assert.deepEqual(await counts(s.name, s.topic), { rows: expected.distinctValid, dead: expected.garbage });
    const highs = new Map(st.partitions.map((p) => [p.partition, BigInt(p.high)]));
    assert.deepEqual([...highs.keys()].sort(), [0, 1, 2, 3]);
    for (let p = 0; p < PARTITIONS; p++) assert.equal(highs.get(p), BigInt(expected.perPartition[p]!), `partition ${p}: high watermark is what was produced`);
    assert.deepEqual(
      await applied(s.name),
      [0, 1, 2, 3].map((p) => ({ topic: s.topic, partition: p, applied: String(highs.get(p)! - 1n) })),
      'every partition applied up to its last offset',
    );

    // Two partitions per workflow: 0 and 1 share one, 2 and 3 the other.
    const expectedIds = [...new Set([0, 1, 2, 3].map((p) => ingestWorkflowId(s.name, s.topic, p, 2)))].sort();
    assert.deepEqual(expectedIds, [`ingest/${s.name}/${s.topic}/0-1`, `ingest/${s.name}/${s.topic}/2-3`]);
    assert.deepEqual(await ingestIds(s.name), expectedIds, 'the ingest workflows are the 2 shared ones, not one per partition');
    let messages = 0;
    let deadLetters = 0;
    for (const [i, id] of expectedIds.entries()) {
      const progress: IngestProgress = await rt.temporal.workflow.getHandle(id).query(ingestProgressQuery);
      const mine = [2 * i, 2 * i + 1].map((p) => `${s.topic}/${p}`);
      assert.deepEqual(Object.keys(progress.writtenUpTo).sort(), mine, `${id} wrote both of its partitions`);
      for (const key of mine) {
        const high = highs.get(Number(key.split('/').pop()))!;
        assert.equal(progress.writtenUpTo[key], String(high - 1n), `${id}: ${key} written to its end`);
        assert.equal(progress.acceptedUpTo?.[key], String(high - 1n), `${id}: ${key} accepted to its end`);
      }
      assert.equal(progress.pendingRanges, 0);
      messages += progress.totals.messages ?? 0;
      deadLetters += progress.totals.deadLetters ?? 0;
    }
    console.log(`2 ingest workflows for 4 partitions (${expectedIds.join(', ')}) wrote ${messages} messages, ${deadLetters} dead letters`);
    assert.equal(messages, expected.messages, 'the two workflows wrote every message of the 4 partitions once');
    assert.equal(deadLetters, expected.garbage);
  });

  test('two test consumers and the shipped one in one worker: each gets exactly its own events and reaches lag 0', async () => {
    await freshStart();
    await releaseShippedConsumer((q) => q !== queue);
    const a = spec('multi_a', { batchSize: 100, rangeMaxMessages: 2000 });
    const b = spec('multi_b', { batchSize: 70, rangeMaxMessages: 1500 });
    specs.push(a, b);
    const expectedA = await produce(a, 12_000, 61);
    const expectedB = await produce(b, 9_000, 67);
    // The shipped topic may hold other runs' messages (it is shared): count only the offsets produced here.
    await kafka.createTopic(SHIPPED_TOPIC, PARTITIONS);
    const shippedPartitions = await kafka.partitionCount(SHIPPED_TOPIC);
    const shippedFrom = await kafka.highWatermarks(SHIPPED_TOPIC);
    const shippedPrefix = uniqueTag('tt_shipped').replace(/-/g, '_');
    const expectedShipped = await produceCuratedEvents({
      kafka,
      topic: SHIPPED_TOPIC,
      count: 6_000,
      partitions: shippedPartitions,
      seed: 71,
      prefix: shippedPrefix,
      wireFormat: curatedProgramConsumer.wireFormat,
    });
    const shippedTo = await kafka.highWatermarks(SHIPPED_TOPIC);
    assert.deepEqual(
      shippedTo.map((h, p) => h - shippedFrom[p]!),
      expectedShipped.perPartition.map(BigInt),
      'nobody else produced to the shipped topic meanwhile',
    );
    console.log(`produced ${expectedShipped.messages} messages to ${SHIPPED_TOPIC}: ${expectedShipped.distinctValid} distinct valid, ${expectedShipped.garbage} garbage`);

    const worker = await startWorker(workerEnv(a, b));
    workers.push(worker);
    const shippedCounts = async () => {
      const [r] = (await rt.ds.query(
        `SELECT (SELECT count(*) FROM curated_program_events WHERE starts_with(event_id, $1 || '-'))::int AS rows,
                (SELECT count(*) FROM kafka_dead_letters d WHERE consumer = $2 AND topic = $3
                   AND kafka_offset >= ($4::bigint[])[d.kafka_partition + 1] AND kafka_offset < ($5::bigint[])[d.kafka_partition + 1])::int AS dead`,
        [shippedPrefix, SHIPPED, SHIPPED_TOPIC, shippedFrom.map(String), shippedTo.map(String)],
      )) as { rows: number; dead: number }[];
      return r!;
    };
    const waits = await Promise.allSettled([
      waitForExactResult(a, expectedA, 300_000),
      waitForExactResult(b, expectedB, 300_000),
      eventually(
        `${expectedShipped.distinctValid} rows and ${expectedShipped.garbage} dead letters of the shipped consumer with lag 0`,
        async () => {
          const c = await shippedCounts();
          if (c.rows > expectedShipped.distinctValid || c.dead > expectedShipped.garbage) throw new Error(`too many: ${JSON.stringify(c)}`);
          if (c.rows !== expectedShipped.distinctValid || c.dead !== expectedShipped.garbage) return undefined;
          const st = caughtUp(await status(SHIPPED), SHIPPED_TOPIC, shippedPartitions);
          // Caught up past our messages, not only past what was there before.
          return st && st.partitions.every((p) => BigInt(p.high) >= shippedTo[p.partition]!) ? st : undefined;
        },
        300_000,
        500,
      ),
    ]);
    const failed = waits.find((w): w is PromiseRejectedResult => w.status === 'rejected');
    if (failed) throw failed.reason;
    const [stA, stB, stShipped] = waits.map((w) => (w as PromiseFulfilledResult<ConsumerStatus>).value) as [ConsumerStatus, ConsumerStatus, ConsumerStatus];
    const described = (st: ConsumerStatus) => st.partitions.reduce((n, p) => n + Number(p.described ?? 0), 0);
    console.log(`lag 0: ${a.name} (${described(stA)} offsets described), ${b.name} (${described(stB)}), ${SHIPPED} (${described(stShipped)})`);

    assert.deepEqual(await counts(a.name, a.topic), { rows: expectedA.distinctValid, dead: expectedA.garbage });
    assert.deepEqual(await counts(b.name, b.topic), { rows: expectedB.distinctValid, dead: expectedB.garbage });
    assert.deepEqual(await shippedCounts(), { rows: expectedShipped.distinctValid, dead: expectedShipped.garbage });
    // None of another's: every event of a producer lies in its own topic, written by its own consumer only.
    const placed = (await rt.ds.query(
      `SELECT split_part(event_id, '-', 1) AS prefix, topic, count(*)::int AS n FROM curated_program_events
        WHERE starts_with(event_id, $1 || '-') OR starts_with(event_id, $2 || '-') OR starts_with(event_id, $3 || '-') OR topic = ANY($4)
        GROUP BY 1, 2`,
      [a.name, b.name, shippedPrefix, [a.topic, b.topic]],
    )) as { prefix: string; topic: string; n: number }[];
    assert.deepEqual(
      sorted(placed),
      sorted([
        { prefix: a.name, topic: a.topic, n: expectedA.distinctValid },
        { prefix: b.name, topic: b.topic, n: expectedB.distinctValid },
        { prefix: shippedPrefix, topic: SHIPPED_TOPIC, n: expectedShipped.distinctValid },
      ]),
      'every event in its own topic only',
    );
    const deadBy = (await rt.ds.query(
      `SELECT consumer, topic, count(*)::int AS n FROM kafka_dead_letters WHERE consumer = ANY($1) OR topic = ANY($2) GROUP BY 1, 2`,
      [[a.name, b.name], [a.topic, b.topic]],
    )) as { consumer: string; topic: string; n: number }[];
    assert.deepEqual(
      sorted(deadBy),
      sorted([
        { consumer: a.name, topic: a.topic, n: expectedA.garbage },
        { consumer: b.name, topic: b.topic, n: expectedB.garbage },
      ]),
      'each test consumer dead-lettered its own topic only',
    );
    const shippedDeadBy = (await rt.ds.query(
      `SELECT DISTINCT consumer FROM kafka_dead_letters d WHERE topic = $1
          AND kafka_offset >= ($2::bigint[])[d.kafka_partition + 1] AND kafka_offset < ($3::bigint[])[d.kafka_partition + 1]`,
      [SHIPPED_TOPIC, shippedFrom.map(String), shippedTo.map(String)],
    )) as { consumer: string }[];
    assert.deepEqual(shippedDeadBy, [{ consumer: SHIPPED }], 'only the shipped consumer dead-lettered the shipped topic');
    const appliedBy = (await rt.ds.query(
      `SELECT consumer, topic, count(*)::int AS partitions FROM kafka_applied_offsets
        WHERE consumer = ANY($1) OR topic = ANY($2) OR (consumer = $3 AND topic = $4) GROUP BY 1, 2`,
      [[a.name, b.name], [a.topic, b.topic], SHIPPED, SHIPPED_TOPIC],
    )) as { consumer: string; topic: string; partitions: number }[];
    assert.deepEqual(
      sorted(appliedBy),
      sorted([
        { consumer: a.name, topic: a.topic, partitions: PARTITIONS },
        { consumer: b.name, topic: b.topic, partitions: PARTITIONS },
        { consumer: SHIPPED, topic: SHIPPED_TOPIC, partitions: shippedPartitions },
      ]),
      'each consumer applied offsets of its own topic only',
    );
    for (const [name, st] of [[a.name, stA], [b.name, stB], [SHIPPED, stShipped]] as const) {
      assert.equal(st.host?.pid, worker.pid, `${name} runs in the one worker`);
    }
    assert.ok(worker.alive(), 'the worker ran throughout');
  });

  test('SIGTERM of the worker hosting the consumer mid-drain: it exits 0 on its own, the other takes over, exactly the events once', async () => {
    await freshStart();
    // A small lead, so the ingest side can only be a few ranges ahead of the consumer: the SIGTERM lands mid-drain.
    const s = spec('sigterm', { batchSize: 90, rangeMaxMessages: 2000, maxLead: 3000 });
    specs.push(s);
    const expected = await produce(s, 60_000, 53);
    const total = expected.distinctValid + expected.garbage;
    const pair = await Promise.all([startWorker(workerEnv(s)), startWorker(workerEnv(s))]);
    workers.push(...pair);

    await eventually('a fifth of the messages stored', async () => {
      const c = await counts(s.name, s.topic);
      return c.rows + c.dead >= total * 0.2;
    }, 240_000, 200);
    const pid = await eventually('a heartbeat from the consumer on one of our workers', async () => {
      const p = await hostPid(s.name);
      return p !== undefined && pair.some((w) => w.pid === p) ? p : undefined;
    }, 60_000);
    const victim = pair.find((w) => w.pid === pid)!;
    const survivor = pair.find((w) => w.pid !== pid)!;
    const survivorMark = survivor.mark();
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
      victim.child.once('exit', (code, signal) => resolve({ code, signal })),
    );
    const atSigterm = await counts(s.name, s.topic);
    assert.ok(victim.alive(), 'the hosting worker is running when it gets SIGTERM');
    assert.ok(atSigterm.rows + atSigterm.dead < total, `mid-drain: ${atSigterm.rows + atSigterm.dead}/${total} stored`);
    const sentAt = Date.now();
    victim.child.kill('SIGTERM');

    const newHost = await eventually('the consumer to run on the other worker', async () => {
      const p = await hostPid(s.name);
      return p === survivor.pid ? p : undefined;
    }, 60_000);
    const takeover = (Date.now() - sentAt) / 1000;
    // Nothing kills it for us: a worker that does not finish on its own within the grace (20 s) and its close fails.
    const exit = await Promise.race([exited, new Promise<undefined>((r) => setTimeout(() => r(undefined), 40_000))]);
    const exitSeconds = (Date.now() - sentAt) / 1000;
    if (!exit) await victim.kill9();
    workers.splice(workers.indexOf(victim), 1);
    assert.ok(exit, `the SIGTERMed worker still ran 40 s later:\n${victim.output().slice(-3000)}`);
    assert.deepEqual(exit, { code: 0, signal: null }, `the SIGTERMed worker exits 0 on its own:\n${victim.output().slice(-3000)}`);
    assert.ok(exitSeconds <= 30, `it exits within its 20 s shutdown grace and closing (${exitSeconds.toFixed(1)} s)`);
    assert.match(victim.output(), /"shutting down: finishing in-flight tasks"[\s\S]*"worker stopped"/, 'it went through the graceful shutdown');

    // The product's own record of the hand-over: the victim's attempt ended for the shutdown, not a heartbeat timeout.
    const pending = (await rt.temporal.workflow.getHandle(consumerWorkflowId(s.name)).describe()).raw.pendingActivities?.[0];
    assert.match(pending?.lastFailure?.message ?? '', /the worker is shutting down/, 'the hosting attempt failed for the shutdown');
    assert.match(survivor.outputSince(survivorMark), /"consumer taking over from another worker"/);
    const moved = await eventually('progress after the hand-over', async () => {
      const c = await counts(s.name, s.topic);
      return c.rows + c.dead > atSigterm.rows + atSigterm.dead ? c : undefined;
    }, 120_000, 200);
    console.log(
      `SIGTERM of pid ${pid} at ${atSigterm.rows + atSigterm.dead}/${total} stored: consumer on pid ${newHost} ${takeover.toFixed(1)} s later, ` +
        `the SIGTERMed worker exited 0 after ${exitSeconds.toFixed(1)} s; ${moved.rows + moved.dead} stored since`,
    );

    const st = await waitForExactResult(s, expected, 300_000);
    assert.deepEqual(await counts(s.name, s.topic), { rows: expected.distinctValid, dead: expected.garbage });
    assert.equal(st.host?.pid, survivor.pid, 'the survivor hosts the consumer at the end');
    assert.ok(survivor.alive(), 'the surviving worker is the same process throughout');
    // Every offset written once: what the ingest workflows wrote adds up to what was produced, nothing more.
    let messages = 0;
    let deadLetters = 0;
    for (let p = 0; p < PARTITIONS; p++) {
      const progress: IngestProgress = await rt.temporal.workflow.getHandle(ingestWorkflowId(s.name, s.topic, p)).query(ingestProgressQuery);
      assert.equal(progress.writtenUpTo[`${s.topic}/${p}`], String(expected.perPartition[p]! - 1));
      messages += progress.totals.messages ?? 0;
      deadLetters += progress.totals.deadLetters ?? 0;
    }
    assert.equal(messages, expected.messages, 'messages written by the ingest workflows');
    assert.equal(deadLetters, expected.garbage, 'dead letters written by the ingest workflows');
  });

  test('a writer without a natural key: kill -9 of two of three workers while they write ranges, every offset written exactly once', async () => {
    await freshStart();
    // Ranges of 2,000 offsets written 100 at a time: a kill lands inside a range that is partly written.
    const s = spec('appendonly', { handler: 'append_only', batchSize: 100, rangeMaxMessages: 2000, maxLead: 4000 });
    specs.push(s);
    await rt.ds.query(APPEND_ONLY_TABLE_DDL);
    const expected = await produce(s, 40_000, 83);
    // Repeats are messages of their own (other offsets): without a key each is a row.
    const valid = expected.messages - expected.garbage;
    const trio = await Promise.all([startWorker(workerEnv(s)), startWorker(workerEnv(s)), startWorker(workerEnv(s))]);
    workers.push(...trio);
    const appended = async () => {
      const [r] = (await rt.ds.query(
        `SELECT count(*)::int AS rows, count(DISTINCT (kafka_partition, kafka_offset))::int AS offsets FROM test_appended_events WHERE topic = $1`,
        [s.topic],
      )) as { rows: number; offsets: number }[];
      if (r!.rows !== r!.offsets) throw new Error(`an offset written twice: ${r!.rows} rows for ${r!.offsets} offsets`);
      if (r!.rows > valid) throw new Error(`too many rows: ${r!.rows} for ${valid} valid messages`);
      return r!.rows;
    };
    /** Pids of our workers running a range activity right now, from the ingest workflows' pending activities. */
    const writing = async (): Promise<number[]> => {
      const pids = new Set<number>();
      for (let p = 0; p < PARTITIONS; p++) {
        const d = await rt.temporal.workflow.getHandle(ingestWorkflowId(s.name, s.topic, p)).describe().catch(() => undefined);
        for (const a of d?.raw.pendingActivities ?? []) {
          const pid = Number(/^(\d+)@/.exec(a.lastWorkerIdentity ?? '')?.[1]);
          if (a.state === temporal.api.enums.v1.PendingActivityState.PENDING_ACTIVITY_STATE_STARTED) {
            if (workers.some((w) => w.pid === pid && w.alive())) pids.add(pid);
          }
        }
      }
      return [...pids];
    };
    const kills: string[] = [];
    for (const share of [0.2, 0.5]) {
      await eventually(`${share * 100}% of the valid messages appended`, async () => ((await appended()) >= valid * share ? true : undefined), 240_000, 100);
      const pid = await eventually('a worker of ours writing a range', async () => (await writing())[0], 60_000, 50);
      const victim = workers.find((w) => w.pid === pid)!;
      const at = await appended();
      await victim.kill9();
      workers.splice(workers.indexOf(victim), 1);
      kills.push(`pid ${pid} at ${at}/${valid}`);
    }
    const survivor = workers.find((w) => trio.includes(w))!;
    await eventually(`${valid} rows, ${expected.garbage} dead letters, lag 0`, async () => {
      if ((await appended()) !== valid) return undefined;
      const c = await counts(s.name, s.topic);
      if (c.dead !== expected.garbage) return undefined;
      return caughtUp(await status(s.name), s.topic, PARTITIONS);
    }, 300_000, 500);
    console.log(`append-only writer, kill -9 of ${kills.join(' and ')}: ${valid} rows, each offset once`);
    assert.equal(await appended(), valid);
    assert.equal((await counts(s.name, s.topic)).dead, expected.garbage);
    assert.ok(survivor.alive(), 'the last worker is the same process throughout');
  });
});
