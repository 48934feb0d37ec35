/**
 * `npm run soak -- --minutes M --seed S`: three workers and the API, started as the README starts them with the
 * shipped configuration, under a steady load (a new day's ingest every ~30 s through the HTTP API, Kafka production
 * with repeats and garbage, several HTTP clients) while a seeded nemesis injects a fault every 5-20 s. Then an
 * independent checker compares what the generators made with what was stored, and prints the fault table.
 * Run by scripts/soak.sh on a stack of its own (README, Soak).
 *
 *   node --import tsx test/soak/soak.ts --minutes 15 --seed 7 [--plan-only]
 */
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { Client as TemporalClient, Connection } from '@temporalio/client';
import { Pool } from 'pg';
import { env as productEnv } from '../../config/env';
import { createS3Client } from '../../connections/s3';
import { checkDays, checkRuns, checkStream, checkTrackedRuns, daysNotSucceeded, groupLag, readLoggedStream } from './checker';
import { HttpClients } from './clients';
import { DayLoad } from './dayLoad';
import { diagnoseStall } from './diagnose';
import { HttpLedger } from './http';
import { KafkaView } from './kafkaLog';
import { Nemesis, type FaultRecord } from './nemesis';
import { Probes } from './probes';
import { ProcessTable } from './processes';
import { describeFault, FAULT_KINDS, FAULT_LABELS, planFaults } from './schedule';
import { StreamLoad } from './streamLoad';
import { registerCuratedSchemas } from '../../scripts/produce-curated-events';
import { schemaRegistryFromEnv } from '../../connections/schemaRegistry';
import { curatedProgramConsumer } from '../../features/curatedPrograms/consumer';

/** The shipped consumer: its topic and group (features/curatedPrograms/consumer.ts, README). */
const TOPIC = 'curated-program-events';
const GROUP = 'creator-notifications.curated-program';
const CONSUMER = 'curated_program';
const PARTITIONS = 4;
const WORKERS = 3;

const { values } = parseArgs({
  options: {
    minutes: { type: 'string', default: '15' },
    seed: { type: 'string' },
    rate: { type: 'string', default: '100' },
    'day-every': { type: 'string', default: '30' },
    objects: { type: 'string', default: '6' },
    lines: { type: 'string', default: '20000' },
    converge: { type: 'string', default: '300' },
    'plan-only': { type: 'boolean', default: false },
  },
  strict: true,
});
const num = (name: string, v: string | undefined): number => {
  const n = Number(v);
  if (!Number.isFinite(n) || n < 0) {
    console.error(`--${name} must be a number, got ${JSON.stringify(v)}`);
    process.exit(2);
  }
  return n;
};
const MINUTES = num('minutes', values.minutes);
const SEED = values.seed === undefined ? Math.floor(Math.random() * 1_000_000) : num('seed', values.seed);
const CONVERGE_S = num('converge', values.converge);
const plan = planFaults({ seed: SEED, minutes: MINUTES, workers: WORKERS });

const t0 = Date.now();
const log = (line: string) => console.log(`[soak +${((Date.now() - t0) / 1000).toFixed(1)}s] ${line}`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Consecutive days no earlier soak on this stack used: a counter kept in the stack's state directory. */
function reserveDays(stateDir: string, n: number): string[] {
  const file = path.join(stateDir, 'soak-next-day');
  let next = Date.parse('3000-01-01T00:00:00Z');
  try {
    next = Date.parse(`${readFileSync(file, 'utf8').trim()}T00:00:00Z`);
  } catch {
    // first soak on this stack
  }
  const days = Array.from({ length: n }, (_, i) => new Date(next + i * 86_400_000).toISOString().slice(0, 10));
  writeFileSync(file, `${new Date(next + n * 86_400_000).toISOString().slice(0, 10)}\n`);
  return days;
}

const median = (xs: number[]) => {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};
const secs = (ms: number | undefined) => (ms === undefined || Number.isNaN(ms) ? '-' : `${(ms / 1000).toFixed(1)} s`);

async function main(): Promise<number> {
  console.log(`soak: ${MINUTES} min of faults, seed ${SEED}; ${plan.length} faults planned:`);
  for (const f of plan) console.log(`  ${describeFault(f)}`);
  if (values['plan-only']) return 0;

  const env = Object.fromEntries(Object.entries(process.env).filter((e): e is [string, string] => e[1] !== undefined));
  // The README's configuration: no test modules, no prebuilt bundle.
  for (const k of ['JOBS_MODULE', 'CONSUMERS_MODULE', 'SCHEDULED_JOB_WORKFLOW_BUNDLE']) delete env[k];
  const stateDir = env['SCHEDULED_JOB_STACK_DIR'];
  if (!stateDir) throw new Error('SCHEDULED_JOB_STACK_DIR is not set: run the soak with scripts/soak.sh (npm run soak)');
  const e = productEnv();
  const apiBase = `http://127.0.0.1:${e.API_PORT}`;
  const runTag = `soak${SEED}-${Date.now().toString(36)}`;
  const runDir = path.join(stateDir, 'soak-runs', runTag);
  mkdirSync(runDir, { recursive: true });
  log(`stack: Postgres ${e.DATABASE_URL.replace(/\/\/[^@]*@/, '//***@')}, Temporal ${e.TEMPORAL_ADDRESS}, Kafka ${e.KAFKA_BROKERS}, S3 ${e.S3_ENDPOINT}, API ${apiBase}; logs in ${runDir}`);

  const pg = new Pool({ connectionString: e.DATABASE_URL, max: 4 });
  pg.on('error', () => undefined); // a terminated idle connection; queries report their own errors
  const temporal = new TemporalClient({ connection: await Connection.connect({ address: e.TEMPORAL_ADDRESS }), namespace: e.TEMPORAL_NAMESPACE });
  const cluster = await temporal.connection.workflowService.getClusterInfo({});
  const temporalKind = /postgres/i.test(cluster.persistenceStore ?? '') ? `server ${cluster.serverVersion} on PostgreSQL, ${cluster.historyShardCount} shards` : `dev server ${cluster.serverVersion} (${cluster.persistenceStore})`;
  const kafka = new KafkaView(e.KAFKA_BROKERS);
  const s3 = createS3Client(e);
  const partitions = await kafka.ensureTopic(TOPIC, PARTITIONS);
  const from = await kafka.highWatermarks(TOPIC, partitions);
  const since = new Date();
  const loads: number[] = [];
  const loadTimer = setInterval(() => loads.push(loadavg()[0]!), 5_000);

  const processes = new ProcessTable(env, runDir, apiBase, (d) => {
    if (d.expected === undefined) log(`UNEXPECTED DEATH of ${d.role} ${d.pid} (code ${d.code}, signal ${d.signal}):\n${d.tail.slice(-2000)}`);
    else log(`recorded: ${d.role} ${d.pid} exited (${d.signal ?? d.code}): ${d.expected}`);
  });
  const http = new HttpLedger(apiBase, e.API_TOKEN ?? '', processes);
  // The shipped consumer reads the Confluent format: the stream registers its schema as a producer of the topic does.
  const schemaIds = await registerCuratedSchemas({ topic: TOPIC, wireFormat: curatedProgramConsumer.wireFormat, registry: schemaRegistryFromEnv(e) });
  const stream = new StreamLoad(e.KAFKA_BROKERS, TOPIC, partitions, runTag, SEED, num('rate', values.rate), { wireFormat: curatedProgramConsumer.wireFormat, schemaIds });
  const days = new DayLoad({
    http,
    s3,
    bucket: e.S3_BUCKET,
    dataDir: path.join(runDir, 'days'),
    days: reserveDays(stateDir, Math.ceil((MINUTES * 60) / num('day-every', values['day-every'])) + 20),
    seed: SEED,
    size: { objects: num('objects', values.objects), linesPerObject: num('lines', values.lines) },
    everyMs: num('day-every', values['day-every']) * 1000,
    backfillAtMs: MINUTES * 60_000 * 0.35,
    backfillDays: 3,
    env,
  });
  const clients = new HttpClients(http, SEED, runTag, () =>
    days.records.filter((d) => d.status === 'succeeded').map((d) => ({ day: d.day, notification: Object.keys(d.expected.perNotification)[0]! })),
  );
  const probes = new Probes(http, pg, stream, runTag);
  const nemesis = new Nemesis(plan, processes, env, log);

  let verdict = 1;
  try {
    for (let w = 0; w < WORKERS; w++) processes.start('worker', w);
    processes.start('api');
    await Promise.all(processes.all.map((p) => processes.ready(p)));
    log(`${WORKERS} workers and the API ready (pids ${processes.all.map((p) => p.pid).join(', ')}); Temporal: ${temporalKind}`);

    const loadStart = Date.now();
    const faultsUntil = loadStart + MINUTES * 60_000;
    stream.start();
    days.start(loadStart);
    clients.start(3);
    probes.start();
    nemesis.start(loadStart, faultsUntil);
    // A path with no probe through it for two minutes: write down why, at most every three minutes.
    const oldestUnstored = (now: number) => Math.max(0, ...stream.probes.filter((p) => p.storedAt === undefined).map((p) => now - p.ackedAt));
    let diagnosedAt = 0;
    const stallWatch = setInterval(() => {
      const now = Date.now();
      const streamAge = oldestUnstored(now);
      const batch = probes.batch.filter((p) => p.doneAt === undefined && now - p.startedAt > 120_000).length;
      if ((streamAge > 120_000 || batch > 0) && now - diagnosedAt > 180_000) {
        diagnosedAt = now;
        void diagnoseStall(temporal, pg, CONSUMER).then((lines) => {
          log(`STALL: oldest unstored stream probe ${secs(streamAge)} old, ${batch} batch probes over 2 min; what the system shows:`);
          for (const l of lines) console.log(`    ${l}`);
        });
      }
    }, 15_000);
    const status = setInterval(() => {
      log(
        `faults ${nemesis.records.length}/${plan.length}, days ${days.records.length} (${days.records.filter((d) => d.status === 'succeeded').length} done), ` +
          `Kafka ${stream.acked}/${stream.generated} acked, HTTP ${http.requests} requests, ${http.violations.length} violations, ` +
          `deaths ${processes.deaths.length} (${processes.unexpectedDeaths().length} unexpected)`,
      );
    }, 30_000);

    await sleep(faultsUntil - Date.now());
    log('fault phase over: no new fault and no new day; waiting for the faults under way to heal');
    days.stopNewDays();
    await nemesis.finish();
    const lastFault = nemesis.lastEndedAt() ?? Date.now();
    // The load goes on until a probe of each kind begun after every fault's end has come through, so each fault's
    // recovery is measured under load (bounded by the convergence limit).
    const unrecovered = () => nemesis.records.filter((r) => r.endedAt !== undefined && probes.recoveredAt(r.endedAt) === undefined);
    while (unrecovered().length > 0 && Date.now() < lastFault + CONVERGE_S * 1000) await sleep(1_000);
    log(`last fault ended ${secs(Date.now() - lastFault)} ago, ${unrecovered().length} faults without a recovery yet; stopping the load`);
    clearInterval(stallWatch);
    const probesStopped = probes.stop(); // the stream probes still wait for their rows
    await Promise.all([clients.stop(), stream.stop()]);
    clearInterval(status);

    // What the log holds now is final: the producer has stopped and every send was acknowledged.
    const to = await kafka.highWatermarks(TOPIC, partitions);
    const streamExpect = { topic: TOPIC, consumer: CONSUMER, prefix: runTag, from, to, ledger: stream.ledger };
    const logged = await readLoggedStream(kafka, streamExpect);
    log(`the log holds ${logged.messages} messages of this run: ${logged.positions.size} distinct events and ${logged.garbage.size} garbage`);

    // Convergence: every day succeeded, the stream stored, the group caught up, every run closed, within CONVERGE_S.
    const deadline = lastFault + CONVERGE_S * 1000;
    let convergedAt: number | undefined;
    let waitingFor = '';
    const settled = { days: false };
    void days.settle().then(() => (settled.days = true));
    // Looked at least once, even when the recovery wait used up the time.
    for (let first = true; first || Date.now() < deadline; first = false) {
      try {
        const notDone = await daysNotSucceeded(pg, days.records);
        const counts = await pg.query<{ rows: number; dead: number }>(
          `SELECT (SELECT count(*) FROM curated_program_events WHERE event_id LIKE $1 || '-%')::int AS rows,
                  (SELECT count(*) FROM kafka_dead_letters WHERE consumer = $2 AND topic = $3 AND (${from.map((o, p) => `(kafka_partition = ${p} AND kafka_offset >= ${o})`).join(' OR ')}))::int AS dead`,
          [runTag, CONSUMER, TOPIC],
        );
        const lag = await groupLag(kafka, GROUP, TOPIC, partitions);
        const runs = await checkRuns(temporal, pg, since);
        const pendingProbes = stream.probes.filter((p) => p.storedAt === undefined).length;
        waitingFor = [
          !settled.days && `the day load (${days.records.filter((d) => d.status !== 'succeeded').length} days under way)`,
          notDone.length > 0 && `${notDone.length} days not succeeded (${notDone.slice(0, 3).join('; ')})`,
          (counts.rows[0]!.rows !== logged.positions.size || counts.rows[0]!.dead !== logged.garbage.size) &&
            `${counts.rows[0]!.rows} of ${logged.positions.size} events and ${counts.rows[0]!.dead} of ${logged.garbage.size} dead letters stored`,
          lag > 0 && `consumer lag ${lag}`,
          pendingProbes > 0 && `${pendingProbes} probe events not stored`,
          runs.open.length > 0 && `${runs.open.length} runs open (${runs.open.slice(0, 2).join('; ')})`,
        ]
          .filter(Boolean)
          .join(', ');
        if (!waitingFor) {
          convergedAt = Date.now();
          log(`converged: ${counts.rows[0]!.rows} events and ${counts.rows[0]!.dead} dead letters stored, lag 0, every day succeeded, every run closed`);
          break;
        }
      } catch (err) {
        waitingFor = `the checker's own queries (${(err as Error).message.slice(0, 200)})`;
      }
      if (Date.now() < deadline) await sleep(5_000);
    }
    probes.giveUp();
    await probesStopped;
    if (!convergedAt) {
      log(`NOT CONVERGED within ${CONVERGE_S} s of the last fault: waiting for ${waitingFor}; what the system shows:`);
      for (const l of await diagnoseStall(temporal, pg, CONSUMER)) console.log(`    ${l}`);
    }

    // ---- the checks ----
    const dayCheck = await checkDays(pg, days.records);
    const notSucceeded = await daysNotSucceeded(pg, days.records);
    const streamCheck = await checkStream(pg, logged, streamExpect);
    const lag = await groupLag(kafka, GROUP, TOPIC, partitions);
    const runs = await checkRuns(temporal, pg, since);
    const tracked = await checkTrackedRuns(pg, clients.runs);
    const doubles = days.records.filter((d) => d.double !== undefined);
    const twoRuns = doubles.filter((d) => !d.double!.endsWith('one run'));
    const recoveries: FaultRecord[] = nemesis.records;
    for (const r of recoveries) if (r.endedAt) r.recoveredAt = probes.recoveredAt(r.endedAt);
    const notRecovered = recoveries.filter((r) => r.endedAt && r.recoveredAt === undefined);
    const nemesisErrors = recoveries.filter((r) => r.error);
    const unexpected = processes.unexpectedDeaths();
    const fiveHundreds = [...http.counts].filter(([k]) => / 5\d\d$/.test(k) && !k.endsWith(' 503')).reduce((n, [, c]) => n + c, 0);
    const hangs = [...http.counts].filter(([k]) => k.endsWith(' hang')).reduce((n, [, c]) => n + c, 0);
    const bf = days.backfill;

    // ---- the table ----
    console.log(`\nsoak: ${MINUTES} min of faults, seed ${SEED}, Temporal ${temporalKind}`);
    const w = [44, 6, 17, 14];
    const line = (c: string[]) => `| ${c.map((x, i) => x.padEnd(w[i] ?? 0)).join(' | ')} |`;
    console.log(line(['fault', 'count', 'recovery median', 'recovery max']));
    console.log(line(w.map((n) => '-'.repeat(n))));
    for (const kind of FAULT_KINDS) {
      const rs = recoveries.filter((r) => r.plan.kind === kind && r.injectedAt !== undefined);
      const rec = rs.filter((r) => r.recoveredAt !== undefined).map((r) => r.recoveredAt! - r.endedAt!);
      console.log(line([FAULT_LABELS[kind], String(rs.length), secs(median(rec)), secs(rec.length ? Math.max(...rec) : undefined)]));
    }
    const allRec = recoveries.filter((r) => r.recoveredAt !== undefined).map((r) => r.recoveredAt! - r.endedAt!);
    const injected = recoveries.filter((r) => r.injectedAt !== undefined);
    console.log(line(['all', String(injected.length), secs(median(allRec)), secs(allRec.length ? Math.max(...allRec) : undefined)]));
    const kindsCovered = new Set(injected.map((r) => r.plan.kind)).size;
    console.log(
      `\nlost ${dayCheck.lost + streamCheck.lost}${convergedAt ? '' : ' (missing when the time ran out: NOT CONVERGED)'} / duplicated ${dayCheck.duplicated + streamCheck.duplicated} / unexpected deaths ${unexpected.length} / ` +
        `5xx ${fiveHundreds} / hangs over 10 s ${hangs}   (seed ${SEED}; ${injected.length} faults, ${kindsCovered} of ${FAULT_KINDS.length} kinds)`,
    );
    console.log(
      `days: ${days.records.length} (${(['single', 'double', 'rerun', 'backfill'] as const).map((k) => `${days.records.filter((d) => d.kind === k).length} ${k}`).join(', ')}); ` +
        `${dayCheck.views} views and ${dayCheck.rejects} rejects stored, exactly as generated: ${dayCheck.lost + dayCheck.duplicated === 0 ? 'yes' : 'NO'}; ` +
        `runs that failed and were triggered again: ${days.records.reduce((n, d) => n + d.failedRuns.length, 0)}`,
    );
    console.log(`double triggers: ${doubles.length}, answered ${[...new Set(doubles.map((d) => d.double!.split(',')[0]))].join(' / ') || '-'}; two runs for one lock: ${twoRuns.length}`);
    console.log(`backfill of ${bf?.days.join(', ') ?? '(none)'}: CLI exit ${bf?.exit ?? '-'}${bf && bf.attempts > 1 ? ` (${bf.attempts} invocations)` : ''}`);
    console.log(
      `Kafka: ${stream.acked} messages acknowledged (${stream.failedSends} sends failed and were repeated), ${streamCheck.messages} in the log's range, ` +
        `${streamCheck.events} distinct events and ${streamCheck.deadLetters} dead letters stored, exactly as sent: ${streamCheck.lost + streamCheck.duplicated === 0 && streamCheck.problems.length === 0 ? 'yes' : 'NO'}; group lag ${lag}`,
    );
    console.log(`runs: ${runs.runs} job runs in Temporal since the start, ${runs.open.length} open, ${runs.mismatched.length} with another status in job_runs; example runs with the wrong outcome: ${tracked.length} of ${clients.runs.length}`);
    console.log(`HTTP: ${http.requests} requests, slowest ${secs(http.slowestMs)}, ${http.violations.length} violations`);
    for (const s of http.summary()) console.log(`  ${s}`);
    console.log(`converged ${convergedAt ? `${secs(convergedAt - lastFault)} after the last fault` : 'NOT'} (limit ${CONVERGE_S} s)`);
    console.log(`machine load (1-min average, every 5 s): mean ${(loads.reduce((a, b) => a + b, 0) / Math.max(1, loads.length)).toFixed(2)}, max ${Math.max(0, ...loads).toFixed(2)} on ${cpus().length} cores`);
    console.log('peak RSS per process:');
    for (const p of processes.all) {
      console.log(`  ${p.role}${p.role === 'worker' ? p.slot : ''} pid ${p.pid}: ${(p.peakRssKb / 1024).toFixed(0)} MiB${p.exit ? ` (${p.exit.expected ?? 'died unexpectedly'})` : ''}`);
    }

    const failures: string[] = [
      ...dayCheck.problems,
      ...streamCheck.problems,
      ...notSucceeded.map((d) => `day not succeeded: ${d}`),
      ...(lag !== 0 ? [`consumer group lag ${lag}`] : []),
      ...runs.open.map((r) => `run not terminal in Temporal: ${r}`),
      ...runs.mismatched.map((r) => `status differs: ${r}`),
      ...tracked.map((r) => `wrong outcome: ${r}`),
      ...twoRuns.map((d) => `two runs for one lock: day ${d.day} ${d.double}`),
      ...(bf && bf.exit !== 0 ? [`backfill CLI exited ${bf.exit}:\n${bf.output.slice(-1500)}`] : []),
      ...unexpected.map((d) => `unexpected death of ${d.role} ${d.pid} (${d.signal ?? d.code}):\n${d.tail.slice(-1500)}`),
      ...http.violations.map((v) => `HTTP ${v.request} at +${((v.at - t0) / 1000).toFixed(1)} s: ${v.what}`),
      ...notRecovered.map((r) => `fault #${r.plan.n} ${r.plan.kind}: no probe came through after it`),
      ...nemesisErrors.map((r) => `fault #${r.plan.n} ${r.plan.kind}: ${r.error}`),
      ...(convergedAt ? [] : [`not converged within ${CONVERGE_S} s of the last fault: ${waitingFor}`]),
    ];
    console.log('\nslowest probe begun in each 10 s after the load started (API -> Temporal -> worker -> Postgres; Kafka -> consumer -> Postgres):');
    for (const l of probes.timeline(loadStart)) console.log(`  ${l}`);
    writeFileSync(
      path.join(runDir, 'report.json'),
      JSON.stringify({ seed: SEED, minutes: MINUTES, loadStart, faults: recoveries, batchProbes: probes.batch, streamProbes: stream.probes, violations: http.violations, failures }, null, 1),
    );
    console.log('\nfaults:');
    for (const r of recoveries) {
      const when = r.injectedAt ? ` [+${((r.injectedAt - loadStart) / 1000).toFixed(1)} to +${(((r.endedAt ?? r.injectedAt) - loadStart) / 1000).toFixed(1)} s]` : '';
      console.log(`  ${describeFault(r.plan)}${when}: ${r.note}${r.recoveredAt ? `; recovered ${secs(r.recoveredAt - r.endedAt!)} after` : ''}${r.error ? `; ERROR ${r.error}` : ''}`);
    }
    if (failures.length > 0) {
      console.log(`\nSOAK FAILED (seed ${SEED}; the same seed replays the same faults): ${failures.length} problems`);
      for (const f of failures.slice(0, 60)) console.log(`  - ${f}`);
      if (failures.length > 60) console.log(`  ... and ${failures.length - 60} more`);
    } else {
      console.log(`\nsoak passed (seed ${SEED})`);
      verdict = 0;
    }
    // The generated days are only needed while the soak runs; the logs stay for a look afterwards.
    rmSync(path.join(runDir, 'days'), { recursive: true, force: true });
  } finally {
    clearInterval(loadTimer);
    await processes.stopAll();
    s3.destroy();
    await kafka.close();
    await temporal.connection.close().catch(() => undefined);
    await pg.end().catch(() => undefined);
  }
  return verdict;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(`soak: ${(err as Error).stack ?? String(err)}`);
    process.exit(1);
  },
);
