import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import { freshDay } from '../support/days';
import { eventually, REPO, stackEnv, uniqueTag, useStackEnv } from '../support/stack';
import { startWorker, type WorkerProcess } from '../support/workerProcess';

/*
 * The fault suite: each scenario breaks one dependency of a running ingest on the real stack, then checks that the
 * database holds exactly what one clean run leaves (the generator's expected-<day>.json, or the producer's counts for
 * Kafka) and that job_runs tells the truth. It runs on a stack of its own (ports + 100, state in .stack/chaos), so
 * restarting a service never touches the stack the other tests share. CHAOS_MODE=short (npm test) or full (npm run
 * chaos); CHAOS_SEED picks the kill -9 moments.
 */
process.env['SCHEDULED_JOB_PORT_OFFSET'] ??= '100';
process.env['SCHEDULED_JOB_STACK_DIR'] ??= path.join(REPO, '.stack', 'chaos');
if (process.env['SCHEDULED_JOB_PORT_OFFSET'] === '0' && process.env['CHAOS_ALLOW_MAIN_STACK'] !== '1') {
  throw new Error('the fault suite restarts services: run it on a stack of its own (SCHEDULED_JOB_PORT_OFFSET, scripts/chaos.sh)');
}
// The chaos stack's variables win over any the shell took from the main stack (useStackEnv only fills gaps).
Object.assign(process.env, stackEnv());
useStackEnv({
  JOBS_MODULE: path.join(REPO, 'test', 'support', 'jobs.ts'),
  CONSUMERS_MODULE: path.join(REPO, 'test', 'support', 'consumers.ts'),
});
const run = promisify(execFile);

import type { S3Client } from '@aws-sdk/client-s3';
import type { Kafka } from 'kafkajs';
import { createKafka } from '../../connections/kafka';
import { createS3Client } from '../../connections/s3';
import { consumerWorkflowId } from '../../consumers/ids';
import { generateDay, type ExpectedOutcome } from '../../scripts/generate-day';
import { produceCuratedEvents, type ProduceResult } from '../../scripts/produce-curated-events';
import { Rng } from '../../scripts/rng';
import { uploadGeneratedFiles } from '../../scripts/upload-day';
import { consumerStatusQuery } from '../../workflows/consumers';
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
      kafka: { messages: 40_000, restartsAt: [0.25, 0.6], workers: 2 },
    }
  : {
      day: { objects: 4, linesPerObject: 25_000 },
      killDay: { objects: 6, linesPerObject: 40_000 },
      postgresRestartsAt: [0.3],
      s3OutageSeconds: 10,
      temporalRestartsAt: [0.3],
      kills: 2,
      kafka: { messages: 10_000, restartsAt: [0.3], workers: 1 },
    };
const JOB = 'ingest_notification_views'; // the shipped definition: its own retry policies must ride out each fault
const FAST_FAILOVER_JOB = 'test_ingest_fast_failover'; // 5 s heartbeat timeout, so a kill -9 fails over in seconds
const PARTITIONS = 4;

interface Row {
  scenario: string;
  tries: number;
  lost: number | string;
  duplicated: number | string;
  note: string;
}

describe(`fault suite (${FULL ? 'full' : 'short'} form, seed ${SEED}) on the chaos stack`, { timeout: 1_800_000 }, () => {
  let rt: Runtime;
  let s3: S3Client;
  let kafka: Kafka;
  let dataDir: string;
  let workers: WorkerProcess[] = [];
  const consumerNames: string[] = [];
  const table: Row[] = [];

  before(async () => {
    // Bundle the workflows once; every worker started here loads that file instead of running webpack itself.
    dataDir = mkdtempSync(path.join(tmpdir(), 'chaos-'));
    const bundle = path.join(dataDir, 'workflows.js');
    await run(process.execPath, [path.join(REPO, 'bin', 'scheduled-job.js'), 'bundle-workflows', bundle], { env: process.env });
    process.env['SCHEDULED_JOB_WORKFLOW_BUNDLE'] = bundle;
    rt = await openRuntime();
    s3 = createS3Client(rt.env);
    kafka = createKafka(rt.env, 'chaos-test');
    console.log(`chaos stack: ${rt.env.DATABASE_URL.replace(/:[^:@/]*@/, ':***@')}, Temporal ${rt.env.TEMPORAL_ADDRESS}, S3 ${rt.env.S3_ENDPOINT}, Kafka ${rt.env.KAFKA_BROKERS}`);
  });

  after(async () => {
    const w = [24, 6, 5, 11];
    const line = (c: string[]) => `| ${c.map((x, i) => x.padEnd(w[i] ?? 0)).join(' | ')} |`;
    console.log(`\nfault suite, ${FULL ? 'full' : 'short'} form, seed ${SEED} (lost and duplicated are counted in the database against the expected outcome)`);
    console.log(line(['scenario', 'tries', 'lost', 'duplicated']));
    console.log(line(w.map((n) => '-'.repeat(n))));
    for (const r of table) console.log(line([r.scenario, String(r.tries), String(r.lost), String(r.duplicated)]));
    for (const r of table) console.log(`  ${r.scenario}: ${r.note}`);

    await Promise.all(workers.map((w) => w.stop()));
    for (const name of consumerNames) {
      const open = rt.temporal.workflow.list({
        query: `(WorkflowId = "${consumerWorkflowId(name)}" OR WorkflowId STARTS_WITH "ingest/${name}/") AND ExecutionStatus = "Running"`,
      });
      for await (const wf of open) await rt.temporal.workflow.getHandle(wf.workflowId).terminate('fault suite finished').catch(() => undefined);
    }
    s3?.destroy();
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

  const everyWorker: WorkerProcess[] = []; // killed ones too, for their logs
  const spawnWorker = async (env: Record<string, string> = {}) => {
    const w = await startWorker(env);
    everyWorker.push(w);
    return w;
  };
  const startIngestWorkers = async (n: number) => {
    workers.push(...(await Promise.all(Array.from({ length: n }, () => spawnWorker()))));
  };
  /** Activity attempts that failed (and were retried) as the workers logged them: evidence the fault was felt. */
  const failedAttempts = () => everyWorker.reduce((n, w) => n + (w.output().match(/Activity failed/g)?.length ?? 0), 0);
  const assertWorkersAlive = () => {
    for (const w of workers) {
      assert.ok(w.child.exitCode === null && w.child.signalCode === null, `worker ${w.pid} died (${w.child.exitCode ?? w.child.signalCode}):\n${w.output().slice(-3000)}`);
    }
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
  const atProgress = async (day: string, expected: ExpectedOutcome, share: number): Promise<number> => {
    const at = Math.floor(share * expected.lines);
    const done = await eventually(`${Math.round(share * 100)}% of ${day} ingested`, async () => {
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

  /**
   * One ingest under a fault: generate and upload a day, trigger it, let `inject` break something (it records each
   * fault it injects in `faults`), wait for the run to end, then count and check.
   */
  const ingestUnderFault = async (
    scenario: string,
    opts: { job: string; seed: number; parallelism?: number; size?: { objects: number; linesPerObject: number }; mustFailActivities?: boolean },
    inject: (day: string, expected: ExpectedOutcome, faults: string[]) => Promise<void>,
  ) => {
    const { day, expected } = await prepareDay(opts.seed, opts.size ?? MODE.day);
    const t0 = Date.now();
    const started = await rt.client.trigger(opts.job, { day, parallelism: opts.parallelism ?? 2 });
    const faults: string[] = []; // one entry per fault injected, as it happens
    const failedBefore = failedAttempts();
    let note = '';
    let counted: Awaited<ReturnType<typeof countDay>> | undefined;
    let failed = 0;
    try {
      await inject(day, expected, faults);
      note = faults.join(', ');
      const view = await eventually(`${opts.job}/${day} to finish`, async () => {
        const v = await safe(() => rt.client.status(opts.job, started.runId));
        return v && v.status !== 'running' ? v : undefined;
      }, 600_000, 500);
      assert.equal(view.status, 'succeeded', view.error ?? '');
      counted = await countDay(day, expected);
      const runs = await assertRunLog(opts.job, day, started.runId, expected);
      failed = failedAttempts() - failedBefore;
      note += `; ${failed} activity attempts failed and were retried; ${runs.length} job attempt(s), ${((Date.now() - t0) / 1000).toFixed(1)} s; ${counted.views} views, ${counted.rejects} rejects (expected ${expected.views}, ${expected.rejected})`;
    } finally {
      counted ??= await safe(() => countDay(day, expected));
      table.push({ scenario, tries: faults.length, lost: counted?.lost ?? '?', duplicated: counted?.duplicated ?? '?', note: note || `did not finish: ${faults.join(', ')}` });
    }
    lastDay = { day, expected };
    assert.ok(counted, 'counted');
    assert.equal(counted.lost, 0, 'lost rows or rejects');
    assert.equal(counted.duplicated, 0, 'duplicated rows or rejects');
    assert.ok(faults.length > 0, 'the fault was injected');
    // The dependency really went away under the ingest: its activities failed (the workers log "Activity failed").
    if (opts.mustFailActivities) assert.ok(failed > 0, 'the fault was felt: some activity attempt failed and was retried');
  };

  let lastDay: { day: string; expected: ExpectedOutcome } | undefined;

  // ---- scenarios ----

  test('1. Postgres restarts mid-ingest: the same rows, rejects and metrics as a clean run', async () => {
    await startIngestWorkers(2);
    await ingestUnderFault('postgres restart', { job: JOB, seed: 101, mustFailActivities: true }, async (day, expected, faults) => {
      for (const share of MODE.postgresRestartsAt) {
        const at = await atProgress(day, expected, share);
        faults.push(`restart at ${at}/${expected.lines} lines took ${(await stack('restart', 'postgres')).toFixed(1)} s`);
      }
    });
    assertWorkersAlive();
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

  test(`2. the S3 server stops mid-object for ${MODE.s3OutageSeconds} s: the same rows, rejects and metrics`, async () => {
    await ingestUnderFault(`s3 down ${MODE.s3OutageSeconds} s`, { job: JOB, seed: 102, mustFailActivities: true }, async (day, expected, faults) => {
      const at = await atProgress(day, expected, 0.3);
      // Objects being streamed right now (a checkpoint past line 0, not done): the outage cuts them mid-object.
      const open = (await rt.ds.query(`SELECT count(*)::int AS n FROM ingest_objects WHERE day = $1 AND line_number > 0 AND NOT done`, [day])) as { n: number }[];
      const down = Date.now();
      // SIGKILL right after SIGTERM (no grace time): versitygw would otherwise drain open GETs for about 10 s
      // before closing them, and the objects being read must be cut mid-stream, as in a crash.
      await stack('stop', 's3', { SCHEDULED_JOB_STOP_TIMEOUT: '0' });
      try {
        faults.push(`stopped at ${at}/${expected.lines} lines with ${open[0]!.n} object(s) mid-stream`);
        await sleep(Math.max(0, MODE.s3OutageSeconds * 1000 - (Date.now() - down)));
      } finally {
        await stack('start', 's3');
      }
      faults[0] += `, down for ${((Date.now() - down) / 1000).toFixed(1)} s`;
    });
    assertWorkersAlive();
  });

  test('4. the Temporal server restarts mid-ingest: the same rows, rejects and metrics', async () => {
    await ingestUnderFault('temporal restart', { job: JOB, seed: 104 }, async (day, expected, faults) => {
      for (const share of MODE.temporalRestartsAt) {
        const at = await atProgress(day, expected, share);
        faults.push(`restart at ${at}/${expected.lines} lines took ${(await stack('restart', 'temporal')).toFixed(1)} s`);
      }
    });
    assertWorkersAlive();
  });

  test(`5. kill -9 of a worker ${MODE.kills} times at seeded random moments: the same rows, rejects and metrics`, async () => {
    const rng = new Rng(SEED);
    // Kill points by progress (share of the day's lines), so they land mid-day however fast this machine ingests.
    const shares = Array.from({ length: MODE.kills }, () => 0.05 + rng.next() * 0.6).sort((a, b) => a - b);
    console.log(`kill points (shares of the day's lines): ${shares.map((s) => s.toFixed(3)).join(', ')}`);
    const starting: Promise<void>[] = [];
    await ingestUnderFault('kill -9 worker', { job: FAST_FAILOVER_JOB, seed: 105, size: MODE.killDay }, async (day, expected, faults) => {
      for (const share of shares) {
        const at = await atProgress(day, expected, share);
        await sleep(rng.int(500));
        // Any worker that is up, chosen by the seeded PRNG; its replacement starts in the background, as an
        // orchestrator's would, so the next kill point is not held back by a start-up.
        const victim = workers[rng.int(workers.length)]!;
        await victim.kill9();
        workers = workers.filter((w) => w !== victim);
        faults.push(`pid ${victim.pid} at ${at}/${expected.lines} lines`);
        starting.push(spawnWorker().then((w) => void workers.push(w)));
        await eventually('a worker up to kill next', async () => workers.length > 0, 120_000);
      }
      await Promise.all(starting);
    });
    await Promise.all(starting);
    assertWorkersAlive();
  });

  test('3. the Kafka broker restarts mid-consumption: exactly the distinct events and the dead letters, lag back to 0', async () => {
    await Promise.all(workers.splice(0).map((w) => w.stop()));
    const name = `chaos_${uniqueTag('kafka').replace(/-/g, '_')}`;
    const topic = `chaos.${name}`;
    consumerNames.push(name);
    const env = { TEST_CONSUMER_NAME: name, TEST_CONSUMER_TOPIC: topic, TEST_CONSUMER_GROUP: `${topic}.group`, TEST_CONSUMER_BATCH_SIZE: '100' };
    const expected: ProduceResult = await produceCuratedEvents({ kafka, topic, count: MODE.kafka.messages, partitions: PARTITIONS, createTopic: true, seed: 103, prefix: name });
    const total = expected.distinctValid + expected.garbage;
    const counts = async () =>
      ((await rt.ds.query(
        `SELECT (SELECT count(*) FROM curated_program_events WHERE topic = $1)::int AS rows,
                (SELECT count(DISTINCT event_id) FROM curated_program_events WHERE topic = $1 AND event_id LIKE $2 || '-%')::int AS ours,
                (SELECT count(*) FROM kafka_dead_letters WHERE consumer = $2 AND topic = $1)::int AS dead,
                (SELECT count(DISTINCT (kafka_partition, kafka_offset)) FROM kafka_dead_letters WHERE consumer = $2 AND topic = $1)::int AS "deadDistinct"`,
        [topic, name],
      )) as { rows: number; ours: number; dead: number; deadDistinct: number }[])[0]!;
    const status = () => rt.temporal.workflow.getHandle(consumerWorkflowId(name)).query(consumerStatusQuery);
    const t0 = Date.now();
    workers.push(...(await Promise.all(Array.from({ length: MODE.kafka.workers }, () => spawnWorker(env)))));
    const notes: string[] = [];
    let c: Awaited<ReturnType<typeof counts>> | undefined;
    try {
      for (const share of MODE.kafka.restartsAt) {
        const stored = await eventually(`${Math.round(share * 100)}% of the messages stored`, async () => {
          const x = await safe(counts);
          return x && x.rows + x.dead >= total * share ? x.rows + x.dead : undefined;
        }, 300_000, 100);
        assert.ok(stored < total, 'the restart must land mid-consumption');
        notes.push(`restart at ${stored}/${total} stored took ${(await stack('restart', 'kafka')).toFixed(1)} s`);
      }
      await eventually(`${expected.distinctValid} rows and ${expected.garbage} dead letters with lag 0`, async () => {
        const x = await safe(counts);
        if (!x || x.rows < expected.distinctValid || x.dead < expected.garbage) return undefined;
        if (x.rows > expected.distinctValid || x.dead > expected.garbage) return true; // too many: counted below
        const st = await safe(status);
        return st && st.lag === 0 && st.partitions.length === PARTITIONS ? true : undefined;
      }, 300_000, 500);
      // Settle: a late duplicate write would show up now.
      await sleep(2000);
      const st = await status();
      assert.equal(st.lag, 0, 'lag back to 0');
      for (const p of st.partitions) assert.equal(p.committed, p.high, `partition ${p.partition} committed to its end`);
    } finally {
      c = await safe(counts);
      table.push({
        scenario: 'kafka restart',
        tries: notes.length,
        lost: c ? Math.max(0, expected.distinctValid - c.ours) + Math.max(0, expected.garbage - c.deadDistinct) : '?',
        duplicated: c ? Math.max(0, c.rows - expected.distinctValid) + (c.dead - c.deadDistinct) + Math.max(0, c.deadDistinct - expected.garbage) : '?',
        note: `${notes.join(', ')}; ${expected.messages} messages (${expected.distinctValid} distinct valid, ${expected.repeats} repeats, ${expected.garbage} garbage); ${c?.rows} rows, ${c?.dead} dead letters; lag 0 ${((Date.now() - t0) / 1000).toFixed(1)} s after the workers started`,
      });
    }
    assert.ok(c, 'counted');
    assert.equal(c.ours, expected.distinctValid, 'lost events');
    assert.equal(c.rows, expected.distinctValid, 'duplicated or foreign events');
    assert.equal(c.dead, expected.garbage, 'dead letters');
    assert.equal(c.deadDistinct, c.dead, 'no dead letter twice');
    assert.ok(notes.length > 0);
    assertWorkersAlive();
  });
});
