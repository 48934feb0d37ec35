import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import { freshDay } from '../support/days';
import { eventually, REPO, stackEnv, uniqueTag, useStackEnv } from '../support/stack';
import { startApi, type ApiProcess } from '../support/apiProcess';
import { startWorker, type WorkerProcess, bundleWorkflowsForWorkers, TEST_MODULES } from '../support/workerProcess';

/*
 * The fault suite: each scenario breaks one dependency of a running ingest or Kafka drain on the real stack, then
 * checks that the database holds exactly what one clean run leaves (the generator's expected-<day>.json, or the
 * producer's counts for Kafka), that job_runs tells the truth, that every worker is still the process it was (a
 * worker that dies is a failure; nothing restarts it), and that the product's own records (its outage log lines,
 * failed activity attempts in the Temporal history or the worker's log) show the fault was felt. The workers run the
 * default configuration: the shipped jobs and the shipped `curated_program` consumer, the owner and ingest roles, the
 * default task queue. It runs on a stack of its own (ports + 100, state in .stack/chaos), so restarting a service
 * never touches the stack the other tests share. CHAOS_MODE=short (npm test) or full (npm run chaos); CHAOS_SEED
 * picks the kill -9 moments.
 */
process.env['SCHEDULED_JOB_PORT_OFFSET'] ??= '100';
process.env['SCHEDULED_JOB_STACK_DIR'] ??= path.join(REPO, '.stack', 'chaos');
if (process.env['SCHEDULED_JOB_PORT_OFFSET'] === '0' && process.env['CHAOS_ALLOW_MAIN_STACK'] !== '1') {
  throw new Error('the fault suite restarts services: run it on a stack of its own (SCHEDULED_JOB_PORT_OFFSET, scripts/chaos.sh)');
}
// The chaos stack's variables win over any the shell took from the main stack (useStackEnv only fills gaps).
const STACK = stackEnv();
Object.assign(process.env, STACK);
useStackEnv({
  ...TEST_MODULES,
  // The default queue, as a user's worker polls: the stack is the suite's own, and the shipped consumer's workflow
  // must stay on a queue these workers serve from one run of the suite to the next.
  TEMPORAL_TASK_QUEUE: STACK['TEMPORAL_TASK_QUEUE'] ?? 'scheduled-job',
});
const run = promisify(execFile);

import type { S3Client } from '@aws-sdk/client-s3';
import { Client as PgClient } from 'pg';
import { KafkaTools } from '../../connections/kafkaTools';
import { createS3Client } from '../../connections/s3';
import { curatedProgramConsumer } from '../../features/curatedPrograms/consumer';
import { consumerWorkflowId } from '../../workflows/consumerIds';
import { generateDay, type ExpectedOutcome } from '../../scripts/generate-day';
import { produceCuratedEvents, type ProduceOptions, type ProduceResult } from '../../scripts/produce-curated-events';
import { Rng } from '../../scripts/rng';
import { uploadGeneratedFiles } from '../../scripts/upload-day';
import { consumerStatusQuery } from '../../workflows/consumerSignals';
import { openRuntime, type Runtime } from '../../workers/runtime';

const FULL = process.env['CHAOS_MODE'] === 'full';
const SEED = Number(process.env['CHAOS_SEED'] ?? 8);
const MODE = FULL
  ? {
      day: { objects: 8, linesPerObject: 40_000 },
      killDay: { objects: 10, linesPerObject: 50_000 },
      postgresRestartsAt: [0.2, 0.5, 0.8],
      s3OutageSeconds: 30,
      temporalRestartsAt: [0.25, 0.65],
      kills: 6,
      storm: { restarts: Number(process.env['CHAOS_STORM_RESTARTS'] ?? 10), messages: 60_000 },
      // One broker restart, on a backlog large enough that it lands mid-drain: the descriptor flow stores the rest of
      // the backlog within a restart's 2.8 s, so a second restart found it drained (40,000 and 150,000 messages).
      kafka: { messages: 150_000, restartsAt: [0.2] },
      postgresStopSeconds: 60,
      terminateBurstMs: 15_000,
    }
  : {
      day: { objects: 4, linesPerObject: 25_000 },
      killDay: { objects: 6, linesPerObject: 40_000 },
      postgresRestartsAt: [0.3],
      s3OutageSeconds: 10,
      temporalRestartsAt: [0.3],
      kills: 2,
      storm: { restarts: Number(process.env['CHAOS_STORM_RESTARTS'] ?? 6), messages: 30_000 },
      // The ingest writes up to 5,000 messages of a partition at once, the four partitions side by side: 60,000 gives
      // each partition three or more writes, so a fault at 30% stored still finds most of the backlog ahead of it
      // (at 20,000 one round of writes could store all of it between two looks).
      kafka: { messages: 60_000, restartsAt: [0.3] },
      postgresStopSeconds: 60,
      terminateBurstMs: 6_000,
    };
const JOB = 'ingest_notification_views'; // the shipped definition: its own retry policies must ride out each fault
const FAST_FAILOVER_JOB = 'test_ingest_fast_failover'; // 5 s heartbeat timeout, so a kill -9 fails over in seconds
const CONSUMER = curatedProgramConsumer.name; // the shipped consumer, on its shipped topic and group
const TOPIC = curatedProgramConsumer.topics[0]!;
const WORKERS = 2;

interface Row {
  scenario: string;
  tries: number;
  died: number;
  lost: number | string;
  duplicated: number | string;
  note: string;
}

/** The workers of one scenario and where their logs stood when it began. */
interface Watch {
  workers: WorkerProcess[];
  marks: number[];
}

describe(`fault suite (${FULL ? 'full' : 'short'} form, seed ${SEED}) on the chaos stack`, { timeout: 2_400_000 }, () => {
  let rt: Runtime;
  let s3: S3Client;
  let kafka: KafkaTools;
  let dataDir: string;
  let workers: WorkerProcess[] = [];
  let partitions = 4;
  let api: ApiProcess;
  const table: Row[] = [];

  before(async () => {
    // Bundle the workflows once; every worker started here loads that file instead of running webpack itself.
    dataDir = mkdtempSync(path.join(tmpdir(), 'chaos-'));
    await bundleWorkflowsForWorkers();
    rt = await openRuntime();
    s3 = createS3Client(rt.env);
    kafka = new KafkaTools(rt.env, 'chaos-test');
    console.log(`chaos stack: ${rt.env.DATABASE_URL.replace(/:[^:@/]*@/, ':***@')}, Temporal ${rt.env.TEMPORAL_ADDRESS}, S3 ${rt.env.S3_ENDPOINT}, Kafka ${rt.env.KAFKA_BROKERS}`);
    // The shipped topic, with the broker's default partitions (as auto-creation would make it) unless it exists.
    await kafka.createTopic(TOPIC, 4);
    partitions = await kafka.partitionCount(TOPIC);
    // The suite's workers: started once, and every scenario but the kill -9 one ends with the same processes.
    workers.push(...(await Promise.all(Array.from({ length: WORKERS }, () => spawnWorker()))));
    // And an API, which must ride out every fault too and say on /readyz what it cannot reach.
    api = await startApi();
  });

  after(async () => {
    const w = [34, 6, 5, 5, 11];
    const line = (c: string[]) => `| ${c.map((x, i) => x.padEnd(w[i] ?? 0)).join(' | ')} |`;
    console.log(`\nfault suite, ${FULL ? 'full' : 'short'} form, seed ${SEED} (died: worker processes that exited; lost and duplicated are counted in the database against the expected outcome)`);
    console.log(line(['scenario', 'tries', 'died', 'lost', 'duplicated']));
    console.log(line(w.map((n) => '-'.repeat(n))));
    for (const r of table) console.log(line([r.scenario, String(r.tries), String(r.died), String(r.lost), String(r.duplicated)]));
    for (const r of table) console.log(`  ${r.scenario}: ${r.note}`);

    await Promise.all([...workers.map((w) => w.stop()), api?.stop()]);
    s3?.destroy();
    await kafka?.close();
    await rt?.close();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  // ---- helpers ----

  /** A service of the chaos stack: restart, stop or start it; returns the seconds it took. */
  const stack = async (cmd: 'restart' | 'stop' | 'start', service: string, env: Record<string, string> = {}): Promise<number> => {
    const t0 = Date.now();
    await run('bash', [path.join(REPO, 'stack', 'stack.sh'), cmd, service], { env: { ...process.env, ...env } });
    return (Date.now() - t0) / 1000;
  };
  /** A read that may fail while a dependency is down: undefined instead of an error. */
  const safe = async <T>(fn: () => Promise<T>): Promise<T | undefined> => {
    try {
      return await fn();
    } catch {
      return undefined;
    }
  };
  const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

  const spawnWorker = (env: Record<string, string> = {}) => startWorker(env);

  const watch = (): Watch => ({ workers: [...workers], marks: workers.map((w) => w.mark()) });
  const logOf = (wt: Watch) => wt.workers.map((w, i) => w.outputSince(wt.marks[i]!)).join('\n');
  const dead = (wt: Watch) => wt.workers.filter((w) => !w.alive());
  /** Every worker of the scenario is still the process it was: none exited, none was replaced. */
  const assertSameWorkers = (wt: Watch) => {
    for (const w of dead(wt)) {
      assert.fail(`worker ${w.pid} died (${w.child.exitCode ?? w.child.signalCode}); nothing restarts it:\n${w.output().slice(-3000)}`);
    }
    for (const w of wt.workers) process.kill(w.pid, 0); // throws if that pid is gone
    assert.ok(api.child.exitCode === null && api.child.signalCode === null, `the API died (${api.child.exitCode ?? api.child.signalCode}):\n${api.output().slice(-3000)}`);
  };
  const readyz = async () => {
    const res = await fetch(`${api.base}/readyz`);
    return { status: res.status, body: (await res.json()) as { ready: boolean; unreachable?: Record<string, string> } };
  };

  /** What the workers themselves logged about the fault during a scenario (never what the test injected). */
  const evidenceIn = (log: string) => ({
    postgresOutages: (log.match(/"dependency":"postgres"[^\n]*"msg":"(postgres unreachable|waiting for postgres)/g) ?? []).length,
    temporalOutages: (log.match(/"dependency":"temporal"[^\n]*"msg":"(temporal unreachable|waiting for temporal)/g) ?? []).length,
    recovered: (log.match(/"msg":"(postgres|temporal) reachable again"/g) ?? []).length,
    longestOutageMs: Math.max(0, ...[...log.matchAll(/"downMs":(\d+)/g)].map((m) => Number(m[1]))),
    failedActivities: (log.match(/Activity failed/g) ?? []).length,
    // The consumer logs each failed pass over its partitions with the Kafka client's error.
    kafkaErrors: (log.match(/"msg":"describing failed; retrying"/g) ?? []).length,
    registryOutages: (log.match(/"dependency":"schema-registry"[^\n]*"msg":"schema registry at [^"]* unavailable/g) ?? []).length,
    registryRecovered: (log.match(/"msg":"schema-registry reachable again"/g) ?? []).length,
  });
  type Evidence = ReturnType<typeof evidenceIn> & { historyRetries: number; retryReasons: string[] };
  const describeEvidence = (e: Evidence) =>
    `felt: ${e.postgresOutages} postgres and ${e.temporalOutages} temporal outage lines, ${e.recovered} recoveries (longest ${(e.longestOutageMs / 1000).toFixed(1)} s), ` +
    `${e.failedActivities} failed activity attempts logged, ${e.historyRetries} activity retries or workflow task timeouts in history${e.retryReasons.length ? ` (${e.retryReasons.slice(0, 2).join(' | ')})` : ''}, ${e.kafkaErrors} Kafka error lines, ${e.registryOutages} schema-registry outage lines and ${e.registryRecovered} recoveries`;

  /**
   * What the Temporal history of a run and its child workflows (every run of each) says went wrong: activity attempts
   * after the first (each says an earlier one failed or timed out; lastFailure says why) and workflow tasks that
   * timed out or failed (a worker gone mid-task).
   */
  const historyRetries = async (workflowId: string, depth = 0): Promise<{ retries: number; reasons: string[] }> => {
    let retries = 0;
    const reasons: string[] = [];
    for await (const wf of rt.temporal.workflow.list({ query: `WorkflowId = "${workflowId}"` })) {
      const history = await rt.temporal.workflow.getHandle(workflowId, wf.runId).fetchHistory();
      for (const ev of history.events ?? []) {
        const started = ev.activityTaskStartedEventAttributes;
        if (started && (started.attempt ?? 1) > 1) {
          retries += started.attempt! - 1;
          if (started.lastFailure?.message) reasons.push(started.lastFailure.message.slice(0, 120));
        }
        if (ev.workflowTaskTimedOutEventAttributes || ev.workflowTaskFailedEventAttributes) {
          retries++;
          reasons.push(ev.workflowTaskTimedOutEventAttributes ? 'workflow task timed out' : 'workflow task failed');
        }
        const child = ev.childWorkflowExecutionStartedEventAttributes?.workflowExecution?.workflowId;
        if (child && depth < 3) {
          const c = await historyRetries(child, depth + 1);
          retries += c.retries;
          reasons.push(...c.reasons);
        }
      }
    }
    return { retries, reasons };
  };

  /** A generated day in S3, and the generator's own expected-<day>.json read back from disk. */
  const prepareDay = async (seed: number, size: { objects: number; linesPerObject: number }): Promise<{ day: string; expected: ExpectedOutcome }> => {
    const day = freshDay();
    const out = mkdtempSync(path.join(dataDir, `day-${day}-`));
    const g = await generateDay({ day, ...size, gzipFraction: 0.25, seed, out });
    await uploadGeneratedFiles(s3, rt.env.S3_BUCKET, g.files);
    const expected = JSON.parse(readFileSync(g.expectedPath!, 'utf8')) as ExpectedOutcome;
    return { day, expected };
  };

  /** Committed progress of a day (the checkpoints): lines read so far. */
  const linesDone = async (day: string) =>
    Number(((await rt.ds.query(`SELECT coalesce(sum(lines_read), 0) AS n FROM ingest_objects WHERE day = $1`, [day])) as { n: string }[])[0]!.n);

  /** Waits until `share` of the day's lines are committed; fails if the run ended first (the fault would miss). */
  const atProgress = async (day: string, expected: ExpectedOutcome, share: number, wt?: Watch): Promise<number> => {
    const at = Math.floor(share * expected.lines);
    const done = await eventually(`${Math.round(share * 100)}% of ${day} ingested`, async () => {
      if (wt) assertSameWorkers(wt); // a dead worker fails now, not at the end of a long wait
      const n = await safe(() => linesDone(day));
      return n !== undefined && n >= at ? n : undefined;
    }, 300_000, 50);
    assert.ok(done < expected.lines, `the fault must land mid-ingest, but all ${expected.lines} lines were already read: use a bigger day`);
    return done;
  };

  /** Lost and duplicated rows and rejects of a day, counted in the database against the expected outcome. */
  const countDay = async (day: string, expected: ExpectedOutcome, query = (sql: string, p: unknown[]) => rt.ds.query(sql, p)) => {
    const perNotification = (await query(
      `SELECT notification_id AS id, count(*)::int AS n FROM notification_views WHERE day = $1 GROUP BY 1`,
      [day],
    )) as { id: string; n: number }[];
    const actual = new Map(perNotification.map((r) => [r.id, r.n]));
    let lost = 0;
    let duplicated = 0;
    for (const [id, n] of Object.entries(expected.perNotification)) lost += Math.max(0, n - (actual.get(id) ?? 0));
    for (const [id, n] of actual) duplicated += Math.max(0, n - (expected.perNotification[id] ?? 0));
    const rejects = (await query(
      `SELECT object_key AS key, line_number::bigint::text AS line, count(*)::int AS n FROM ingest_rejects WHERE day = $1 GROUP BY 1, 2`,
      [day],
    )) as { key: string; line: string; n: number }[];
    const got = new Map(rejects.map((r) => [`${r.key}:${r.line}`, r.n]));
    const want = new Set(Object.entries(expected.rejectsByKey).flatMap(([k, lines]) => lines.map((l) => `${k}:${l}`)));
    for (const k of want) if (!got.has(k)) lost++;
    for (const [k, n] of got) duplicated += want.has(k) ? n - 1 : n;
    return { lost, duplicated, views: [...actual.values()].reduce((a, b) => a + b, 0), rejects: rejects.length };
  };

  /** job_runs of one trigger: one row per attempt of its chain, the last succeeded with the clean run's metrics. */
  const assertRunLog = async (job: string, day: string, firstRunId: string, expected: ExpectedOutcome) => {
    const rows = (await rt.ds.query(
      `SELECT run_id, first_run_id, attempt, status, error, metrics, finished_at FROM job_runs WHERE workflow_id = $1 ORDER BY attempt, started_at`,
      [`${job}/${day}`],
    )) as { run_id: string; first_run_id: string; attempt: number; status: string; error: string | null; metrics: Record<string, number>; finished_at: Date | null }[];
    assert.ok(rows.length >= 1, 'a job_runs row');
    assert.deepEqual(rows.map((r) => r.first_run_id), rows.map(() => firstRunId), 'every row belongs to the one chain the trigger started');
    assert.deepEqual(rows.map((r) => r.attempt), rows.map((_, i) => i + 1), 'one row per attempt, numbered 1..n');
    assert.equal(new Set(rows.map((r) => r.run_id)).size, rows.length, 'one run per attempt');
    for (const r of rows.slice(0, -1)) {
      assert.ok(['failed', 'timed_out'].includes(r.status) && r.error && r.finished_at, `attempt ${r.attempt} was retried, so its row says why: ${r.status} ${r.error}`);
    }
    const last = rows.at(-1)!;
    assert.equal(last.status, 'succeeded', last.error ?? '');
    assert.ok(last.finished_at, 'the succeeded row is closed');
    const m = last.metrics;
    assert.deepEqual(
      { objects: m['objects'], linesRead: m['linesRead'], rowsWritten: m['rowsWritten'], duplicates: m['duplicates'], skipped: m['skipped'], rejected: m['rejected'], blank: m['blank'], bytesRead: m['bytesRead'] },
      { objects: expected.objects, linesRead: expected.lines, rowsWritten: expected.views, duplicates: expected.duplicates, skipped: expected.skipped, rejected: expected.rejected, blank: expected.blank, bytesRead: expected.bytes },
      'metrics of the run equal the clean run\'s',
    );
    assert.ok((m['durationMs'] ?? 0) > 0);
    return rows;
  };

  /** An ingest in flight: its day, what one clean run leaves, and the trigger's first run. */
  interface Ingest {
    job: string;
    day: string;
    expected: ExpectedOutcome;
    runId: string;
    /** The `scheduled-job trigger --wait` process, when the run was started by the CLI: its exit code and output. */
    cli?: Promise<{ code: number | null; out: string }>;
  }
  /** `scheduled-job trigger <job> --args ... --wait`, as a user runs it: resolves the runId it prints, and its end. */
  const triggerByCli = (job: string, args: Record<string, unknown>) => {
    const child = spawn(path.join(REPO, 'bin', 'scheduled-job'), ['trigger', job, '--args', JSON.stringify(args), '--wait'], {
      cwd: REPO,
      env: { ...process.env, LOG_LEVEL: 'info' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    const collect = (d: Buffer) => (out = (out + d.toString()).slice(-200_000));
    child.stdout!.on('data', collect);
    child.stderr!.on('data', collect);
    const ended = new Promise<{ code: number | null; out: string }>((r) => child.once('exit', (code) => r({ code, out })));
    const runId = eventually('the CLI to print its runId', async () => {
      if (child.exitCode !== null) throw new Error(`trigger exited with ${child.exitCode}:\n${out.slice(-3000)}`);
      return /"runId":"([^"]+)"/.exec(out)?.[1];
    }, 120_000, 100);
    return { runId, ended };
  };
  const startIngest = async (opts: { job: string; seed: number; parallelism?: number; size?: { objects: number; linesPerObject: number }; viaCli?: boolean }): Promise<Ingest> => {
    const { day, expected } = await prepareDay(opts.seed, opts.size ?? MODE.day);
    const args = { day, parallelism: opts.parallelism ?? 2 };
    if (opts.viaCli) {
      const cli = triggerByCli(opts.job, args);
      return { job: opts.job, day, expected, runId: await cli.runId, cli: cli.ended };
    }
    const started = await rt.client.trigger(opts.job, args);
    return { job: opts.job, day, expected, runId: started.runId };
  };
  /** Waits for the run's end, then checks rows, rejects and job_runs; the counts go to the table either way. */
  const finishIngest = async (ing: Ingest, wt: Watch) => {
    const view = await eventually(`${ing.job}/${ing.day} to finish`, async () => {
      assertSameWorkers(wt);
      const v = await safe(() => rt.client.status(ing.job, ing.runId));
      return v && v.status !== 'running' ? v : undefined;
    }, 600_000, 500);
    assert.equal(view.status, 'succeeded', view.error ?? '');
    if (ing.cli) {
      // The waiting CLI rode out the fault too, and reports the run's success.
      const cli = await ing.cli;
      assert.equal(cli.code, 0, `scheduled-job trigger --wait exited with ${cli.code}:\n${cli.out.slice(-3000)}`);
      assert.match(cli.out, /succeeded/);
    }
    const counted = await countDay(ing.day, ing.expected);
    const runs = await assertRunLog(ing.job, ing.day, ing.runId, ing.expected);
    const h = await historyRetries(`${ing.job}/${ing.day}`);
    return { counted, runs, history: h, note: `${runs.length} job attempt(s); ${counted.views} views, ${counted.rejects} rejects (expected ${ing.expected.views}, ${ing.expected.rejected})` };
  };

  /**
   * A Kafka backlog on the shipped topic: the offsets it starts at, so counts see this backlog only. `expected` and
   * `total` are known once production has finished; `produced` settles then.
   */
  interface Backlog {
    from: Map<number, string>;
    prefix: string;
    messages: number;
    produced: Promise<ProduceResult>;
    expected?: ProduceResult;
    total?: number;
  }
  /** Starts producing; the shipped consumer drains while it runs, so a drain fault can land before production ends. */
  const startBacklog = async (seed: number, messages: number, more: Partial<ProduceOptions> = {}): Promise<Backlog> => {
    const from = new Map((await kafka.highWatermarks(TOPIC)).map((high, partition) => [partition, high.toString()]));
    const prefix = uniqueTag(`chaos${seed}`);
    const b: Backlog = {
      from,
      prefix,
      messages,
      produced: produceCuratedEvents({ kafka, topic: TOPIC, count: messages, partitions, seed, prefix, wireFormat: curatedProgramConsumer.wireFormat, ...more }),
    };
    b.produced.then(
      (expected) => Object.assign(b, { expected, total: expected.distinctValid + expected.garbage }),
      () => undefined, // awaited by produced()
    );
    return b;
  };
  const produced = async (b: Backlog): Promise<Required<Backlog>> => {
    await b.produced;
    return b as Required<Backlog>;
  };
  const countBacklog = async (b: Backlog) => {
    const range = [...b.from].map(([p, o]) => `(kafka_partition = ${p} AND kafka_offset >= ${BigInt(o)})`).join(' OR ');
    return ((await rt.ds.query(
      `SELECT (SELECT count(*) FROM curated_program_events WHERE topic = $1 AND (${range}))::int AS rows,
              (SELECT count(*) FROM curated_program_events WHERE event_id LIKE $3 || '-%')::int AS ours,
              (SELECT count(*) FROM kafka_dead_letters WHERE consumer = $2 AND topic = $1 AND (${range}))::int AS dead,
              (SELECT count(DISTINCT (kafka_partition, kafka_offset)) FROM kafka_dead_letters WHERE consumer = $2 AND topic = $1 AND (${range}))::int AS "deadDistinct"`,
      [TOPIC, CONSUMER, b.prefix],
    )) as { rows: number; ours: number; dead: number; deadDistinct: number }[])[0]!;
  };
  const consumerStatus = () => rt.temporal.workflow.getHandle(consumerWorkflowId(CONSUMER)).query(consumerStatusQuery);
  /**
   * Waits until `share` of the backlog's messages are stored (rows + dead letters; repeats store nothing, so the
   * share is of what the drain can reach). Fails if the drain had ended first: the fault would miss it.
   */
  const atDrained = async (b: Backlog, share: number, wt: Watch) => {
    const stored = await eventually(`${Math.round(share * 100)}% of the backlog stored`, async () => {
      assertSameWorkers(wt);
      const x = await safe(() => countBacklog(b));
      const reach = b.total ?? b.messages;
      return x && x.rows + x.dead >= reach * share ? x.rows + x.dead : undefined;
    }, 300_000, 50);
    assert.ok(b.total === undefined || stored < b.total, `the fault must land mid-drain, but all ${b.total} messages were already stored: use a bigger backlog`);
    return stored;
  };
  /** Waits for the backlog to be drained (lag 0), then checks exactly the distinct events and the dead letters. */
  const finishBacklog = async (live: Backlog, wt: Watch) => {
    const b = await produced(live);
    const { expected } = b;
    await eventually(`${expected.distinctValid} rows and ${expected.garbage} dead letters with lag 0`, async () => {
      assertSameWorkers(wt);
      const x = await safe(() => countBacklog(b));
      if (!x || x.rows < expected.distinctValid || x.dead < expected.garbage) return undefined;
      if (x.rows > expected.distinctValid || x.dead > expected.garbage) return true; // too many: counted below
      const st = await safe(consumerStatus);
      return st && st.lag === 0 && st.partitions.length === partitions ? true : undefined;
    }, 600_000, 500);
    await sleep(2000); // a late duplicate write would show up now
    const c = await countBacklog(b);
    const st = await consumerStatus();
    const lost = Math.max(0, expected.distinctValid - c.ours) + Math.max(0, expected.garbage - c.deadDistinct);
    const duplicated = Math.max(0, c.rows - expected.distinctValid) + (c.dead - c.deadDistinct) + Math.max(0, c.deadDistinct - expected.garbage);
    const check = () => {
      assert.equal(c.ours, expected.distinctValid, 'lost events');
      assert.equal(c.rows, expected.distinctValid, 'duplicated or foreign events');
      assert.equal(c.dead, expected.garbage, 'dead letters');
      assert.equal(c.deadDistinct, c.dead, 'no dead letter twice');
      assert.equal(st.lag, 0, 'lag back to 0');
      for (const p of st.partitions) assert.equal(p.committed, p.high, `partition ${p.partition} committed to its end`);
    };
    return { lost, duplicated, check, note: `${expected.messages} messages (${expected.distinctValid} distinct valid, ${expected.repeats} repeats, ${expected.garbage} garbage): ${c.rows} rows, ${c.dead} dead letters, lag ${st.lag}` };
  };

  /**
   * One scenario: `body` injects the fault (recording each in `faults`) and returns the checks of what it ran;
   * afterwards every worker of the scenario must be the same process, and `felt` must find the fault in the
   * product's own records. The row goes to the table whether it passed or not.
   */
  const scenario = async (
    name: string,
    body: (wt: Watch, faults: string[]) => Promise<{ lost: number; duplicated: number; note: string; history?: { retries: number; reasons: string[] }; check?: () => void }>,
    felt: (e: Evidence) => boolean,
    opts: { workers?: () => Watch } = {},
  ) => {
    const wt = watch();
    const faults: string[] = [];
    const t0 = Date.now();
    let row: Row = { scenario: name, tries: 0, died: 0, lost: '?', duplicated: '?', note: '' };
    try {
      const out = await body(wt, faults);
      const end = opts.workers?.() ?? wt;
      const evidence = (): Evidence => ({ ...evidenceIn(logOf(end)), historyRetries: out.history?.retries ?? 0, retryReasons: out.history?.reasons ?? [] });
      // A short run can end before the processes log their recovery (the Temporal client reconnects with backoff),
      // so the records get a bounded while to show the fault; the data checks above do not wait for them.
      const deadline = Date.now() + 30_000;
      let e = evidence();
      while (!felt(e) && Date.now() < deadline) {
        await sleep(500);
        e = evidence();
      }
      row = { ...row, lost: out.lost, duplicated: out.duplicated, note: `${faults.join(', ')}; ${out.note}; ${describeEvidence(e)}; ${((Date.now() - t0) / 1000).toFixed(1)} s` };
      assertSameWorkers(end);
      out.check?.();
      assert.equal(out.lost, 0, 'lost rows, rejects or events');
      assert.equal(out.duplicated, 0, 'duplicated rows, rejects or events');
      assert.ok(felt(e), `the fault was not felt, by the product's own records: ${describeEvidence(e)}`);
    } finally {
      row.tries = faults.length;
      row.died = dead(opts.workers?.() ?? wt).length;
      if (!row.note) row.note = `did not finish: ${faults.join(', ')}`;
      table.push(row);
    }
  };

  /** Backend pids of every Postgres connection the process `pid` holds (found by its sockets' ports). */
  const pgBackendsOf = async (su: PgClient, pid: number): Promise<number[]> => {
    const port = new URL(rt.env.DATABASE_URL).port;
    const { stdout } = await run('ss', ['-Htnp', 'state', 'established', `( dport = :${port} )`]);
    const ports = stdout
      .split('\n')
      .filter((l) => l.includes(`pid=${pid},`))
      .map((l) => Number(/:(\d+)\s+\S+:\d+\s/.exec(l)?.[1]))
      .filter((p) => p > 0);
    if (ports.length === 0) return [];
    const res = await su.query(`SELECT pid FROM pg_stat_activity WHERE client_port = ANY($1::int[])`, [ports]);
    return (res.rows as { pid: number }[]).map((r) => r.pid);
  };

  /** Those of `ws` with an open connection to the S3 server (the ingest streams each object over one). */
  const withS3Connections = async (ws: WorkerProcess[]): Promise<WorkerProcess[]> => {
    const port = new URL(rt.env.S3_ENDPOINT).port;
    const { stdout } = await run('ss', ['-Htnp', 'state', 'established', `( dport = :${port} )`]);
    return ws.filter((w) => stdout.includes(`pid=${w.pid},`));
  };

  let lastDay: { day: string; expected: ExpectedOutcome } | undefined;
  const ingestScenario = (
    name: string,
    opts: { job: string; seed: number; size?: { objects: number; linesPerObject: number }; viaCli?: boolean },
    inject: (ing: Ingest, wt: Watch, faults: string[]) => Promise<void>,
    felt: (e: Evidence) => boolean,
    extra: { backlog?: number; workers?: () => Watch } = {},
  ) =>
    scenario(
      name,
      async (wt, faults) => {
        const backlog = extra.backlog ? await produced(await startBacklog(opts.seed, extra.backlog)) : undefined;
        const ing = await startIngest(opts);
        await inject(ing, wt, faults);
        const done = await finishIngest(ing, extra.workers?.() ?? wt);
        lastDay = { day: ing.day, expected: ing.expected };
        const k = backlog ? await finishBacklog(backlog, extra.workers?.() ?? wt) : undefined;
        return {
          lost: done.counted.lost + (k?.lost ?? 0),
          duplicated: done.counted.duplicated + (k?.duplicated ?? 0),
          note: `${done.note}${k ? `; kafka: ${k.note}` : ''}`,
          history: done.history,
          ...(k ? { check: k.check } : {}),
        };
      },
      felt,
      extra.workers ? { workers: extra.workers } : {},
    );
  const drainScenario = (
    name: string,
    opts: { seed: number; messages?: number; produce?: Partial<ProduceOptions> },
    inject: (b: Backlog, wt: Watch, faults: string[]) => Promise<void>,
    felt: (e: Evidence) => boolean,
  ) =>
    scenario(
      name,
      async (wt, faults) => {
        const b = await startBacklog(opts.seed, opts.messages ?? MODE.kafka.messages, opts.produce);
        await inject(b, wt, faults);
        const k = await finishBacklog(b, wt);
        return { lost: k.lost, duplicated: k.duplicated, note: k.note, check: k.check };
      },
      felt,
    );

  /** The fault of an ingest scenario: `service` restarted at each share of the day's lines. */
  const restartsAt = (service: string, shares: number[]) => async (ing: Ingest, wt: Watch, faults: string[]) => {
    for (const share of shares) {
      const at = await atProgress(ing.day, ing.expected, share, wt);
      faults.push(`restart at ${at}/${ing.expected.lines} lines took ${(await stack('restart', service)).toFixed(1)} s`);
    }
  };

  /** The fault of a drain scenario: `service` restarted at each share of the backlog stored. */
  const restartsMidDrain = (service: string, shares: number[]) => async (b: Backlog, wt: Watch, faults: string[]) => {
    // The test's producer is not what is under test and does not ride out a broker restart: it finishes first (the
    // backlog is large enough that the drain is still under way; atDrained checks).
    if (service === 'kafka') await b.produced;
    for (const share of shares) {
      const stored = await atDrained(b, share, wt);
      faults.push(`restart at ${stored}/${b.total ?? `${b.messages} (producing)`} stored took ${(await stack('restart', service)).toFixed(1)} s`);
    }
  };

  // ---- scenarios ----

  test(`1. ${MODE.storm.restarts} Postgres restarts in quick succession while connections churn (a worker starting, the shipped consumer draining, an ingest running, its trigger --wait waiting)`, async () => {
    let fresh: WorkerProcess | undefined;
    const all = (): Watch => ({ workers: fresh ? [...workers, fresh] : workers, marks: fresh ? [...watchAtStart.marks, 0] : watchAtStart.marks });
    const watchAtStart = watch();
    await ingestScenario(
      `postgres restarts x${MODE.storm.restarts} (churn)`,
      { job: JOB, seed: 100, size: MODE.killDay, viaCli: true },
      async (ing, wt, faults) => {
        await atProgress(ing.day, ing.expected, 0.05, wt);
        // A fresh worker opens its pools, migrates and starts its consumer while the restarts land.
        const starting = spawnWorker();
        const rng = new Rng(SEED + 100);
        for (let i = 0; i < MODE.storm.restarts; i++) {
          faults.push(`restart ${(await stack('restart', 'postgres')).toFixed(1)} s`);
          await sleep(rng.int(800)); // short gaps: each restart lands while the last one's reconnections open
        }
        fresh = await starting; // rejects if it exited before it was ready
        workers.push(fresh);
      },
      (e) => e.postgresOutages > 0 && e.recovered > 0 && (e.historyRetries > 0 || e.failedActivities > 0),
      { backlog: MODE.storm.messages, workers: all },
    );
  });

  test('2. Postgres restarts mid-ingest: the same rows, rejects and metrics as a clean run', async () => {
    await ingestScenario('postgres restart', { job: JOB, seed: 101 }, restartsAt('postgres', MODE.postgresRestartsAt), (e) => e.postgresOutages > 0 && e.historyRetries > 0);
  });

  test('the lost/duplicated count sees one lost view, one lost reject and one extra view (the check can fail)', async () => {
    assert.ok(lastDay, 'runs after a scenario');
    const { day, expected } = lastDay;
    const qr = rt.ds.createQueryRunner();
    await qr.connect();
    try {
      await qr.startTransaction();
      const q = (sql: string, p: unknown[]) => qr.query(sql, p);
      assert.deepEqual(await countDay(day, expected, q).then(({ lost, duplicated }) => ({ lost, duplicated })), { lost: 0, duplicated: 0 });
      await q(`DELETE FROM notification_views WHERE event_id = (SELECT event_id FROM notification_views WHERE day = $1 LIMIT 1)`, [day]);
      await q(`DELETE FROM ingest_rejects WHERE id = (SELECT id FROM ingest_rejects WHERE day = $1 LIMIT 1)`, [day]);
      await q(
        `INSERT INTO notification_views (event_id, notification_id, user_id, platform, viewed_at, day) VALUES (gen_random_uuid(), 'chaos-extra', 'u', 'web', now(), $1)`,
        [day],
      );
      const c = await countDay(day, expected, q);
      assert.deepEqual({ lost: c.lost, duplicated: c.duplicated }, { lost: 2, duplicated: 1 });
    } finally {
      await qr.rollbackTransaction().catch(() => undefined);
      await qr.release();
    }
  });

  test('3. pg_terminate_backend of every connection of every worker mid-ingest', async () => {
    const su = new PgClient({ connectionString: rt.env.DATABASE_URL.replace(/\/\/[^@]*@/, '//postgres@') });
    su.on('error', () => undefined); // its queries reject with the same error
    await su.connect();
    try {
      await ingestScenario(
        'pg_terminate_backend (all)',
        { job: JOB, seed: 106, size: MODE.killDay },
        async (ing, wt, faults) => {
          // Bursts: every connection of every worker, again every ~100 ms, so the pools reopen connections that are
          // ended moments after their start-up, the timing a failover or a restart storm produces.
          for (const share of [0.2, 0.5]) {
            const at = await atProgress(ing.day, ing.expected, share, wt);
            const until = Date.now() + MODE.terminateBurstMs;
            let n = 0;
            let rounds = 0;
            while (Date.now() < until) {
              for (const w of wt.workers) {
                const pids = await pgBackendsOf(su, w.pid);
                if (pids.length) n += ((await su.query(`SELECT count(*) FILTER (WHERE pg_terminate_backend(pid))::int AS n FROM unnest($1::int[]) AS pid`, [pids])).rows[0] as { n: number }).n;
              }
              rounds++;
              await sleep(100);
            }
            faults.push(`${n} backends terminated in ${rounds} rounds from ${at}/${ing.expected.lines} lines`);
          }
        },
        (e) => e.postgresOutages > 0 && (e.historyRetries > 0 || e.failedActivities > 0),
      );
    } finally {
      await su.end().catch(() => undefined);
    }
  });

  test(`4. the S3 server stops mid-object for ${MODE.s3OutageSeconds} s while the consumer drains: the same rows, rejects, metrics and events`, async () => {
    await ingestScenario(
      `s3 down ${MODE.s3OutageSeconds} s (consumer running)`,
      { job: JOB, seed: 102 },
      async (ing, wt, faults) => {
        const at = await atProgress(ing.day, ing.expected, 0.3, wt);
        // Objects being streamed right now (a checkpoint past line 0, not done): the outage cuts them mid-object.
        const open = (await rt.ds.query(`SELECT count(*)::int AS n FROM ingest_objects WHERE day = $1 AND line_number > 0 AND NOT done`, [ing.day])) as { n: number }[];
        const down = Date.now();
        // SIGKILL right after SIGTERM (no grace time): versitygw would otherwise drain open GETs for about 10 s
        // before closing them, and the objects being read must be cut mid-stream, as in a crash.
        await stack('stop', 's3', { SCHEDULED_JOB_STOP_TIMEOUT: '0' });
        try {
          faults.push(`stopped at ${at}/${ing.expected.lines} lines with ${open[0]!.n} object(s) mid-stream`);
          await sleep(Math.max(0, MODE.s3OutageSeconds * 1000 - (Date.now() - down)));
        } finally {
          await stack('start', 's3');
        }
        faults[0] += `, down for ${((Date.now() - down) / 1000).toFixed(1)} s`;
      },
      (e) => e.historyRetries > 0 && e.retryReasons.length > 0,
      { backlog: MODE.kafka.messages },
    );
  });

  test('5. the Temporal server restarts mid-ingest: the same rows, rejects and metrics', async () => {
    await ingestScenario('temporal restart', { job: JOB, seed: 104 }, restartsAt('temporal', MODE.temporalRestartsAt), (e) => e.temporalOutages > 0 && e.recovered > 0);
  });

  test('6. the Kafka broker restarts mid-drain: exactly the distinct events and the dead letters, lag back to 0', async () => {
    await drainScenario('kafka restart (drain)', { seed: 103 }, restartsMidDrain('kafka', MODE.kafka.restartsAt), (e) => e.kafkaErrors > 0 || e.failedActivities > 0);
  });

  test('7. Postgres restarts mid-drain: exactly the distinct events and the dead letters', async () => {
    await drainScenario('postgres restart (drain)', { seed: 107 }, restartsMidDrain('postgres', [0.3]), (e) => e.postgresOutages > 0 && e.recovered > 0);
  });

  test(`8. Postgres stops for ${MODE.postgresStopSeconds} s mid-drain: exactly the distinct events and the dead letters`, async () => {
    await drainScenario(
      `postgres down ${MODE.postgresStopSeconds} s (drain)`,
      { seed: 108 },
      async (b, wt, faults) => {
        const stored = await atDrained(b, 0.3, wt);
        assert.equal((await readyz()).status, 200, 'the API is ready before the outage');
        const down = Date.now();
        await stack('stop', 'postgres');
        let notReady: Awaited<ReturnType<typeof readyz>> | undefined;
        let outageAnswers: { trigger: number; status: number; seconds: number; message: string } | undefined;
        try {
          await sleep(5_000);
          // Liveness stays up (nothing should restart the API); readiness names what it cannot reach.
          assert.equal((await fetch(`${api.base}/healthz`)).status, 200, '/healthz stays 200 while Postgres is down');
          notReady = await readyz();
          // A trigger and a status read are answered at once with a 503 naming Postgres, never a 500 or a hang.
          const auth = { authorization: `Bearer ${process.env['API_TOKEN']}`, 'content-type': 'application/json' };
          const t0 = Date.now();
          const trigger = await fetch(`${api.base}/jobs/example_flaky/runs`, {
            method: 'POST',
            headers: auth,
            body: JSON.stringify({ args: { failAttempts: 0, tag: uniqueTag('outage') } }),
            signal: AbortSignal.timeout(10_000),
          });
          const status = await fetch(`${api.base}/jobs/example_flaky/runs/no-such-run`, { headers: auth, signal: AbortSignal.timeout(10_000) });
          outageAnswers = { trigger: trigger.status, status: status.status, seconds: (Date.now() - t0) / 1000, message: ((await trigger.json()) as { message: string }).message };
          await sleep(Math.max(0, MODE.postgresStopSeconds * 1000 - (Date.now() - down)));
          assertSameWorkers(wt);
        } finally {
          await stack('start', 'postgres');
        }
        faults.push(`stopped at ${stored}/${b.total ?? `${b.messages} (producing)`} stored, down for ${((Date.now() - down) / 1000).toFixed(1)} s`);
        assert.equal(notReady?.status, 503, `/readyz during the outage: ${JSON.stringify(notReady)}`);
        assert.deepEqual(Object.keys(notReady.body.unreachable ?? {}), ['postgres'], 'it names Postgres, and only Postgres');
        assert.deepEqual([outageAnswers?.trigger, outageAnswers?.status], [503, 503], `a trigger and a status read during the outage: ${JSON.stringify(outageAnswers)}`);
        assert.match(outageAnswers!.message, /^postgres is unreachable/);
        const ready = await eventually('/readyz 200 again', async () => {
          const r = await safe(readyz);
          return r?.status === 200 ? r : undefined;
        }, 60_000, 500);
        faults[faults.length - 1] += ` (/readyz ${notReady.status} ${JSON.stringify(notReady.body.unreachable)} during it, ${ready.status} after)`;
      },
      // The workers' probes saw the outage last most of the minute, and said so about once each, not once per retry.
      (e) => e.postgresOutages >= 1 && e.postgresOutages <= 2 * workers.length && e.longestOutageMs >= (MODE.postgresStopSeconds - 10) * 1000,
    );
  });

  test('9. the Temporal server restarts mid-drain: exactly the distinct events and the dead letters', async () => {
    await drainScenario('temporal restart (drain)', { seed: 109 }, restartsMidDrain('temporal', [0.3]), (e) => e.temporalOutages > 0 && e.recovered > 0);
  });

  test('9b. the schema registry stops for 30 s mid-drain (schema versions and unknown ids keep needing it): no dead letter from it, the same final result, and status names the registry meanwhile', async () => {
    await drainScenario(
      'registry down 30 s (drain)',
      // Every chunk carries ids no worker has cached (unknown ids are fresh per message), so the outage is met at once.
      { seed: 111, produce: { versions: ['v1', 'v2', 'v3'], unknownIdShare: 0.01 } },
      async (b, wt, faults) => {
        const stored = await atDrained(b, 0.3, wt);
        const down = Date.now();
        await stack('stop', 'registry');
        let named: string | undefined;
        let stoppedFor = 0;
        let startSeconds = 0;
        try {
          named = await eventually('the consumer\'s status to name the registry', async () => {
            const w = (await safe(consumerStatus))?.waiting ?? [];
            return w.find((x) => /^schema registry at \S+ unavailable: /.test(x.reason))?.reason;
          }, 25_000, 250);
          // Nothing is dead-lettered while it is away: the partitions wait.
          const during = await countBacklog(b);
          await sleep(Math.max(0, 30_000 - (Date.now() - down)));
          const after = await countBacklog(b);
          assert.equal(after.dead, during.dead, 'no dead letter while the registry is down');
          assertSameWorkers(wt);
        } finally {
          stoppedFor = (Date.now() - down) / 1000;
          startSeconds = await stack('start', 'registry');
        }
        faults.push(
          `stopped at ${stored}/${b.total ?? `${b.messages} (producing)`} stored for ${stoppedFor.toFixed(1)} s, then ${startSeconds.toFixed(1)} s to start and answer; status said: ${named?.slice(0, 120)}`,
        );
        await eventually('the wait to end in the status', async () => ((await safe(consumerStatus))?.waiting.length === 0 ? {} : undefined), 120_000, 500);
        const reasons = (await rt.ds.query(`SELECT DISTINCT reason FROM kafka_dead_letters WHERE consumer = $1 AND reason LIKE '%unavailable%'`, [CONSUMER])) as object[];
        assert.deepEqual(reasons, [], 'no dead letter names the outage');
      },
      (e) => e.registryOutages >= 1 && e.registryRecovered >= 1,
    );
  });

  // Last: the only scenario whose fault kills workers (their replacements start as an orchestrator's would).
  test(`10. kill -9 of a worker ${MODE.kills} times at seeded random moments: the same rows, rejects and metrics`, async () => {
    const rng = new Rng(SEED);
    // Kill points by progress (share of the day's lines), so they land mid-day however fast this machine ingests.
    const shares = Array.from({ length: MODE.kills }, () => 0.05 + rng.next() * 0.6).sort((a, b) => a - b);
    console.log(`kill points (shares of the day's lines): ${shares.map((s) => s.toFixed(3)).join(', ')}`);
    const starting: Promise<void>[] = [];
    const killed = new Set<WorkerProcess>();
    const marks = new Map(workers.map((w) => [w, w.mark()])); // a replacement's whole log is this scenario's
    const survivors = (): Watch => {
      const ws = workers.filter((w) => !killed.has(w));
      return { workers: ws, marks: ws.map((w) => marks.get(w) ?? 0) };
    };
    await ingestScenario(
      'kill -9 worker',
      { job: FAST_FAILOVER_JOB, seed: 105, size: MODE.killDay },
      async (ing, _wt, faults) => {
        for (const share of shares) {
          const at = await atProgress(ing.day, ing.expected, share, survivors());
          await sleep(rng.int(500));
          // Any worker that is up, chosen by the seeded PRNG; its replacement starts in the background, as an
          // orchestrator's would, so the next kill point is not held back by a start-up.
          // Preferably one reading an object from S3 right now, so the kill lands on work in flight.
          const up = survivors().workers;
          const busy = await withS3Connections(up);
          const pool = busy.length > 0 ? busy : up;
          const victim = pool[rng.int(pool.length)]!;
          killed.add(victim);
          await victim.kill9();
          faults.push(`pid ${victim.pid} at ${at}/${ing.expected.lines} lines`);
          starting.push(spawnWorker().then((w) => void workers.push(w)));
          await eventually('a worker up to kill next', async () => survivors().workers.length > 0, 120_000);
        }
        await Promise.all(starting);
      },
      (e) => e.historyRetries > 0,
      { workers: survivors },
    );
    workers = workers.filter((w) => !killed.has(w));
  });
});
