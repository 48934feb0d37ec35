import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { freshDay, generateAndUpload } from '../support/days';
import { sampleRss } from '../support/rss';
import { eventually, REPO, useStackEnv } from '../support/stack';
import { startWorker, type WorkerProcess } from '../support/workerProcess';

useStackEnv({ JOBS_MODULE: path.join(REPO, 'test', 'support', 'jobs.ts'), API_TOKEN: 'test-token-123' });

import type { S3Client } from '@aws-sdk/client-s3';
import { apiClient } from '../../client/apiClient';
import { startBackfill, waitForBackfill } from '../../client/backfills';
import { buildApi } from '../../workers/http/server';
import { notificationRoutes } from '../../features/notificationViews/api';
import { createS3Client } from '../../connections/s3';
import { daysBetween } from '../../domain/day';
import type { ExpectedOutcome } from '../../scripts/generate-day';
import { openRuntime, type Runtime } from '../../workers/runtime';
import { prepareChunk, writeChunk, type ChunkWrite } from '../../features/notificationViews/store';
import type { PoolClient } from 'pg';
import { randomUUID } from 'node:crypto';

const JOB = 'ingest_notification_views';

describe('notification-view ingest on the real stack', { timeout: 1_200_000 }, () => {
  let rt: Runtime;
  let s3: S3Client;
  let worker: WorkerProcess;
  let app: ReturnType<typeof buildApi>;
  let base: string;

  before(async () => {
    rt = await openRuntime();
    s3 = createS3Client(rt.env);
    app = buildApi({ client: rt.client, token: 'test-token-123', routes: [notificationRoutes(rt.ds)] });
    await app.listen({ host: '127.0.0.1', port: 0 });
    base = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
    worker = await startWorker();
  });
  after(async () => {
    await worker.stop();
    await app.close();
    s3.destroy();
    await rt.close();
  });

  async function tableState(day: string) {
    const q = async (sql: string) => (await rt.ds.query(sql, [day])) as Record<string, string>[];
    const views = Number((await q(`SELECT count(*) AS n FROM notification_views WHERE day = $1`))[0]!['n']);
    const perNotification = Object.fromEntries(
      (await q(`SELECT notification_id, count(*) AS n FROM notification_views WHERE day = $1 GROUP BY 1`)).map((r) => [
        r['notification_id'],
        Number(r['n']),
      ]),
    );
    const rejects = await q(`SELECT object_key, line_number FROM ingest_rejects WHERE day = $1 ORDER BY object_key, line_number`);
    const rejectsByKey: Record<string, number[]> = {};
    for (const r of rejects) (rejectsByKey[r['object_key']!] ??= []).push(Number(r['line_number']));
    return { views, perNotification, rejectsByKey, rejected: rejects.length };
  }

  function assertMatchesExpected(state: Awaited<ReturnType<typeof tableState>>, expected: ExpectedOutcome) {
    assert.equal(state.views, expected.views, 'distinct views in notification_views');
    assert.deepEqual(state.perNotification, expected.perNotification, 'views per notification');
    assert.equal(state.rejected, expected.rejected, 'quarantined lines');
    assert.deepEqual(state.rejectsByKey, expected.rejectsByKey, 'rejects by object and line');
  }

  function assertMetrics(metrics: Record<string, number>, expected: ExpectedOutcome) {
    assert.equal(metrics['objects'], expected.objects);
    assert.equal(metrics['linesRead'], expected.lines);
    assert.equal(metrics['rowsWritten'], expected.views);
    assert.equal(metrics['duplicates'], expected.duplicates);
    assert.equal(metrics['skipped'], expected.skipped);
    assert.equal(metrics['rejected'], expected.rejected);
    assert.equal(metrics['blank'], expected.blank);
    assert.equal(metrics['bytesRead'], expected.bytes);
    assert.ok((metrics['durationMs'] ?? 0) > 0);
  }

  test('a generated day with every edge case lands exactly as the generator expects; a second run adds nothing', async () => {
    const day = freshDay();
    const { expected } = await generateAndUpload(s3, rt.env.S3_BUCKET, { day, objects: 4, linesPerObject: 3000, gzipFraction: 0.5, seed: 7 });
    const run = await rt.client.trigger(JOB, { day });
    assert.equal(run.workflowId, `${JOB}/${day}`);
    const view = await rt.client.waitFor(JOB, run.runId);
    assert.equal(view.status, 'succeeded', view.error ?? '');
    assertMatchesExpected(await tableState(day), expected);
    assertMetrics(view.metrics, expected);

    // The service read API counts what the ingest wrote, through the same domain module.
    const [notificationId, count] = Object.entries(expected.perNotification)[0]!;
    const api = apiClient(base, 'test-token-123');
    const read = await api.GET('/notifications/{id}/views', { params: { path: { id: notificationId }, query: { day } } });
    assert.equal(read.response.status, 200);
    assert.equal(read.data?.total, count);
    const impossible = await api.GET('/notifications/{id}/views', { params: { path: { id: 'x' }, query: { day: '2024-02-30' } } });
    assert.equal(impossible.response.status, 400);
    assert.match(impossible.error?.message ?? '', /day/);

    // A second trigger of the succeeded day re-reads it and writes nothing twice.
    const again = await rt.client.trigger(JOB, { day });
    const second = await rt.client.waitFor(JOB, again.runId);
    assert.equal(second.status, 'succeeded');
    assertMatchesExpected(await tableState(day), expected);
    assert.equal(second.metrics['rowsWritten'], 0);
    assert.equal(second.metrics['duplicates'], expected.views + expected.duplicates);
  });

  test('a day without its _SUCCESS marker is not ingested, with a message naming what is missing', async () => {
    const day = freshDay();
    const run = await rt.client.trigger(JOB, { day });
    const msg = await eventually('the readiness check to fail once', async () => {
      const d = await rt.client.temporal.workflow.getHandle(run.workflowId).describe();
      return d.raw.pendingActivities?.[0]?.lastFailure?.message ?? undefined;
    });
    assert.match(msg, new RegExp(`day ${day} is not ready: s3://.*/notification-logs/day=${day}/_SUCCESS does not exist yet`));
    await rt.client.cancel(JOB, run.runId);
    const view = await rt.client.waitFor(JOB, run.runId);
    assert.equal(view.status, 'cancelled');
    assert.equal((await tableState(day)).views, 0);
  });

  test('kill -9 of the worker five times during a multi-object day: the same rows, rejects and metrics as a clean run', async () => {
    const job = 'test_ingest_fast_failover';
    const day = freshDay();
    const { expected } = await generateAndUpload(s3, rt.env.S3_BUCKET, { day, objects: 6, linesPerObject: 50_000, gzipFraction: 0.34, seed: 11 });
    const run = await rt.client.trigger(job, { day, parallelism: 2 });
    const kills: number[] = [];
    // Kill points by committed progress (the checkpoints), not by time, so each of the five lands mid-day however fast
    // this machine ingests. Not by the live linesRead metric: it is flushed at most once a second and each kill loses
    // what was not flushed, so after four kills the day could finish before the metric reached the last mark.
    const committedLines = async (): Promise<number> => {
      const rows: { lines: string }[] = await rt.ds.query(
        `SELECT coalesce(sum(line_number), 0) AS lines FROM ingest_objects WHERE day = $1`,
        [day],
      );
      return Number(rows[0]!.lines);
    };
    for (const share of [0.1, 0.25, 0.4, 0.55, 0.7]) {
      const at = Math.floor(share * expected.lines);
      const reached = await eventually(`committed lines to pass ${at}`, async () => {
        const lines = await committedLines();
        if (lines >= at) return lines;
        const s = await rt.client.status(job, run.runId);
        return s.status !== 'running' ? -1 : undefined;
      }, 180_000, 50);
      if (reached < 0) break;
      await new Promise((r) => setTimeout(r, Math.floor(Math.random() * 300)));
      kills.push(reached);
      // The worker is the one started last and still running: had it died on its own, this would not be a kill.
      assert.ok(worker.alive(), `worker ${worker.pid} died before its kill:\n${worker.output().slice(-3000)}`);
      await worker.kill9();
      worker = await startWorker();
    }
    console.log(`killed the worker ${kills.length} times, at committed lines ${kills.join(', ')}`);
    assert.equal(kills.length, 5, 'the day was still running for all five kills');
    const view = await rt.client.waitFor(job, run.runId);
    assert.ok(worker.alive(), `the last replacement ${worker.pid} died:\n${worker.output().slice(-3000)}`);
    assert.equal(view.status, 'succeeded', view.error ?? '');
    assertMatchesExpected(await tableState(day), expected);
    assertMetrics(view.metrics, expected);
    const dupRejects = await rt.ds.query(
      `SELECT object_key, line_number FROM ingest_rejects WHERE day = $1 GROUP BY 1, 2 HAVING count(*) > 1`,
      [day],
    );
    assert.equal(dupRejects.length, 0);
  });

  test('kill -9 mid-day of a worker running the shipped ingest definition: its heartbeat timeout moves the work, the other worker finishes it exactly', async () => {
    // The shipped definition and its policies (30 s heartbeat timeout, 10 activity attempts, 2 job retries), on two
    // workers; the one running an object's activity is killed and nothing replaces it.
    const day = freshDay();
    const { expected } = await generateAndUpload(s3, rt.env.S3_BUCKET, { day, objects: 4, linesPerObject: 60_000, gzipFraction: 0.25, seed: 13 });
    const second = await startWorker();
    const workers = [worker, second];
    const run = await rt.client.trigger(JOB, { day, parallelism: 2 });
    const committed = async () =>
      Number(((await rt.ds.query(`SELECT coalesce(sum(line_number), 0) AS n FROM ingest_objects WHERE day = $1`, [day])) as { n: string }[])[0]!.n);
    await eventually('a quarter of the day committed', async () => (await committed()) >= expected.lines / 4, 300_000, 50);
    // The worker an object's activity is running on, as Temporal records it (identity pid@host).
    const batch = `${run.workflowId}/attempt-1/batch-0`;
    const victim = await eventually('an ingestObject activity running on one of the two workers', async () => {
      const d = await rt.client.temporal.workflow.getHandle(batch).describe();
      const ids = (d.raw.pendingActivities ?? []).map((a) => a.lastWorkerIdentity ?? '');
      return workers.find((w) => ids.some((id) => id.startsWith(`${w.pid}@`)));
    }, 60_000, 50);
    const survivor = workers.find((w) => w !== victim)!;
    const atKill = await committed();
    assert.ok(atKill < expected.lines, 'the kill must land mid-day: use a bigger day');
    for (const w of workers) assert.ok(w.alive(), `worker ${w.pid} died before the kill:\n${w.output().slice(-3000)}`);
    await victim.kill9();
    worker = survivor; // what the later tests of this file use; nothing replaces the victim
    const view = await eventually(`${JOB}/${day} to finish on the surviving worker`, async () => {
      assert.ok(survivor.alive(), `the surviving worker ${survivor.pid} died:\n${survivor.output().slice(-3000)}`);
      const v = await rt.client.status(JOB, run.runId);
      return v.status !== 'running' ? v : undefined;
    }, 600_000, 500);
    assert.ok(survivor.alive(), `the surviving worker ${survivor.pid} died:\n${survivor.output().slice(-3000)}`);
    assert.equal(view.status, 'succeeded', view.error ?? '');
    assert.equal(view.attempt, 1, 'the activity retry moved the work; the job did not need a retry of its own');
    assertMatchesExpected(await tableState(day), expected);
    assertMetrics(view.metrics, expected);
    // The history says how the work moved: an ingestObject attempt after the first, for its heartbeat timeout.
    const events = (await rt.client.temporal.workflow.getHandle(batch).fetchHistory()).events ?? [];
    const retried = events
      .map((e) => e.activityTaskStartedEventAttributes)
      .filter((a) => (a?.attempt ?? 1) > 1)
      .map((a) => a!.lastFailure?.message ?? '');
    assert.ok(retried.some((m) => /heartbeat/i.test(m)), `an activity retried after its heartbeat timeout (retries: ${JSON.stringify(retried)})`);
    console.log(`killed worker ${victim.pid} at ${atKill}/${expected.lines} committed lines; ${retried.length} activity attempt(s) after the first, on worker ${survivor.pid}`);
  });

  test('one chunk statement: a zombie attempt that waited on the checkpoint lock writes nothing; times land exact', async () => {
    const day = freshDay();
    const obj = { day, chainId: 'chain-zombie', key: `notification-logs/day=${day}/zombie.jsonl`, runId: 'run-zombie' };
    await rt.ds.query(`INSERT INTO ingest_objects (day, object_key, chain_id, batch, size_bytes) VALUES ($1, $2, $3, 0, 1000)`, [
      day,
      obj.key,
      obj.chainId,
    ]);
    // The extremes the parser lets through, and an ordinary instant with milliseconds.
    const times = ['0001-01-01T00:00:00.000Z', '9999-12-31T23:59:59.999Z', '2024-05-01T12:34:56.789Z'];
    const chunk = (expectLine: number, ids: string[]): ChunkWrite => ({
      expectLine,
      offset: (expectLine + 3) * 10,
      lineNumber: expectLine + 3,
      views: ids.map((eventId, i) => ({ eventId, notificationId: 'n"1\\', userId: 'u,1', platform: 'ios', viewedAt: new Date(times[i]!), day })),
      rejects: [{ lineNumber: expectLine + 3, reason: 'r', raw: 'x' }],
      lines: 3,
      bytes: 30,
      skipped: 0,
      blank: 0,
      duplicatesInChunk: 0,
    });
    const qa = rt.ds.createQueryRunner();
    const qb = rt.ds.createQueryRunner();
    const a = (await qa.connect()) as PoolClient;
    const b = (await qb.connect()) as PoolClient;
    try {
      const first = [randomUUID(), randomUUID()];
      assert.equal((await writeChunk(a, obj, prepareChunk(obj, chunk(0, first)))).rowsWritten, 2);
      // Attempt A holds the checkpoint (line 3) in an open transaction and moves it; B, a zombie of the same chunk
      // (expecting line 3 too), must wait for A, then see the moved line and write nothing.
      await a.query('BEGIN');
      await a.query(`UPDATE ingest_objects SET line_number = 6 WHERE day = $1 AND object_key = $2`, [day, obj.key]);
      const zombieIds = [randomUUID(), randomUUID(), randomUUID()];
      const zombie = writeChunk(b, obj, prepareChunk(obj, chunk(3, zombieIds))).then(
        () => 'wrote',
        (err: { type?: string }) => err.type,
      );
      const waiting = await eventually('the zombie to wait on the checkpoint lock', async () => {
        const rows: { n: string }[] = await rt.ds.query(
          `SELECT count(*) AS n FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query LIKE '%WITH ck AS%'`,
        );
        return Number(rows[0]!.n) > 0;
      }, 10_000, 20);
      assert.ok(waiting);
      await a.query('COMMIT');
      assert.equal(await zombie, 'CheckpointMoved');
      const zombieRows: { n: string }[] = await rt.ds.query(`SELECT count(*) AS n FROM notification_views WHERE event_id = ANY($1::uuid[])`, [
        zombieIds,
      ]);
      assert.equal(Number(zombieRows[0]!.n), 0, 'the zombie inserted no rows');
      const ck: { line_number: string; chunks: number }[] = await rt.ds.query(
        `SELECT line_number, chunks FROM ingest_objects WHERE day = $1 AND object_key = $2`,
        [day, obj.key],
      );
      assert.deepEqual([Number(ck[0]!.line_number), ck[0]!.chunks], [6, 1], 'the zombie left the checkpoint alone');
      const rejects: { line_number: string }[] = await rt.ds.query(`SELECT line_number FROM ingest_rejects WHERE day = $1 ORDER BY 1`, [day]);
      assert.deepEqual(rejects.map((r) => Number(r.line_number)), [3], 'only the first chunk quarantined its line');
      // The chunk from the moved checkpoint goes through; its already-written first row counts as a duplicate.
      const next = await writeChunk(b, obj, prepareChunk(obj, chunk(6, [first[0]!, randomUUID(), randomUUID()])));
      assert.deepEqual([next.rowsWritten, next.duplicates], [2, 1]);
      // In microseconds: a conversion through a double drifts by a few of them near the year 9999.
      const stored: { us: string }[] = await rt.ds.query(
        `SELECT (extract(epoch FROM viewed_at) * 1000000)::text AS us FROM notification_views WHERE day = $1 ORDER BY viewed_at`,
        [day],
      );
      assert.deepEqual(
        stored.map((r) => BigInt(r.us.replace(/\.0*$/, ''))),
        [times[0], times[2], times[1], times[1]].map((t) => BigInt(Date.parse(t!)) * 1000n),
        'times stored exactly',
      );
      const ids: { notification_id: string; user_id: string }[] = await rt.ds.query(
        `SELECT DISTINCT notification_id, user_id FROM notification_views WHERE day = $1`,
        [day],
      );
      assert.deepEqual(ids, [{ notification_id: 'n"1\\', user_id: 'u,1' }]);
    } finally {
      await a.query('ROLLBACK').catch(() => undefined);
      await qa.release();
      await qb.release();
    }
  });

  test('a day of 2,500 objects completes, listed across pages and fanned out over child workflows', async () => {
    const day = freshDay();
    const { expected } = await generateAndUpload(s3, rt.env.S3_BUCKET, { day, objects: 2500, linesPerObject: 4, gzipFraction: 0.1, seed: 3 });
    const run = await rt.client.trigger(JOB, { day, parallelism: 8 });
    const view = await rt.client.waitFor(JOB, run.runId);
    assert.equal(view.status, 'succeeded', view.error ?? '');
    assertMatchesExpected(await tableState(day), expected);
    assertMetrics(view.metrics, expected);
    const children = await rt.client.temporal.workflow.count(`WorkflowId STARTS_WITH "${run.workflowId}/attempt-1/batch-"`);
    assert.equal(children.count, 25, 'one child workflow per 100 objects');
  });

  test('the worker streams: RSS stays under 300 MB while ingesting one large object', async () => {
    // A fresh worker, as an operator would watch one; the earlier tests' workflows stay in the shared one's cache.
    await worker.stop();
    worker = await startWorker();
    const day = freshDay();
    const { expected } = await generateAndUpload(s3, rt.env.S3_BUCKET, { day, objects: 1, targetBytes: 64 * 1024 ** 2, gzipFraction: 0, seed: 9 });
    const rss = sampleRss(worker.pid);
    const run = await rt.client.trigger(JOB, { day });
    const view = await rt.client.waitFor(JOB, run.runId);
    const peak = rss.stop();
    console.log(`one ${(expected.bytes / 1024 ** 2).toFixed(0)} MiB object: worker peak RSS ${peak.toFixed(0)} MiB`);
    assert.equal(view.status, 'succeeded', view.error ?? '');
    assert.equal(view.metrics['linesRead'], expected.lines);
    assert.ok(peak < 300, `peak RSS ${peak.toFixed(0)} MiB`);
  });

  test('backfill runs one ingest per day, then skips the days that succeeded', async () => {
    const first = freshDay();
    const last = new Date(Date.parse(`${first}T00:00:00Z`) + 2 * 86_400_000).toISOString().slice(0, 10);
    const days = daysBetween(first, last);
    for (const [i, day] of days.entries()) {
      await generateAndUpload(s3, rt.env.S3_BUCKET, { day, objects: 1, linesPerObject: 200, seed: 20 + i });
    }
    const deps = { temporal: rt.temporal, jobs: rt.jobs, taskQueue: rt.env.TEMPORAL_TASK_QUEUE };
    const started = await startBackfill(deps, JOB, { from: first, to: last, concurrency: 2 });
    const done = await waitForBackfill(deps, JOB, started.id);
    assert.equal(done.status, 'completed', done.error ?? '');
    assert.deepEqual(done.progress?.counts, { skipped: 0, succeeded: 3, failed: 0, cancelled: 0, timed_out: 0 });
    for (const day of days) {
      const rows = (await rt.ds.query(`SELECT status FROM job_runs WHERE workflow_id = $1`, [`${JOB}/${day}`])) as { status: string }[];
      assert.deepEqual(rows.map((r) => r.status), ['succeeded'], `${day}: one run`);
    }
    const again = await waitForBackfill(deps, JOB, (await startBackfill(deps, JOB, { from: first, to: last, concurrency: 2 })).id);
    assert.deepEqual(again.progress?.counts, { skipped: 3, succeeded: 0, failed: 0, cancelled: 0, timed_out: 0 });
  });
});
