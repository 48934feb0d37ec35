import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { freshDay, generateAndUpload } from '../support/days';
import { eventually, uniqueTag, useStackEnv } from '../support/stack';
import { startWorker, type WorkerProcess, bundleWorkflowsForWorkers, TEST_MODULES } from '../support/workerProcess';

/*
 * Several workers on one task queue, on the Temporal server (PostgreSQL, several history shards): a 2,000-object day
 * and a Kafka backlog are shared by 3 `scheduled-job worker` processes; one of them is kill -9'd midway and nothing
 * restarts it; the other two finish with exactly the rows one clean run leaves. What each worker did is read from the
 * Temporal histories (the identity of the worker that completed each activity). It needs the Temporal server (the dev
 * server has one SQLite connection and one shard) and fails on the dev server, saying so: `npm test` runs it on the
 * soak stack brought up with `--temporal server` (test/run.sh), and `stack.sh up --temporal server` runs it by hand.
 */
process.env['TEMPORAL_TASK_QUEUE'] = uniqueTag('workers-test');
useStackEnv(TEST_MODULES);

import type { S3Client } from '@aws-sdk/client-s3';
import { KafkaTools } from '../../connections/kafkaTools';
import { createS3Client } from '../../connections/s3';
import { consumerWorkflowId } from '../../workflows/consumerIds';
import type { ExpectedOutcome } from '../../scripts/generate-day';
import { produceCuratedEvents } from '../../scripts/produce-curated-events';
import { openRuntime, type Runtime } from '../../workers/runtime';

const WORKERS = 3;
const OBJECTS = 2_000;
const LINES_PER_OBJECT = 40;
const MESSAGES = 60_000;
const PARTITIONS = 4;
const JOB = 'ingest_notification_views'; // the shipped definition and its retry policies
const tag = uniqueTag('sw').replace(/-/g, '_');
const CONSUMER = tag;
const TOPIC = `several-workers.${tag}`;
const GROUP = `${TOPIC}.group`;

describe(`${WORKERS} workers on the Temporal server share a day and a backlog, one is killed -9`, { timeout: 900_000 }, () => {
  let rt: Runtime;
  let kafka: KafkaTools;
  let s3: S3Client;
  let dataDir: string;
  let notServer: string | undefined;
  const workers: WorkerProcess[] = [];

  before(async () => {
    rt = await openRuntime();
    // What the cluster itself says it runs on, not what the stack's scripts were asked for.
    const info = await rt.temporal.connection.workflowService.getClusterInfo({});
    if (!/postgres/i.test(info.persistenceStore ?? '') || (info.historyShardCount ?? 1) < 2) {
      notServer =
        `needs the Temporal server on PostgreSQL with several shards (this one: ${info.persistenceStore}, ` +
        `${info.historyShardCount} shard(s)); run \`bash stack/stack.sh up --temporal server\` first`;
      return;
    }
    console.log(`Temporal ${info.serverVersion}: ${info.persistenceStore}, visibility ${info.visibilityStore}, ${info.historyShardCount} shards`);
    kafka = new KafkaTools(rt.env, 'several-workers-test');
    s3 = createS3Client(rt.env);
    dataDir = mkdtempSync(path.join(tmpdir(), 'several-workers-'));
    // Bundle the workflows once; every worker loads that file instead of running webpack itself.
    await bundleWorkflowsForWorkers();
  });

  after(async () => {
    await Promise.all(workers.map((w) => w.stop()));
    if (!notServer && rt) {
      // The consumer's long-running workflows would otherwise wait forever on a task queue nobody polls.
      const open = rt.temporal.workflow.list({
        query: `(WorkflowId = "${consumerWorkflowId(CONSUMER)}" OR WorkflowId STARTS_WITH "ingest/${CONSUMER}/") AND ExecutionStatus = "Running"`,
      });
      for await (const wf of open) await rt.temporal.workflow.getHandle(wf.workflowId).terminate('test finished').catch(() => undefined);
      await kafka.deleteGroups([GROUP]).catch(() => undefined);
      await kafka.deleteTopics([TOPIC]).catch(() => undefined);
    }
    await kafka?.close();
    s3?.destroy();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
    await rt?.close();
  });

  /**
   * Activities each worker completed, by its identity, in the histories of every run of `query`'s workflows and, to
   * `depth`, their child workflows: who did the work, as Temporal recorded it. A local activity has no event of its
   * own: its marker is a command of the workflow task that ran it, so it counts for that task's worker.
   */
  const completedBy = async (query: string, depth = 2, into = new Map<string, number>()): Promise<Map<string, number>> => {
    const count = (who: string) => into.set(who, (into.get(who) ?? 0) + 1);
    for await (const wf of rt.temporal.workflow.list({ query })) {
      const history = await rt.temporal.workflow.getHandle(wf.workflowId, wf.runId).fetchHistory();
      let taskBy = '?'; // the worker that completed the latest workflow task
      for (const ev of history.events ?? []) {
        if (ev.workflowTaskCompletedEventAttributes) taskBy = ev.workflowTaskCompletedEventAttributes.identity ?? '?';
        if (ev.markerRecordedEventAttributes?.markerName === 'core_local_activity') count(taskBy);
        if (ev.activityTaskCompletedEventAttributes) count(ev.activityTaskCompletedEventAttributes.identity ?? '?');
        const child = ev.childWorkflowExecutionStartedEventAttributes?.workflowExecution?.workflowId;
        if (child && depth > 0) await completedBy(`WorkflowId = "${child}"`, depth - 1, into);
      }
    }
    return into;
  };

  const backlogCounts = async () =>
    ((await rt.ds.query(
      `SELECT (SELECT count(*) FROM curated_program_events WHERE topic = $1)::int AS rows,
              (SELECT count(*) FROM kafka_dead_letters WHERE consumer = $2 AND topic = $1)::int AS dead,
              (SELECT count(DISTINCT (kafka_partition, kafka_offset)) FROM kafka_dead_letters WHERE consumer = $2 AND topic = $1)::int AS "deadDistinct"`,
      [TOPIC, CONSUMER],
    )) as { rows: number; dead: number; deadDistinct: number }[])[0]!;
  const linesDone = async (day: string) =>
    Number(((await rt.ds.query(`SELECT coalesce(sum(lines_read), 0) AS n FROM ingest_objects WHERE day = $1`, [day])) as { n: string }[])[0]!.n);
  const consumerLag = async () => {
    try {
      return (await rt.temporal.workflow.getHandle(consumerWorkflowId(CONSUMER)).query<{ lag: number }>('status')).lag;
    } catch {
      return undefined; // the consumer's workflow task may be on the killed worker until Temporal moves it
    }
  };

  test('every worker takes a share; after the kill the others finish with exactly one clean run\'s rows', async () => {
    if (notServer) assert.fail(notServer);
    const day = freshDay();
    const t0 = Date.now();
    const generated = await generateAndUpload(s3, rt.env.S3_BUCKET, { day, objects: OBJECTS, linesPerObject: LINES_PER_OBJECT, gzipFraction: 0.25, seed: 17 });
    const expected: ExpectedOutcome = generated.expected;
    console.log(`day ${day}: ${OBJECTS} objects, ${expected.lines} lines uploaded in ${((Date.now() - t0) / 1000).toFixed(1)} s`);

    const env = { TEST_CONSUMER_NAME: CONSUMER, TEST_CONSUMER_TOPIC: TOPIC, TEST_CONSUMER_GROUP: GROUP };
    workers.push(...(await Promise.all(Array.from({ length: WORKERS }, () => startWorker(env)))));
    const started = await rt.client.trigger(JOB, { day, parallelism: 4 });

    // The backlog goes in once the day is under way: it drains several times faster than the day ingests, and
    // the kill must land in the middle of both.
    await eventually('a sixth of the day stored', async () => (await linesDone(day)) >= expected.lines / 6, 300_000, 100);
    const produced = await produceCuratedEvents({ kafka, topic: TOPIC, count: MESSAGES, partitions: PARTITIONS, seed: 17, prefix: tag, createTopic: true });
    const total = produced.distinctValid + produced.garbage;
    console.log(`backlog: ${produced.messages} messages (${produced.distinctValid} distinct valid, ${produced.garbage} garbage) on ${PARTITIONS} partitions`);

    // Midway through both, the first worker dies without a word; nothing restarts it.
    await eventually('a third of the backlog stored', async () => {
      const b = await backlogCounts();
      return b.rows + b.dead >= total / 3;
    }, 300_000, 50);
    const [linesAtKill, backlogAtKill] = await Promise.all([linesDone(day), backlogCounts()]);
    assert.ok(linesAtKill < expected.lines, 'the kill must land mid-ingest: use a bigger day');
    assert.ok(backlogAtKill.rows + backlogAtKill.dead < total, 'the kill must land mid-drain: use a bigger backlog');
    const victim = workers[0]!;
    await victim.kill9();
    console.log(`killed worker ${victim.pid} at ${linesAtKill}/${expected.lines} lines and ${backlogAtKill.rows + backlogAtKill.dead} stored messages`);

    const survivors = workers.slice(1);
    const alive = () => {
      for (const w of survivors) assert.ok(w.alive(), `worker ${w.pid} died:\n${w.output().slice(-3000)}`);
    };
    const view = await eventually(`${JOB}/${day} to finish`, async () => {
      alive();
      const v = await rt.client.status(JOB, started.runId);
      return v.status !== 'running' ? v : undefined;
    }, 600_000, 500);
    assert.equal(view.status, 'succeeded', view.error ?? '');
    await eventually(`${produced.distinctValid} rows, ${produced.garbage} dead letters and lag 0`, async () => {
      alive();
      const b = await backlogCounts();
      if (b.rows > produced.distinctValid || b.dead > produced.garbage) return true; // too many: the checks below say so
      return b.rows === produced.distinctValid && b.dead === produced.garbage && (await consumerLag()) === 0;
    }, 600_000, 500);
    await new Promise((r) => setTimeout(r, 2000)); // a late duplicate write would show up now

    // Exactly one clean run's rows: per notification, the quarantined lines, the run's metrics; the backlog's events.
    const perNotification = (await rt.ds.query(
      `SELECT notification_id AS id, count(*)::int AS n FROM notification_views WHERE day = $1 GROUP BY 1`,
      [day],
    )) as { id: string; n: number }[];
    assert.deepEqual(Object.fromEntries(perNotification.map((r) => [r.id, r.n])), expected.perNotification, 'views per notification');
    const rejects = (await rt.ds.query(`SELECT count(*)::int AS n, count(DISTINCT (object_key, line_number))::int AS d FROM ingest_rejects WHERE day = $1`, [day])) as { n: number; d: number }[];
    assert.deepEqual(rejects[0], { n: expected.rejected, d: expected.rejected }, 'each bad line quarantined once');
    const m = view.metrics as Record<string, number>;
    assert.deepEqual(
      { objects: m['objects'], linesRead: m['linesRead'], rowsWritten: m['rowsWritten'], rejected: m['rejected'] },
      { objects: OBJECTS, linesRead: expected.lines, rowsWritten: expected.views, rejected: expected.rejected },
    );
    const b = await backlogCounts();
    const ours = ((await rt.ds.query(`SELECT count(*)::int AS n FROM curated_program_events WHERE event_id LIKE $1 || '-%'`, [tag])) as { n: number }[])[0]!.n;
    assert.deepEqual({ rows: b.rows, ours, dead: b.dead, deadDistinct: b.deadDistinct }, {
      rows: produced.distinctValid,
      ours: produced.distinctValid,
      dead: produced.garbage,
      deadDistinct: produced.garbage,
    });

    // Who did what, as Temporal's histories record it.
    const name = (identity: string) => {
      const w = workers.find((x) => identity === `${x.pid}@${hostname()}`);
      return w ? `worker ${w.pid}${w === victim ? ' (killed)' : ''}` : identity;
    };
    const ingestBy = await completedBy(`WorkflowId = "${JOB}/${day}"`);
    const kafkaBy = await completedBy(`WorkflowId STARTS_WITH "ingest/${CONSUMER}/" OR WorkflowId = "${consumerWorkflowId(CONSUMER)}"`, 0);
    console.log(`activities and local activities completed, per worker (day ingest | Kafka consumer and its partition ingests):`);
    for (const w of workers) {
      const id = `${w.pid}@${hostname()}`;
      console.log(`  ${name(id)}: ${ingestBy.get(id) ?? 0} | ${kafkaBy.get(id) ?? 0}`);
    }
    const foreign = [...ingestBy.keys(), ...kafkaBy.keys()].filter((id) => !workers.some((w) => id === `${w.pid}@${hostname()}`));
    assert.deepEqual(foreign, [], 'only this test\'s workers worked on its queue');
    for (const w of workers) assert.ok((ingestBy.get(`${w.pid}@${hostname()}`) ?? 0) > 0, `${name(`${w.pid}@${hostname()}`)} took a share of the day`);
    const killedDid = (ingestBy.get(`${victim.pid}@${hostname()}`) ?? 0) + (kafkaBy.get(`${victim.pid}@${hostname()}`) ?? 0);
    assert.ok(killedDid > 0, 'the killed worker had done work before it died');
    console.log(`done in ${((Date.now() - t0) / 1000).toFixed(1)} s; ${view.attempt} job attempt(s)`);
  });
});
