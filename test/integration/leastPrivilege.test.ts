import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { freshDay, generateAndUpload } from '../support/days';
import { REPO, uniqueTag, useStackEnv } from '../support/stack';
import { startWorker, type WorkerProcess } from '../support/workerProcess';

const stack = useStackEnv({ JOBS_MODULE: path.join(REPO, 'test', 'support', 'jobs.ts') });

import type { S3Client } from '@aws-sdk/client-s3';
import type { DataSource } from 'typeorm';
import { writeCuratedProgramEvents } from '../../features/curatedPrograms/store';
import { createS3Client } from '../../connections/s3';
import { createDataSource } from '../../db/dataSource';
import { openRuntime, type Runtime } from '../../workers/runtime';

const INGEST_URL = stack['INGEST_DATABASE_URL'];

describe('least privilege: the ingest writes through scheduled_job_ingest', { timeout: 600_000 }, () => {
  let rt: Runtime;
  let ingestDs: DataSource;
  let s3: S3Client;
  let worker: WorkerProcess | undefined;

  before(async () => {
    assert.ok(INGEST_URL, '`stack.sh env` exports INGEST_DATABASE_URL');
    rt = await openRuntime(); // migrates as the owner: the role and its grants exist from here on
    ingestDs = createDataSource(INGEST_URL, 2);
    await ingestDs.initialize();
    s3 = createS3Client(rt.env);
  });
  after(async () => {
    await worker?.stop();
    await ingestDs?.destroy();
    s3?.destroy();
    await rt?.close();
  });

  test('the stack logs the ingest in as a member of scheduled_job_ingest, which cannot log in itself', async () => {
    const [me] = await ingestDs.query(`SELECT current_user AS u, pg_has_role(current_user, 'scheduled_job_ingest', 'MEMBER') AS member`);
    assert.equal(me.u, 'scheduled_job_ingester');
    assert.equal(me.member, true);
    const [role] = await rt.ds.query(`SELECT rolcanlogin, rolsuper, rolcreaterole, rolcreatedb FROM pg_roles WHERE rolname = 'scheduled_job_ingest'`);
    assert.deepEqual(role, { rolcanlogin: false, rolsuper: false, rolcreaterole: false, rolcreatedb: false });
  });

  test('an ingest job succeeds with INGEST_DATABASE_URL: every write of the day went through the ingest role', async () => {
    worker = await startWorker({ INGEST_DATABASE_URL: INGEST_URL! });
    const day = freshDay();
    const { expected } = await generateAndUpload(s3, rt.env.S3_BUCKET, { day, objects: 3, linesPerObject: 2000, gzipFraction: 0.34, seed: 5 });
    const run = await rt.client.trigger('ingest_notification_views', { day });
    const view = await rt.client.waitFor('ingest_notification_views', run.runId);
    assert.equal(view.status, 'succeeded', view.error ?? '');
    assert.equal(view.metrics['rowsWritten'], expected.views);
    assert.equal(view.metrics['rejected'], expected.rejected);
    const [counts] = await rt.ds.query(
      `SELECT (SELECT count(*) FROM notification_views WHERE day = $1)::int AS views, (SELECT count(*) FROM ingest_rejects WHERE day = $1)::int AS rejects`,
      [day],
    );
    assert.deepEqual(counts, { views: expected.views, rejects: expected.rejected });
    // the worker holds connections as the ingest user (and the owner's, for the run log)
    const users: { usename: string }[] = await rt.ds.query(
      `SELECT DISTINCT usename FROM pg_stat_activity WHERE datname = current_database() AND application_name = 'scheduled-job'`,
    );
    assert.ok(users.some((u) => u.usename === 'scheduled_job_ingester'), JSON.stringify(users));
  });

  test('the stream writes (events, dead letters) pass through the ingest role', async () => {
    const qr = ingestDs.createQueryRunner();
    await qr.connect();
    try {
      await qr.startTransaction();
      const id = uniqueTag('lp-event');
      const n = await writeCuratedProgramEvents(qr, [
      {
        topic: 'lp-test',
        partition: 0,
        rows: [{ eventId: id, programId: 'p', creatorId: 'c', action: 'ADDED', occurredAt: new Date().toISOString(), title: null, offset: '1' }],
      }]);
      assert.equal(n, 1);
      await qr.query(
        `INSERT INTO kafka_dead_letters (consumer, topic, kafka_partition, kafka_offset, reason, raw) VALUES ($1, 'lp-test', 0, 1, 'test', '\\x00'::bytea)
         ON CONFLICT (consumer, topic, kafka_partition, kafka_offset) DO NOTHING`,
        [id],
      );
    } finally {
      await qr.rollbackTransaction().catch(() => undefined);
      await qr.release();
    }
  });

  test('the ingest role gets "permission denied" for DDL, job_runs status writes and tables outside its grants', async () => {
    const denied = async (sql: string, pattern: RegExp) => {
      await assert.rejects(ingestDs.query(sql), (err: Error) => pattern.test(err.message), sql);
    };
    // DDL
    await denied(`CREATE TABLE lp_probe (x int)`, /permission denied for schema public/);
    await denied(`CREATE SCHEMA lp_probe`, /permission denied for database/);
    await denied(`ALTER TABLE notification_views ADD COLUMN lp_probe int`, /must be owner of table notification_views/);
    await denied(`DROP TABLE ingest_rejects`, /must be owner of table ingest_rejects/);
    await denied(`CREATE INDEX lp_probe ON notification_views (platform)`, /must be owner of table notification_views/);
    // the run log: status, error, timings and new rows stay with the owner
    await denied(`UPDATE job_runs SET status = 'failed' WHERE run_id = 'lp-probe'`, /permission denied for table job_runs/);
    await denied(`UPDATE job_runs SET error = 'x', finished_at = now() WHERE run_id = 'lp-probe'`, /permission denied for table job_runs/);
    await denied(`INSERT INTO job_runs (job_name, workflow_id, run_id, first_run_id, attempt, status) VALUES ('x','x','x','x',1,'running')`, /permission denied for table job_runs/);
    await denied(`DELETE FROM job_runs`, /permission denied for table job_runs/);
    await denied(`SELECT args FROM job_runs LIMIT 1`, /permission denied for table job_runs/);
    // outside its grants, or more than it needs on its own tables
    await denied(`SELECT * FROM schema_migrations`, /permission denied for table schema_migrations/);
    await denied(`DELETE FROM notification_views WHERE false`, /permission denied for table notification_views/);
    await denied(`UPDATE notification_views SET platform = 'x' WHERE false`, /permission denied for table notification_views/);
    await denied(`TRUNCATE ingest_rejects`, /permission denied for table ingest_rejects/);
    await denied(`DELETE FROM curated_program_events WHERE false`, /permission denied for table curated_program_events/);
    // ... while the live progress it does need still works
    await ingestDs.query(`UPDATE job_runs SET metrics = metrics || '{}'::jsonb, updated_at = now() WHERE run_id = 'lp-probe'`);
  });

  test('the API refuses to start without API_TOKEN, and says how to set it', () => {
    const env: Record<string, string> = { ...stack, API_PORT: '18089' }; // never bound: the token check comes first
    delete env['API_TOKEN'];
    const r = spawnSync(path.join(REPO, 'bin', 'scheduled-job.js'), ['api'], { cwd: REPO, env, encoding: 'utf8', timeout: 60_000 });
    assert.equal(r.status, 2, r.stderr + r.stdout);
    assert.match(r.stderr, /API_TOKEN is not set: the HTTP API refuses to start without a bearer token/);
  });
});
