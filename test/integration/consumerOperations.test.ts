/**
 * Operating consumers on the real stack, through `scheduled-job consumers` (the real binary) and the client it calls:
 * - a 50,000-message drain with repeats and garbage, paused from the CLI midway (nothing written while paused, not even
 *   a backlog produced after the pause), resumed from the CLI, then the hosting worker kill -9'd: the status totals
 *   equal the producer's counts, lag equals Kafka's end offset minus the applied offset at every sample and ends at 0,
 *   and the dead-letter groups are the producer's garbage classes with exact counts;
 * - the `stale` state after the only worker is kill -9'd, cleared when a worker starts;
 * - a consumer and its ingest workflows stranded on a task queue no worker polls, with descriptors already committed:
 *   moved by the next worker, nothing lost;
 * - offsets Kafka's retention deleted before they were applied: one `retention` dead letter, counted, skipped;
 * - the upgrade check naming an ingest run without the descriptor flow's marker.
 * Expected figures come from the producer's own counts and from Kafka and Postgres read by the test itself.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { eventually, uniqueTag, useStackEnv } from '../support/stack';
import type { TestConsumerSpec } from '../support/consumers';
import { bundleWorkflowsForWorkers, startWorker, TEST_MODULES, type WorkerProcess } from '../support/workerProcess';

const PARTITIONS = 4;
const spec = (prefix: string, over: Partial<TestConsumerSpec> = {}): TestConsumerSpec => {
  const tag = uniqueTag(prefix).replace(/-/g, '_');
  return { name: `co_${tag}`, topic: `consumer-ops.${tag}`, ...over };
};
// Small transactions and a small lead, so the drain takes a while and the pause lands with writes in flight.
const drain = spec('drain', { batchSize: 50, rangeMaxMessages: 1000, maxLead: 2000 });
const stale = spec('stale');
const deadQueue = spec('deadq');
const retention = spec('retention');
const SPECS = [drain, stale, deadQueue, retention];
useStackEnv({ ...TEST_MODULES, TEST_CONSUMERS: JSON.stringify(SPECS) });

import { ConsumersClient, STALE_AFTER_MS, type ConsumerView, type DeadLetterReport } from '../../client/consumersClient';
import { KafkaTools } from '../../connections/kafkaTools';
import { GARBAGE_KINDS, GARBAGE_REASONS, produceCuratedEvents, type ProduceResult } from '../../scripts/produce-curated-events';
import { openConsumers } from '../../workers/openConsumers';
import { openRuntime, type Runtime } from '../../workers/runtime';
import { consumerWorkflowId, ingestWorkflowId } from '../../workflows/consumerIds';
import { CONSUMER_WORKFLOW_TYPE, INGEST_WORKFLOW_TYPE, type ConsumerWorkflowInput, type IngestWorkflowInput, type KafkaRange } from '../../workflows/consumerTypes';
import { startApi } from '../support/apiProcess';
import { cli } from '../support/cliProcess';

const groupOf = (s: TestConsumerSpec) => s.group ?? `${s.topic}.group`;

describe('operating consumers: status, pause, dead letters, stale, moved queues, retention', { timeout: 900_000 }, () => {
  let rt: Runtime;
  let kafka: KafkaTools;
  let consumers: { client: ConsumersClient; close(): Promise<void> };
  const workers: WorkerProcess[] = [];

  before(async () => {
    await bundleWorkflowsForWorkers();
    rt = await openRuntime();
    kafka = new KafkaTools(rt.env, 'consumer-ops-test');
    consumers = openConsumers(rt, 'consumer-ops-test');
  });

  after(async () => {
    await Promise.all(workers.map((w) => w.stop()));
    for (const s of SPECS) {
      const open = rt.temporal.workflow.list({
        query: `(WorkflowId = "${consumerWorkflowId(s.name)}" OR WorkflowId STARTS_WITH "ingest/${s.name}/") AND ExecutionStatus = "Running"`,
      });
      for await (const wf of open) await rt.temporal.workflow.getHandle(wf.workflowId).terminate('test finished').catch(() => undefined);
    }
    await kafka.deleteGroups(SPECS.map(groupOf)).catch(() => undefined);
    await kafka.deleteTopics(SPECS.map((s) => s.topic)).catch(() => undefined);
    await consumers.close();
    await kafka.close();
    await rt.close();
  });

  const counts = async (s: TestConsumerSpec) => {
    const [r] = (await rt.ds.query(
      `SELECT (SELECT count(*) FROM curated_program_events WHERE topic = $1)::int AS rows,
              (SELECT count(*) FROM kafka_dead_letters WHERE consumer = $2)::int AS dead`,
      [s.topic, s.name],
    )) as { rows: number; dead: number }[];
    return r!;
  };
  /** Applied offsets read by the test itself, in Kafka's convention (the next offset to apply), by partition. */
  const appliedNext = async (s: TestConsumerSpec): Promise<Map<number, bigint>> => {
    const rows = (await rt.ds.query(`SELECT kafka_partition AS p, applied_offset::text AS o FROM kafka_applied_offsets WHERE consumer = $1 AND topic = $2`, [
      s.name,
      s.topic,
    ])) as { p: number; o: string }[];
    return new Map(rows.map((r) => [r.p, BigInt(r.o) + 1n]));
  };
  const cliJson = async <T>(args: string[]): Promise<T> => {
    const r = await cli(args);
    assert.equal(r.code, 0, `scheduled-job ${args.join(' ')}: ${r.stderr}`);
    return JSON.parse(r.stdout) as T;
  };
  const sum = (rs: ProduceResult[], k: 'messages' | 'distinctValid' | 'repeats' | 'garbage') => rs.reduce((n, r) => n + r[k], 0);

  /**
   * Status samples with the test's own readings of Kafka's end offsets and Postgres's applied offsets taken just
   * before and just after each: per partition, the status's lag is its end offset minus its applied offset, and both
   * lie between the readings around it.
   */
  class Sampler {
    samples = 0;
    problems: string[] = [];
    last: ConsumerView | undefined;
    private stopped = false;
    private loop: Promise<void> | undefined;

    constructor(private readonly s: TestConsumerSpec) {}

    start(): void {
      this.loop = (async () => {
        while (!this.stopped) {
          await this.sample().catch((err: unknown) => this.problems.push(`sample failed: ${String(err)}`));
          await new Promise((r) => setTimeout(r, 300));
        }
      })();
    }

    async stop(): Promise<void> {
      this.stopped = true;
      await this.loop;
    }

    async sample(): Promise<ConsumerView> {
      const before = { ends: await kafka.highWatermarks(this.s.topic), applied: await appliedNext(this.s) };
      const v = await consumers.client.status(this.s.name);
      const after = { ends: await kafka.highWatermarks(this.s.topic), applied: await appliedNext(this.s) };
      this.samples++;
      this.last = v;
      for (const p of v.partitions) {
        const at = `sample ${this.samples}, partition ${p.partition}`;
        const end = BigInt(p.endOffset);
        if (end < before.ends[p.partition]! || end > after.ends[p.partition]!) this.problems.push(`${at}: end ${end} outside ${before.ends[p.partition]}..${after.ends[p.partition]}`);
        const base = p.applied === null ? BigInt(p.committed ?? p.startOffset) : BigInt(p.applied);
        if (BigInt(p.lag) !== end - base) this.problems.push(`${at}: lag ${p.lag} is not end ${end} - applied ${base}`);
        if (p.applied === null) {
          if (before.applied.has(p.partition)) this.problems.push(`${at}: no applied offset, though Postgres had one before`);
          continue;
        }
        const lo = before.applied.get(p.partition) ?? -1n;
        const hi = after.applied.get(p.partition);
        if (hi === undefined || base < lo || base > hi) this.problems.push(`${at}: applied ${base} outside ${lo}..${hi}`);
      }
      return v;
    }
  }

  test('a 50,000-message drain paused and resumed from the CLI, then a worker kill -9\'d: totals, lag at every sample, dead-letter groups', async () => {
    const s = drain;
    const first = await produceCuratedEvents({ kafka, topic: s.topic, count: 25_000, partitions: PARTITIONS, createTopic: true, seed: 61, prefix: `${s.name}-a` });
    workers.push(await startWorker(), await startWorker());
    const sampler = new Sampler(s);
    sampler.start();
    // The CLI takes a second or two to start: it is started as the first rows land, so the pause meets writes in flight.
    await eventually('the first rows stored', async () => (await counts(s)).rows, 180_000, 100);
    const pause = await cliJson<{ paused: boolean; signalled: boolean }>(['consumers', 'pause', s.name]);
    const pausedAt = Date.now();
    assert.equal(pause.paused, true);
    assert.equal(pause.signalled, true);
    const atPause = await counts(s);
    const appliedAtPause = await appliedNext(s);
    const endsAtPause = await kafka.highWatermarks(s.topic);
    // The second half is the backlog: produced after the pause returned, so nothing may write it before the resume.
    const second = await produceCuratedEvents({ kafka, topic: s.topic, count: 25_000, partitions: PARTITIONS, seed: 62, prefix: `${s.name}-b` });
    const whilePaused: string[] = [];
    for (let i = 0; i < 20; i++) {
      await new Promise((r) => setTimeout(r, 500));
      const c = await counts(s);
      const applied = await appliedNext(s);
      if (c.rows !== atPause.rows || c.dead !== atPause.dead) whilePaused.push(`${i}: ${JSON.stringify(c)}`);
      for (const [p, o] of applied) if (o !== appliedAtPause.get(p)) whilePaused.push(`${i}: partition ${p} applied ${o}, at the pause ${appliedAtPause.get(p)}`);
    }
    assert.deepEqual(whilePaused, [], `nothing written in the 10 s after the pause returned (${JSON.stringify(atPause)} then)`);
    const paused = await cliJson<ConsumerView>(['consumers', 'status', s.name, '--json']);
    assert.equal(paused.state, 'paused');
    assert.equal(paused.paused, true);
    // The consumer handed over nothing of the backlog: its committed offsets stay at or below the ends at the pause.
    const committed = await kafka.committedOffsets(groupOf(s), s.topic);
    for (let p = 0; p < PARTITIONS; p++) assert.ok((committed.get(p) ?? 0n) <= endsAtPause[p]!, `partition ${p}: committed ${committed.get(p)} <= ${endsAtPause[p]}`);
    const descriptorsAfterPause = await rangesSignalledAfter(s, pausedAt);
    const resumedAt = Date.now();
    assert.equal((await cliJson<{ paused: boolean }>(['consumers', 'resume', s.name])).paused, false);

    const total = first.distinctValid + first.garbage + second.distinctValid + second.garbage;
    await eventually('70% stored after the resume', async () => {
      const c = await counts(s);
      return c.rows + c.dead >= total * 0.7;
    }, 180_000, 100);
    const host = await eventually('the consumer hosted by one of our workers', async () => {
      const v = await consumers.client.status(s.name);
      return v.host && workers.some((w) => w.pid === v.host!.pid) ? v.host.pid : undefined;
    }, 60_000);
    const victim = workers.find((w) => w.pid === host)!;
    const survivor = workers.find((w) => w !== victim)!;
    const beforeKill = await counts(s);
    await victim.kill9();
    const killedAt = Date.now();
    workers.splice(workers.indexOf(victim), 1);

    const expected = {
      messages: sum([first, second], 'messages'),
      rows: sum([first, second], 'distinctValid'),
      duplicates: sum([first, second], 'repeats'),
      deadLetters: sum([first, second], 'garbage'),
      lostOffsets: 0,
    };
    await eventually(`lag 0 with ${expected.messages} messages applied`, async () => {
      const v = await consumers.client.status(s.name);
      return v.lag === 0 && v.totals.messages === expected.messages ? v : undefined;
    }, 300_000, 500);
    await sampler.stop();
    assert.ok(survivor.alive(), 'the other worker is the process it was');

    const final = await cliJson<ConsumerView>(['consumers', 'status', s.name, '--json']);
    assert.deepEqual(final.totals, expected, 'totals equal the producer\'s counts');
    assert.equal(final.deadLetters, expected.deadLetters);
    assert.equal(final.state, 'running');
    const produced = [0, 1, 2, 3].map((p) => first.perPartition[p]! + second.perPartition[p]!);
    for (const p of final.partitions) {
      assert.equal(p.lag, 0, `partition ${p.partition} lag`);
      assert.equal(p.endOffset, String(produced[p.partition]), `partition ${p.partition} end offset`);
      assert.equal(p.applied, p.endOffset);
    }
    assert.deepEqual(await counts(s), { rows: expected.rows, dead: expected.deadLetters });
    assert.deepEqual(sampler.problems, [], `${sampler.problems.length} of ${sampler.samples} samples wrong`);
    assert.ok(sampler.samples > 10, `${sampler.samples} samples`);

    // Dead letters grouped by reason class are the producer's garbage classes (kinds that share a reason together).
    const report = await cliJson<DeadLetterReport>(['consumers', 'dead-letters', s.name, '--json', '--limit', '100']);
    const expectedByClass = new Map<string, number>();
    for (const kind of GARBAGE_KINDS) {
      const source = GARBAGE_REASONS[kind].source;
      expectedByClass.set(source, (expectedByClass.get(source) ?? 0) + (first.garbageByKind[kind] ?? 0) + (second.garbageByKind[kind] ?? 0));
    }
    const got = new Map<string, number>();
    for (const g of report.groups) {
      const classes = GARBAGE_KINDS.filter((k) => GARBAGE_REASONS[k].test(g.sample.reason)).map((k) => GARBAGE_REASONS[k].source);
      assert.equal(new Set(classes).size, 1, `group ${g.reasonClass} (sample ${g.sample.reason}) is one garbage class`);
      got.set(classes[0]!, (got.get(classes[0]!) ?? 0) + g.count);
      assert.equal(g.partitions.reduce((n, p) => n + p.count, 0), g.count);
      assert.match(g.replay!, /^scheduled-job trigger replay_dead_letters --args '/);
    }
    assert.equal(report.groups.length, [...expectedByClass.values()].filter((n) => n > 0).length, 'one group per garbage class');
    assert.deepEqual(new Map([...got].sort()), new Map([...expectedByClass].filter(([, n]) => n > 0).sort()));
    assert.equal(report.total, expected.deadLetters);
    // Each group holds only reasons of its class (counted by Postgres, not by the group).
    for (const g of report.groups) {
      const [row] = (await rt.ds.query(
        `SELECT count(*)::int AS n FROM kafka_dead_letters WHERE consumer = $1 AND regexp_replace(reason, '[0-9]+', '<n>', 'g') = $2`,
        [s.name, g.reasonClass],
      )) as { n: number }[];
      assert.equal(row!.n, g.count);
    }
    // A group's replay command, as printed, replays exactly that group (the decoder is unchanged: all stay dead).
    const group = report.groups.find((g) => g.reasonClass === 'event_id: empty')!;
    const replayArgs = /--args '(.*)'$/.exec(group.replay!)![1]!;
    const replay = await cli(['trigger', 'replay_dead_letters', '--args', replayArgs, '--wait']);
    assert.equal(replay.code, 0, replay.stderr);
    const replayed = JSON.parse(replay.stdout.slice(replay.stdout.indexOf('\n') + 1)) as { metrics: Record<string, number> };
    assert.equal(replayed.metrics['examined'], group.count);
    assert.equal(replayed.metrics['stillDead'], group.count);
    const table = await cli(['consumers']);
    assert.equal(table.code, 0, table.stderr);
    assert.match(table.stdout, new RegExp(`^${s.name}\\s+${s.topic.replace('.', '\\.')}\\s+running\\s+0\\s`, 'm'));

    console.log(
      `drain: ${expected.messages} messages (${expected.rows} rows, ${expected.duplicates} duplicates, ${expected.deadLetters} dead letters); ` +
        `paused at ${atPause.rows + atPause.dead} of the first half's ${first.distinctValid + first.garbage} stored, held 10 s with a ${second.messages}-message backlog and nothing written; ` +
        `descriptors signalled after the pause returned: ${descriptorsAfterPause.count}${descriptorsAfterPause.count ? ` (the last ${descriptorsAfterPause.lastMs} ms after)` : ''}; ` +
        `resumed after ${((resumedAt - pausedAt) / 1000).toFixed(1)} s; kill -9 of pid ${host} at ${beforeKill.rows + beforeKill.dead} stored, ` +
        `lag 0 ${((Date.now() - killedAt) / 1000).toFixed(1)} s later; ${sampler.samples} status samples, lag = end - applied in each`,
    );
    console.log(`dead-letter groups: ${report.groups.map((g) => `${g.reasonClass} ${g.count}`).join('; ')}`);
    await Promise.all(workers.splice(0).map((w) => w.stop()));
    drained = { totals: expected, report };
  });
  let drained: { totals: ConsumerView['totals']; report: DeadLetterReport } | undefined;

  /** Range signals the consumer sent into its ingest workflows after `since` (their history's event times). */
  const rangesSignalledAfter = async (s: TestConsumerSpec, since: number) => {
    let count = 0;
    let lastMs = 0;
    for (let p = 0; p < PARTITIONS; p++) {
      const { events } = await rt.temporal.workflow.getHandle(ingestWorkflowId(s.name, s.topic, p)).fetchHistory();
      for (const e of events ?? []) {
        if (e.workflowExecutionSignaledEventAttributes?.signalName !== 'range') continue;
        const at = Number(e.eventTime!.seconds) * 1000 + Math.floor((e.eventTime!.nanos ?? 0) / 1e6);
        if (at > since) {
          count++;
          lastMs = Math.max(lastMs, at - since);
        }
      }
    }
    return { count, lastMs };
  };

  test('stale after the only worker is kill -9\'d, within the stated bound; cleared when a worker starts', async () => {
    const s = stale;
    await Promise.all(workers.splice(0).map((w) => w.stop()));
    await produceCuratedEvents({ kafka, topic: s.topic, count: 2000, partitions: PARTITIONS, createTopic: true, seed: 71, prefix: s.name });
    const worker = await startWorker();
    workers.push(worker);
    await eventually('the consumer running on our worker with lag 0', async () => {
      const v = await consumers.client.status(s.name);
      return v.state === 'running' && v.host?.pid === worker.pid && v.lag === 0 ? v : undefined;
    }, 120_000);
    await worker.kill9();
    const killedAt = Date.now();
    workers.splice(workers.indexOf(worker), 1);
    const staleView = await eventually('the stale state', async () => {
      const v = await consumers.client.status(s.name);
      return v.state === 'stale' ? v : undefined;
    }, 60_000, 100);
    const seenStaleMs = Date.now() - killedAt;
    assert.ok(staleView.reportAgeSeconds! * 1000 >= STALE_AFTER_MS, `stale only past the bound (report age ${staleView.reportAgeSeconds} s)`);
    assert.equal(staleView.host?.pid, worker.pid, 'it names the dead host');
    assert.equal(staleView.messagesPerSecond, null, 'no rate from a dead host');
    const table = await cli(['consumers']);
    assert.match(table.stdout, new RegExp(`^${s.name}\\s.*\\sstale \\d+s\\s`, 'm'), table.stdout);

    const replacement = await startWorker();
    workers.push(replacement);
    const startedAt = Date.now();
    const back = await eventually('running again on the new worker', async () => {
      const v = await consumers.client.status(s.name);
      return v.state === 'running' && v.host?.pid === replacement.pid ? v : undefined;
    }, 120_000, 250);
    assert.ok(back.reportAgeSeconds! * 1000 < STALE_AFTER_MS);
    console.log(
      `stale: seen ${(seenStaleMs / 1000).toFixed(1)} s after the kill -9 (report age then ${staleView.reportAgeSeconds} s; bound ${STALE_AFTER_MS / 1000} s + one status); ` +
        `running again ${((Date.now() - startedAt) / 1000).toFixed(1)} s after a worker started (the heartbeat timeout of the dead attempt, 5 s here, then the new attempt)`,
    );
    await Promise.all(workers.splice(0).map((w) => w.stop()));
  });

  test('a consumer and its ingest workflows on a dead task queue, descriptors committed: the next worker moves them, nothing lost', async () => {
    const s = deadQueue;
    await Promise.all(workers.splice(0).map((w) => w.stop()));
    const a = await produceCuratedEvents({ kafka, topic: s.topic, count: 2000, partitions: PARTITIONS, createTopic: true, seed: 81, prefix: `${s.name}-a` });
    let worker = await startWorker();
    workers.push(worker);
    await eventually('the first batch written', async () => {
      const c = await counts(s);
      return c.rows === a.distinctValid && c.dead === a.garbage;
    }, 120_000);
    await worker.stop();
    workers.splice(workers.indexOf(worker), 1);
    for await (const wf of rt.temporal.workflow.list({ query: `(WorkflowId = "${consumerWorkflowId(s.name)}" OR WorkflowId STARTS_WITH "ingest/${s.name}/") AND ExecutionStatus = "Running"` })) {
      await rt.temporal.workflow.getHandle(wf.workflowId).terminate('the test strands this consumer');
    }
    // What a deployment that went away leaves: the consumer and ingest workflows on its queue, the ingest ones holding
    // descriptors the consumer had handed over (the group committed past them), and no worker polling that queue.
    const dead = uniqueTag('dead-queue');
    const c = (await consumers.client.list()).find((v) => v.name === s.name)!;
    const resolved = consumers.client.consumers.get(s.name);
    const input: ConsumerWorkflowInput = { consumer: s.name, settings: resolved.workflow };
    const stranded = await rt.temporal.workflow.start(CONSUMER_WORKFLOW_TYPE, { workflowId: consumerWorkflowId(s.name), taskQueue: dead, args: [input] });
    const b = await produceCuratedEvents({ kafka, topic: s.topic, count: 3000, partitions: PARTITIONS, seed: 82, prefix: `${s.name}-b` });
    const ends = await kafka.highWatermarks(s.topic);
    const applied = await appliedNext(s);
    for (let p = 0; p < PARTITIONS; p++) {
      const range: KafkaRange = { topic: s.topic, partition: p, firstOffset: String(applied.get(p)!), lastOffset: String(ends[p]! - 1n), messages: Number(ends[p]! - applied.get(p)!) };
      const args: IngestWorkflowInput = { consumer: s.name, settings: resolved.ingest };
      await rt.temporal.workflow.signalWithStart(INGEST_WORKFLOW_TYPE, {
        workflowId: ingestWorkflowId(s.name, s.topic, p),
        taskQueue: dead,
        args: [args],
        signal: 'range',
        signalArgs: [range],
      });
    }
    await kafka.admin.alterConsumerGroupOffsets({
      groupId: groupOf(s),
      topics: [{ name: s.topic, partitionOffsets: ends.map((offset, partition) => ({ partition, offset })) }],
    });
    assert.equal(c.totals.messages, a.messages);

    worker = await startWorker();
    workers.push(worker);
    await eventually('every message of both batches written exactly once', async () => {
      const n = await counts(s);
      if (n.rows > a.distinctValid + b.distinctValid || n.dead > a.garbage + b.garbage) throw new Error(`too many: ${JSON.stringify(n)}`);
      return n.rows === a.distinctValid + b.distinctValid && n.dead === a.garbage + b.garbage;
    }, 180_000, 500);
    const v = await consumers.client.status(s.name);
    assert.equal(v.lag, 0);
    assert.equal(v.totals.messages, a.messages + b.messages);
    assert.equal(v.workflow?.taskQueue, rt.env.TEMPORAL_TASK_QUEUE, 'the consumer runs on the live queue');
    assert.equal((await rt.temporal.workflow.getHandle(consumerWorkflowId(s.name), stranded.firstExecutionRunId).describe()).status.name, 'TERMINATED');
    for (let p = 0; p < PARTITIONS; p++) {
      const d = await rt.temporal.workflow.getHandle(ingestWorkflowId(s.name, s.topic, p)).describe();
      assert.equal(d.taskQueue, rt.env.TEMPORAL_TASK_QUEUE, `ingest of partition ${p} on the live queue`);
    }
    await Promise.all(workers.splice(0).map((w) => w.stop()));
  });

  test('offsets deleted by Kafka\'s retention before they were applied: one retention dead letter, counted, then on', async () => {
    const s = retention;
    await Promise.all(workers.splice(0).map((w) => w.stop()));
    const a = await produceCuratedEvents({ kafka, topic: s.topic, count: 1000, partitions: 1, createTopic: true, seed: 91, prefix: `${s.name}-a` });
    workers.push(await startWorker());
    await eventually('the first 1000 applied', async () => (await appliedNext(s)).get(0) === 1000n, 120_000);
    // The raw signal, as `temporal workflow signal` sends it: the workflow writes the pause to Postgres.
    const signalledAt = Date.now();
    await rt.temporal.workflow.getHandle(consumerWorkflowId(s.name)).signal('pause');
    await eventually('the pause in Postgres', async () => (await consumers.client.status(s.name)).paused, 30_000, 50);
    const pauseMs = Date.now() - signalledAt;
    await produceCuratedEvents({ kafka, topic: s.topic, count: 1000, partitions: 1, seed: 92, prefix: `${s.name}-lost` });
    const c = await produceCuratedEvents({ kafka, topic: s.topic, count: 1000, partitions: 1, seed: 93, prefix: `${s.name}-c` });
    await kafka.admin.deleteRecords({ topics: [{ name: s.topic, partitions: [{ partition: 0, offset: 2000n }] }] });
    assert.equal((await appliedNext(s)).get(0), 1000n, 'nothing written while paused');
    assert.equal((await cliJson<{ paused: boolean }>(['consumers', 'resume', s.name])).paused, false);

    const v = await eventually('lag 0', async () => {
      const st = await consumers.client.status(s.name);
      return st.lag === 0 && st.partitions[0]?.applied === '3000' ? st : undefined;
    }, 120_000, 250);
    assert.deepEqual(v.totals, {
      messages: a.messages + c.messages,
      rows: a.distinctValid + c.distinctValid,
      duplicates: a.repeats + c.repeats,
      deadLetters: a.garbage + c.garbage,
      lostOffsets: 1000,
    });
    assert.equal(v.partitions[0]!.startOffset, '2000');
    const lost = (await rt.ds.query(`SELECT kafka_offset::text AS o, reason, raw FROM kafka_dead_letters WHERE consumer = $1 AND reason LIKE 'retention:%'`, [s.name])) as {
      o: string;
      reason: string;
      raw: Buffer | null;
    }[];
    assert.deepEqual(lost, [{ o: '1000', reason: 'retention: offsets 1000-1999 (1000) were deleted by Kafka before they were applied', raw: null }]);
    assert.deepEqual(await counts(s), { rows: a.distinctValid + c.distinctValid, dead: a.garbage + c.garbage + 1 });
    const report = await cliJson<DeadLetterReport>(['consumers', 'dead-letters', s.name, '--reason', 'retention', '--json']);
    assert.equal(report.total, 1);
    assert.equal(report.groups[0]!.replay, null, 'nothing to replay: the messages are gone');
    console.log(`retention: raw pause signal held in Postgres ${pauseMs} ms after it was sent; 1000 lost offsets recorded as one dead letter, then ${c.messages} more applied`);
    await Promise.all(workers.splice(0).map((w) => w.stop()));
  });

  test('upgrade-check names an open ingest run without the descriptor flow\'s marker; unknown consumers exit 2 naming the known ones', async () => {
    const id = ingestWorkflowId(`${drain.name}_old`, drain.topic, 0);
    // Started on a queue no worker polls, it never ran a workflow task: no marker, as a run from before descriptors.
    const args: IngestWorkflowInput = { consumer: `${drain.name}_old`, settings: { retryInitialIntervalMs: 1000, retryMaximumIntervalMs: 1000, continueAsNewAfterBatches: 10 } };
    const old = await rt.temporal.workflow.start(INGEST_WORKFLOW_TYPE, { workflowId: id, taskQueue: uniqueTag('old-release'), args: [args] });
    try {
      const listed = await cli(['consumers', 'upgrade-check']);
      assert.equal(listed.code, 1, listed.stderr);
      assert.ok((JSON.parse(listed.stdout) as { predating: { workflowId: string }[] }).predating.some((p) => p.workflowId === id), listed.stdout);
      assert.match(listed.stderr, /predate the descriptor flow/);
    } finally {
      await old.terminate('test over');
    }
    // Other open runs of the stack (another test's) may be listed too; this one is not any more.
    const after = JSON.parse((await cli(['consumers', 'upgrade-check'])).stdout) as { predating: { workflowId: string }[] };
    assert.ok(!after.predating.some((p) => p.workflowId === id));

    for (const args of [['consumers', 'status', 'no_such_consumer'], ['consumers', 'pause', 'no_such_consumer'], ['consumers', 'dead-letters', 'no_such_consumer']]) {
      const r = await cli(args);
      assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, new RegExp(`unknown consumer no_such_consumer \\(known: .*${drain.name}`));
    }
    const bad = await cli(['consumers', 'dead-letters', drain.name, '--limit', '0']);
    assert.notEqual(bad.code, 0);
    assert.match(bad.stderr, /--limit.*must be a positive integer/);
  });

  test('the HTTP routes answer what the CLI shows; pause and resume; 404 names the known consumers, 400 says what to fix, 401 without the token', async () => {
    assert.ok(drained, 'runs after the drain');
    const api = await startApi();
    const auth = { authorization: `Bearer ${rt.env.API_TOKEN}` };
    const get = async (path: string, headers: Record<string, string> = auth) => {
      const r = await fetch(`${api.base}${path}`, { headers });
      return { status: r.status, body: (await r.json()) as Record<string, unknown> };
    };
    try {
      const all = await get('/consumers');
      assert.equal(all.status, 200);
      const listed = (all.body['consumers'] as ConsumerView[]).find((c) => c.name === drain.name);
      assert.deepEqual(listed?.totals, drained.totals);
      const one = await get(`/consumers/${drain.name}`);
      assert.equal(one.status, 200);
      assert.deepEqual((one.body as unknown as ConsumerView).totals, drained.totals);
      assert.deepEqual((one.body as unknown as ConsumerView).partitions.map((p) => p.lag), [0, 0, 0, 0]);
      const dead = await get(`/consumers/${drain.name}/dead-letters?limit=100`);
      assert.equal(dead.status, 200);
      assert.deepEqual((dead.body as unknown as DeadLetterReport).groups.map((g) => [g.reasonClass, g.count]), drained.report.groups.map((g) => [g.reasonClass, g.count]));
      const truncated = await get(`/consumers/${drain.name}/dead-letters?reason=truncated&limit=5`);
      assert.deepEqual((truncated.body as unknown as DeadLetterReport).groups.map((g) => g.reasonClass), ['truncated Avro record (<n> bytes)']);

      const pause = await fetch(`${api.base}/consumers/${drain.name}/pause`, { method: 'POST', headers: auth });
      assert.equal(pause.status, 200);
      assert.equal(((await pause.json()) as { paused: boolean }).paused, true);
      assert.equal((await consumers.client.status(drain.name)).paused, true, 'held in Postgres');
      const resume = await fetch(`${api.base}/consumers/${drain.name}/resume`, { method: 'POST', headers: auth });
      assert.equal(resume.status, 200);
      assert.equal((await consumers.client.status(drain.name)).paused, false);

      for (const path of ['/consumers/no_such_consumer', '/consumers/no_such_consumer/dead-letters']) {
        const r = await get(path);
        assert.equal(r.status, 404, path);
        assert.equal(r.body['error'], 'unknown_consumer');
        assert.match(String(r.body['message']), new RegExp(`unknown consumer no_such_consumer \\(known: .*${drain.name}`));
      }
      const unknownPause = await fetch(`${api.base}/consumers/no_such_consumer/pause`, { method: 'POST', headers: auth });
      assert.equal(unknownPause.status, 404);
      for (const q of ['limit=0', 'limit=abc', 'limit=1001', 'reason=']) {
        const r = await get(`/consumers/${drain.name}/dead-letters?${q}`);
        assert.equal(r.status, 400, q);
        assert.match(String(r.body['message']), /^query parameter (limit|reason): /, q);
      }
      assert.equal((await get('/consumers', {})).status, 401);
      assert.equal((await fetch(`${api.base}/consumers/${drain.name}/pause`, { method: 'POST' })).status, 401);

      const metrics = await (await fetch(`${api.base}/metrics`)).text();
      const series = (name: string, labels: string) => new RegExp(`^${name}\\{${labels}\\} (\\d+)$`, 'm').exec(metrics)?.[1];
      assert.equal(series('scheduled_job_kafka_consumer_applied', `consumer="${drain.name}",kind="messages"`), String(drained.totals.messages));
      assert.equal(series('scheduled_job_kafka_consumer_applied', `consumer="${drain.name}",kind="dead_letters"`), String(drained.totals.deadLetters));
      assert.equal(series('scheduled_job_kafka_consumer_lag', `consumer="${drain.name}",topic="${drain.topic}",partition="0"`), '0');
      assert.equal(series('scheduled_job_kafka_consumer_dead_letters', `consumer="${drain.name}"`), String(drained.totals.deadLetters));
      const doc = (await (await fetch(`${api.base}/openapi.json`)).json()) as { paths: Record<string, unknown> };
      for (const path of ['/consumers', '/consumers/{name}', '/consumers/{name}/pause', '/consumers/{name}/resume', '/consumers/{name}/dead-letters']) {
        assert.ok(doc.paths[path], `${path} in the OpenAPI document`);
      }
    } finally {
      await api.stop();
    }
    // Kafka away is an outage, not a bad request: 503 with Retry-After; pause needs no Kafka and still answers.
    const noKafka = await startApi({ KAFKA_BROKERS: '127.0.0.1:1' });
    try {
      const r = await fetch(`${noKafka.base}/consumers/${drain.name}`, { headers: auth });
      assert.equal(r.status, 503);
      assert.equal(r.headers.get('retry-after'), '5');
      const body = (await r.json()) as { error: string; message: string };
      assert.equal(body.error, 'unavailable');
      assert.match(body.message, /^kafka is unreachable/);
      const resume = await fetch(`${noKafka.base}/consumers/${drain.name}/resume`, { method: 'POST', headers: auth });
      assert.equal(resume.status, 200);
    } finally {
      await noKafka.stop();
    }
  });
});
