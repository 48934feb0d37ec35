import type { Client as TemporalClient } from '@temporalio/client';
import type { Pool } from 'pg';
import type { TrackedRun } from './clients';
import type { DayRecord } from './dayLoad';
import { INGEST_JOB } from './dayLoad';
import type { KafkaView } from './kafkaLog';
import type { LedgerEntry } from './streamLoad';

/**
 * The independent checker: what must be stored comes from the generators' own records (each day's
 * expected-<day>.json, the producer's ledger of every message it tried, read back from the Kafka log as the broker
 * holds it), what is stored is read with plain SQL, and what Temporal did is asked of Temporal. No product module
 * computes an expectation here.
 */
export interface Tally {
  lost: number;
  duplicated: number;
  problems: string[];
}

const tally = (): Tally => ({ lost: 0, duplicated: 0, problems: [] });

/** Views per notification and rejects by object and line of each day, against its expected-<day>.json. */
export async function checkDays(pg: Pool, days: DayRecord[]): Promise<Tally & { views: number; rejects: number }> {
  const t = { ...tally(), views: 0, rejects: 0 };
  for (const d of days) {
    const views = await pg.query<{ id: string; n: number }>(
      `SELECT notification_id AS id, count(*)::int AS n FROM notification_views WHERE day = $1 GROUP BY 1`,
      [d.day],
    );
    const got = new Map(views.rows.map((r) => [r.id, r.n]));
    let lost = 0;
    let dup = 0;
    for (const [id, n] of Object.entries(d.expected.perNotification)) lost += Math.max(0, n - (got.get(id) ?? 0));
    for (const [id, n] of got) dup += Math.max(0, n - (d.expected.perNotification[id] ?? 0));
    const rejects = await pg.query<{ key: string; line: string; n: number }>(
      `SELECT object_key AS key, line_number::text AS line, count(*)::int AS n FROM ingest_rejects WHERE day = $1 GROUP BY 1, 2`,
      [d.day],
    );
    const want = new Set(Object.entries(d.expected.rejectsByKey).flatMap(([k, lines]) => lines.map((l) => `${k}:${l}`)));
    const have = new Map(rejects.rows.map((r) => [`${r.key}:${r.line}`, r.n]));
    for (const k of want) if (!have.has(k)) lost++;
    for (const [k, n] of have) dup += want.has(k) ? n - 1 : n;
    t.views += [...got.values()].reduce((a, b) => a + b, 0);
    t.rejects += rejects.rows.reduce((a, r) => a + r.n, 0);
    if (lost || dup) t.problems.push(`day ${d.day} (${d.kind}): ${lost} views or rejects lost, ${dup} duplicated`);
    t.lost += lost;
    t.duplicated += dup;
  }
  return t;
}

/** The latest chain of each day's workflow: succeeded, as job_runs records it. */
export async function daysNotSucceeded(pg: Pool, days: DayRecord[]): Promise<string[]> {
  const res = await pg.query<{ workflow_id: string; status: string }>(
    `SELECT DISTINCT ON (workflow_id) workflow_id, status FROM job_runs WHERE workflow_id = ANY($1::text[])
      ORDER BY workflow_id, started_at DESC, attempt DESC`,
    [days.map((d) => `${INGEST_JOB}/${d.day}`)],
  );
  const status = new Map(res.rows.map((r) => [r.workflow_id, r.status]));
  return days.filter((d) => status.get(`${INGEST_JOB}/${d.day}`) !== 'succeeded').map((d) => `${d.day}: ${status.get(`${INGEST_JOB}/${d.day}`) ?? 'no run'}`);
}

export interface StreamExpectation {
  topic: string;
  consumer: string;
  prefix: string;
  from: bigint[];
  to: bigint[];
  ledger: Map<string, LedgerEntry>;
}

/** The log's range as the ledger reads it: where each valid event's bytes are, and every garbage offset. */
export interface LoggedStream {
  messages: number;
  /** event id -> the partition:offset places its bytes are at (a repeat adds places) */
  positions: Map<string, Set<string>>;
  /** partition:offset of every garbage message */
  garbage: Set<string>;
  /** messages the producer never made */
  unknown: number;
}

/** Reads the soak's range of the topic back and files each message by the producer's ledger. */
export async function readLoggedStream(kafka: KafkaView, e: StreamExpectation): Promise<LoggedStream> {
  const log = await kafka.read(e.topic, e.from, e.to);
  const out: LoggedStream = { messages: log.length, positions: new Map(), garbage: new Set(), unknown: 0 };
  for (const m of log) {
    const entry = e.ledger.get(m.key);
    if (!entry) {
      out.unknown++;
      continue;
    }
    const at = `${m.partition}:${m.offset}`;
    if (entry.role === 'garbage') out.garbage.add(at);
    else (out.positions.get(entry.eventId!) ?? out.positions.set(entry.eventId!, new Set()).get(entry.eventId!)!).add(at);
  }
  return out;
}

/**
 * What the log holds from the soak's first offsets to the end, by the ledger: the distinct valid event ids must be
 * exactly the rows of this run's prefix (each stored at one of the offsets its bytes were at), and the garbage's
 * offsets exactly the dead letters, once each.
 */
export async function checkStream(pg: Pool, logged: LoggedStream, e: StreamExpectation): Promise<Tally & { messages: number; events: number; deadLetters: number }> {
  const t = { ...tally(), messages: logged.messages, events: 0, deadLetters: 0 };
  const { positions, garbage, unknown } = logged;
  if (unknown) t.problems.push(`${unknown} messages in the log that the producer never made (another writer on the topic?)`);
  const rows = await pg.query<{ id: string; at: string }>(
    `SELECT event_id AS id, kafka_partition || ':' || kafka_offset AS at FROM curated_program_events WHERE event_id LIKE $1 || '-%'`,
    [e.prefix],
  );
  t.events = rows.rows.length;
  const stored = new Set<string>();
  for (const r of rows.rows) {
    stored.add(r.id);
    const at = positions.get(r.id);
    if (!at) {
      t.duplicated++;
      t.problems.push(`event ${r.id} stored but not in the log's range`);
    } else if (!at.has(r.at)) {
      t.problems.push(`event ${r.id} stored at ${r.at}, where the log does not hold it (${[...at].join(', ')})`);
    }
  }
  for (const id of positions.keys()) if (!stored.has(id)) t.lost++;
  if (t.lost) t.problems.push(`${t.lost} events in the log have no row`);
  const range = e.from.map((o, p) => `(kafka_partition = ${p} AND kafka_offset >= ${o} AND kafka_offset < ${e.to[p]})`).join(' OR ');
  const dead = await pg.query<{ at: string; n: number }>(
    `SELECT kafka_partition || ':' || kafka_offset AS at, count(*)::int AS n FROM kafka_dead_letters
      WHERE consumer = $1 AND topic = $2 AND (${range}) GROUP BY 1`,
    [e.consumer, e.topic],
  );
  let lostDead = 0;
  let dupDead = 0;
  const deadAt = new Map(dead.rows.map((r) => [r.at, r.n]));
  for (const at of garbage) if (!deadAt.has(at)) lostDead++;
  for (const [at, n] of deadAt) {
    t.deadLetters += n;
    dupDead += garbage.has(at) ? n - 1 : n;
  }
  if (lostDead || dupDead) t.problems.push(`dead letters: ${lostDead} garbage messages without one, ${dupDead} too many`);
  t.lost += lostDead;
  t.duplicated += dupDead;
  return t;
}

/** The group's committed offsets equal the high watermarks: nothing left to consume. */
export async function groupLag(kafka: KafkaView, group: string, topic: string, partitions: number): Promise<number> {
  const [high, committed] = await Promise.all([kafka.highWatermarks(topic, partitions), kafka.committed(group, topic, partitions)]);
  return high.reduce((n, h, p) => n + Number(h - (committed[p]! < 0n ? 0n : committed[p]!)), 0);
}

/** How job_runs must read a closed Temporal run of a job (the README's statuses). */
const EXPECTED_ROW: Record<string, string[]> = {
  COMPLETED: ['succeeded'],
  FAILED: ['failed'],
  CANCELLED: ['cancelled'],
  TIMED_OUT: ['timed_out'],
  TERMINATED: ['failed'],
  // An attempt that failed (or ran out of time) and was retried under the same lock.
  CONTINUED_AS_NEW: ['failed', 'timed_out'],
};

/** Workflows that run for as long as the service does: consumers, their ingest workflows, the job catalog. */
const LONG_RUNNING = /^(consumer|ingest|catalog)\//;

/**
 * Every workflow started since `since` is closed (except the long-running ones), and every job run's row in
 * job_runs says what Temporal says; every job_runs row of the period has its run in Temporal.
 */
export async function checkRuns(temporal: TemporalClient, pg: Pool, since: Date): Promise<{ runs: number; open: string[]; mismatched: string[] }> {
  const open: string[] = [];
  const mismatched: string[] = [];
  const status = new Map<string, { workflowId: string; status: string; type: string }>();
  for await (const wf of temporal.workflow.list({ query: `StartTime >= "${since.toISOString()}"` })) {
    if (LONG_RUNNING.test(wf.workflowId)) continue;
    status.set(wf.runId, { workflowId: wf.workflowId, status: wf.status.name, type: wf.type });
    if (wf.status.name === 'RUNNING') open.push(`${wf.type} ${wf.workflowId} ${wf.runId}`);
  }
  const rows = await pg.query<{ workflow_id: string; run_id: string; status: string }>(
    `SELECT workflow_id, run_id, status FROM job_runs WHERE started_at >= $1`,
    [since],
  );
  const jobRuns = [...status].filter(([, v]) => v.type === 'scheduledJob');
  const byRun = new Map(rows.rows.map((r) => [r.run_id, r]));
  for (const [runId, v] of jobRuns) {
    const row = byRun.get(runId);
    if (!row) {
      mismatched.push(`${v.workflowId} ${runId}: ${v.status} in Temporal, no job_runs row`);
      continue;
    }
    const ok = EXPECTED_ROW[v.status];
    if (ok && !ok.includes(row.status)) mismatched.push(`${v.workflowId} ${runId}: ${v.status} in Temporal, ${row.status} in job_runs`);
  }
  for (const r of rows.rows) if (!status.has(r.run_id)) mismatched.push(`${r.workflow_id} ${r.run_id}: ${r.status} in job_runs, not in Temporal since the start`);
  return { runs: jobRuns.length, open, mismatched };
}

/** The example runs the HTTP clients started ended as their arguments say they must. */
export async function checkTrackedRuns(pg: Pool, runs: TrackedRun[]): Promise<string[]> {
  if (runs.length === 0) return [];
  const res = await pg.query<{ first_run_id: string; status: string; attempt: number }>(
    `SELECT DISTINCT ON (first_run_id) first_run_id, status, attempt FROM job_runs WHERE first_run_id = ANY($1::text[])
      ORDER BY first_run_id, attempt DESC`,
    [runs.map((r) => r.runId)],
  );
  const got = new Map(res.rows.map((r) => [r.first_run_id, r]));
  const wrong: string[] = [];
  for (const r of runs) {
    const g = got.get(r.runId);
    if (!g) wrong.push(`${r.job} ${r.runId}: no job_runs row`);
    else if (g.status !== r.expectStatus || (r.expectAttempt !== undefined && g.attempt !== r.expectAttempt)) {
      wrong.push(`${r.job} ${r.runId}: ${g.status} after ${g.attempt} attempt(s), expected ${r.expectStatus}${r.expectAttempt ? ` after ${r.expectAttempt}` : ''}`);
    }
  }
  return wrong;
}
