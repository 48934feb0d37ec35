/**
 * The days view on a run log of realistic size (a database of its own on the stack's Postgres): 365 days of a job
 * among a million runs of others, each day's latest status right (retried, rerun, missing), and how long it takes.
 * The time is printed, never asserted: the machine is shared.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createScratchDatabase, type ScratchDatabase } from '../support/scratchDatabase';
import { uniqueTag, useStackEnv } from '../support/stack';

const stack = useStackEnv();

import { z } from 'zod';
import type { DataSource } from 'typeorm';
import { JOB_HANDLER_NAMES } from '../../app/jobs';
import { jobDays } from '../../client/days';
import { openDatabase } from '../../db/dataSource';
import { dayArg } from '../../jobs/args';
import { defineJob } from '../../jobs/definition';
import { JobRegistry } from '../../jobs/registry';

const JOB = 'days_view_job';
const registry = new JobRegistry(
  [
    defineJob({
      name: JOB,
      description: 'a daily job',
      handler: 'example_steps',
      args: z.object({ day: dayArg }),
      retry: { retries: 2 },
      lockKey: ['day'],
      partition: { arg: 'day', kind: 'day' },
      keyMetrics: { rows: 'rowsWritten', rejects: 'rejected' },
    }),
  ],
  JOB_HANDLER_NAMES,
);

describe('the days view on a large run log', { timeout: 600_000 }, () => {
  let db: ScratchDatabase;
  let ds: DataSource;

  before(async () => {
    db = await createScratchDatabase(stack['DATABASE_URL']!, uniqueTag('days'));
    ds = await openDatabase(db.url, 2);
    // A million attempts of 20 other day-partitioned jobs over ten years, then three years of this job: every day
    // from 2022-01-01 to 2024-12-31 but each 10th (missing); each 7th day failed once before it succeeded (two
    // attempts of one chain), each 11th rerun later (two chains, the latest one failed).
    await ds.query(`
      INSERT INTO job_runs (job_name, workflow_id, run_id, first_run_id, attempt, status, args, started_at, finished_at, metrics, partition_key)
      SELECT 'other_' || (g % 20), 'other/' || g, 'o-' || g, 'o-' || g, 1, 'succeeded', '{}'::jsonb,
             now() - make_interval(secs => g), now() - make_interval(secs => g) + interval '1 minute', '{"rowsWritten": 5}'::jsonb,
             to_char(date '2015-01-01' + (g % 3650), 'YYYY-MM-DD')
        FROM generate_series(1, 1000000) AS g`);
    await ds.query(`
      WITH days AS (SELECT d, row_number() OVER (ORDER BY d) AS i FROM generate_series(date '2022-01-01', date '2024-12-31', interval '1 day') AS d),
           chains AS (
             SELECT d, i, 'c1-' || i AS chain, 1 AS attempt, CASE WHEN i % 7 = 0 THEN 'failed' ELSE 'succeeded' END AS status FROM days WHERE i % 10 <> 0
             UNION ALL SELECT d, i, 'c1-' || i, 2, 'succeeded' FROM days WHERE i % 10 <> 0 AND i % 7 = 0
             UNION ALL SELECT d, i, 'c2-' || i, 1, 'failed' FROM days WHERE i % 10 <> 0 AND i % 11 = 0)
      INSERT INTO job_runs (job_name, workflow_id, run_id, first_run_id, attempt, status, args, started_at, finished_at, metrics, partition_key)
      SELECT '${JOB}', '${JOB}/' || to_char(d, 'YYYY-MM-DD'), chain || '-a' || attempt, chain, attempt, status,
             jsonb_build_object('day', to_char(d, 'YYYY-MM-DD')),
             d + make_interval(hours => 11 + attempt + CASE WHEN chain LIKE 'c2-%' THEN 5 ELSE 0 END),
             d + make_interval(hours => 11 + attempt + CASE WHEN chain LIKE 'c2-%' THEN 5 ELSE 0 END, secs => 90),
             jsonb_build_object('rowsWritten', i * 10, 'rejected', i % 3), to_char(d, 'YYYY-MM-DD')
        FROM chains`);
    await ds.query(`ANALYZE job_runs`);
  });
  after(async () => {
    await ds?.destroy();
    await db?.drop();
  });

  test("365 days: each day's latest run, attempts, rows and rejects, missing where none ran; the time it takes", async () => {
    const from = '2023-01-01';
    const to = '2023-12-31';
    const times: number[] = [];
    let days = await jobDays(ds, registry, JOB, from, to);
    for (let i = 0; i < 20; i++) {
      const t0 = process.hrtime.bigint();
      days = await jobDays(ds, registry, JOB, from, to);
      times.push(Number(process.hrtime.bigint() - t0) / 1e6);
    }
    const plan = (await ds.query(
      `EXPLAIN (ANALYZE, FORMAT JSON) SELECT DISTINCT ON (partition_key) partition_key, first_run_id, workflow_id, status, started_at,
              finished_at, error, metrics, count(*) OVER (PARTITION BY partition_key) AS attempts
         FROM job_runs WHERE job_name = $1 AND partition_key BETWEEN $2 AND $3 ORDER BY partition_key, id DESC`,
      [JOB, from, to],
    )) as { 'QUERY PLAN': { 'Execution Time': number; Plan: unknown }[] }[];
    const exec = plan[0]!['QUERY PLAN'][0]!['Execution Time'];
    const sorted = [...times].sort((a, b) => a - b);
    const total = ((await ds.query(`SELECT count(*)::int AS n FROM job_runs`)) as { n: number }[])[0]!.n;
    console.log(
      `days view, 365 days of ${total} runs: jobDays ${sorted[Math.floor(sorted.length / 2)]!.toFixed(1)} ms median, ${sorted[sorted.length - 1]!.toFixed(1)} ms max of 20; ` +
        `the query ${exec.toFixed(1)} ms in Postgres (${JSON.stringify(plan[0]!['QUERY PLAN'][0]!.Plan).includes('job_runs_partition') ? 'job_runs_partition index' : 'NOT the partition index'})`,
    );

    assert.equal(days.length, 365);
    // Day i of the seed counts from 2022-01-01 = 1; 2023-01-01 is day 366.
    for (const [k, d] of days.entries()) {
      const i = 366 + k;
      if (i % 10 === 0) {
        assert.deepEqual({ status: d.status, attempts: d.attempts, runId: d.runId }, { status: 'missing', attempts: 0, runId: null }, d.day);
        continue;
      }
      const rerun = i % 11 === 0;
      const retried = i % 7 === 0;
      assert.equal(d.status, rerun ? 'failed' : 'succeeded', d.day);
      assert.equal(d.attempts, 1 + (retried ? 1 : 0) + (rerun ? 1 : 0), d.day);
      assert.equal(d.runId, rerun ? `c2-${i}` : `c1-${i}`, d.day);
      assert.equal(d.rows, i * 10, d.day);
      assert.equal(d.rejects, i % 3, d.day);
      assert.equal(d.durationMs, 90_000, d.day);
    }
  });
});
