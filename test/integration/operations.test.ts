import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { freshDay } from '../support/days';
import { REPO, uniqueTag, useStackEnv } from '../support/stack';
import { startWorker, type WorkerProcess } from '../support/workerProcess';

const stack = useStackEnv({ JOBS_MODULE: path.join(REPO, 'test', 'support', 'jobs.ts') });

import { Type } from 'avsc';
import { readFileSync } from 'node:fs';
import type { DataSource } from 'typeorm';
import { writeCuratedProgramEvents } from '../../features/curatedPrograms/store';
import { replayDeadLetters } from '../../features/operations/deadLetterReplay';
import { curatedProgramConsumer } from '../../features/curatedPrograms/consumer';
import { ConsumerRegistry, SCHEMAS_DIR } from '../../consumers/registry';
import { createDataSource } from '../../db/dataSource';
import { encodeAvro } from '../../consumers/avro';
import { MAX_RAW_CHARS } from '../../features/notificationViews/parse';
import { openRuntime, type Runtime } from '../../workers/runtime';

const YEAR_DAYS = 366;

describe('operations: retention and replay on the real stack', { timeout: 600_000 }, () => {
  let rt: Runtime;
  let ingestDs: DataSource;
  let worker: WorkerProcess;

  before(async () => {
    rt = await openRuntime();
    ingestDs = createDataSource(stack['INGEST_DATABASE_URL'] ?? stack['DATABASE_URL']!, 2);
    await ingestDs.initialize();
    worker = await startWorker();
  });
  after(async () => {
    await worker?.stop();
    await ingestDs?.destroy();
    await rt?.close();
  });

  async function run(job: string, args: Record<string, unknown>) {
    const started = await rt.client.trigger(job, args);
    const view = await rt.client.waitFor(job, started.runId);
    assert.equal(view.status, 'succeeded', view.error ?? '');
    return view.metrics;
  }

  test('retention deletes, in batches, only rows past each table’s keepDays, and keeps the newest succeeded run of a workflow', async () => {
    // Ages in years past a 10-year keep, so rows of other tests and runs in the shared database are never in range.
    const keep = 10 * YEAR_DAYS;
    const old = `now() - interval '11 years'`;
    const young = `now() - interval '9 years'`;
    const tag = uniqueTag('retention');
    const day = freshDay();
    const consumer = `ret_${tag.replace(/[^a-z0-9]/g, '_')}`;
    const runRow = (suffix: string, workflow: string, status: string, when: string, finished: boolean) =>
      rt.ds.query(
        `INSERT INTO job_runs (job_name, workflow_id, run_id, first_run_id, attempt, status, started_at, finished_at)
         VALUES ('retention_test', $1, $2, $2, 1, $3, ${when}, ${finished ? when : 'NULL'})`,
        [`${tag}/${workflow}`, `${tag}-${suffix}`, status],
      );
    await runRow('a1', 'a', 'failed', old, true); // deleted
    await runRow('a2', 'a', 'succeeded', old, true); // deleted: a newer succeeded run of `a` exists
    await runRow('a3', 'a', 'succeeded', old, true); // kept: the newest succeeded run of `a`
    await runRow('a4', 'a', 'failed', young, true); // kept: young
    await runRow('b1', 'b', 'running', old, false); // kept: still running
    await runRow('c1', 'c', 'timed_out', old, true); // deleted
    await runRow('c2', 'c', 'cancelled', old, true); // deleted
    for (let i = 1; i <= 5; i++) {
      await rt.ds.query(
        `INSERT INTO ingest_rejects (day, object_key, line_number, reason, raw, created_at) VALUES ($1, $2, $3, 'test', '{}', ${i <= 3 ? old : young})`,
        [day, `${tag}.jsonl`, i],
      );
      await rt.ds.query(
        `INSERT INTO kafka_dead_letters (consumer, topic, kafka_partition, kafka_offset, reason, raw, created_at) VALUES ($1, 't', 0, $2, 'test', NULL, ${i <= 4 ? old : young})`,
        [consumer, i],
      );
      await rt.ds.query(
        `INSERT INTO ingest_objects (day, object_key, chain_id, batch, size_bytes, updated_at) VALUES ($1, $2, 'x', 0, 1, ${i <= 2 ? old : young})`,
        [day, `${tag}/${i}.jsonl`],
      );
    }

    for (let i = 1; i <= 3; i++) {
      await rt.ds.query(
        `INSERT INTO schedule_ticks (tick_run_id, tick_workflow_id, job_name, schedule_id, scheduled_at, outcome, recorded_at)
         VALUES ($1, 'tick/x', $2, 'schedule/x', ${old}, $3, ${i === 3 ? young : old})`,
        [`${tag}-tick-${i}`, `${tag}_ticks`, i === 2 ? 'buffered' : 'skipped'],
      );
    }

    const metrics = await run('retention', {
      jobRunsKeepDays: keep,
      ingestRejectsKeepDays: keep,
      deadLettersKeepDays: keep,
      ingestObjectsKeepDays: keep,
      scheduleTicksKeepDays: keep,
      batchSize: 2, // several batches per table
    });
    const left = async (sql: string, arg: string) => ((await rt.ds.query(sql, [arg])) as { k: string }[]).map((r) => r.k).sort();
    assert.deepEqual(await left(`SELECT run_id AS k FROM job_runs WHERE workflow_id LIKE $1 || '/%'`, tag), [`${tag}-a3`, `${tag}-a4`, `${tag}-b1`]);
    assert.deepEqual(await left(`SELECT line_number::text AS k FROM ingest_rejects WHERE object_key = $1`, `${tag}.jsonl`), ['4', '5']);
    assert.deepEqual(await left(`SELECT kafka_offset::text AS k FROM kafka_dead_letters WHERE consumer = $1`, consumer), ['5']);
    assert.deepEqual(await left(`SELECT object_key AS k FROM ingest_objects WHERE object_key LIKE $1 || '/%'`, tag), [3, 4, 5].map((i) => `${tag}/${i}.jsonl`));
    // an old tick goes; one still waiting for its lock and a young one stay
    assert.deepEqual(await left(`SELECT tick_run_id AS k FROM schedule_ticks WHERE job_name = $1`, `${tag}_ticks`), [`${tag}-tick-2`, `${tag}-tick-3`]);
    assert.ok(metrics['scheduleTicksDeleted']! >= 1, JSON.stringify(metrics));
    // at least ours (nothing else in the shared database is that old, unless another test backdated rows too)
    assert.ok(metrics['jobRunsDeleted']! >= 4, JSON.stringify(metrics));
    assert.ok(metrics['ingestRejectsDeleted']! >= 3, JSON.stringify(metrics));
    assert.ok(metrics['deadLettersDeleted']! >= 4, JSON.stringify(metrics));
    assert.ok(metrics['ingestObjectsDeleted']! >= 2, JSON.stringify(metrics));

    // nothing left to delete: a second pass deletes none of ours
    await run('retention', { jobRunsKeepDays: keep, ingestRejectsKeepDays: keep, deadLettersKeepDays: keep, ingestObjectsKeepDays: keep, batchSize: 2 });
    assert.equal((await left(`SELECT run_id AS k FROM job_runs WHERE workflow_id LIKE $1 || '/%'`, tag)).length, 3);
  });

  test('replay_ingest_rejects writes what the current parser accepts exactly once; running it again changes nothing', async () => {
    const day = freshDay();
    const key = `notification-logs/day=${day}/replay.jsonl`;
    const line = (eventId: string, type = 'view') =>
      JSON.stringify({ event_id: eventId, event_time: `${day}T10:00:00Z`, event_type: type, notification_id: 'n-replay', user_id: 'u1', platform: 'ios' });
    const fresh = randomUUID();
    const present = randomUUID();
    const later = randomUUID();
    // a view already in the table (say, a re-ingest of the day wrote it): replaying its reject must not add a second
    await rt.ds.query(
      `INSERT INTO notification_views (event_id, notification_id, user_id, platform, viewed_at, day) VALUES ($1, 'n-replay', 'u1', 'ios', $2, $3::date)`,
      [present, `${day}T09:00:00Z`, day],
    );
    // Rejects whose raw line is valid now: "after the fix" the current parser accepts them.
    const rejects: [number, string, string][] = [
      [1, 'invalid JSON: simulated', line(fresh)], // replayed
      [2, 'invalid JSON: simulated', line(fresh)], // the same event again: already present by then
      [3, 'invalid JSON: simulated', line(present)], // already present
      [4, 'invalid JSON: simulated', line(randomUUID(), 'click')], // valid, not a view: leaves quarantine, nothing written
      [5, 'invalid JSON: simulated', '{"event_id": '], // still invalid
      [6, 'invalid JSON: simulated', line(randomUUID()).padEnd(MAX_RAW_CHARS, ' ')], // raw may be cut: not replayable
      [7, 'missing field user_id', line(later)], // another reason: only the unfiltered run takes it
    ];
    for (const [n, reason, raw] of rejects) {
      await rt.ds.query(`INSERT INTO ingest_rejects (day, object_key, line_number, reason, raw) VALUES ($1, $2, $3, $4, $5)`, [day, key, n, reason, raw]);
    }
    const state = async () => ({
      views: ((await rt.ds.query(`SELECT event_id FROM notification_views WHERE day = $1 ORDER BY event_id`, [day])) as { event_id: string }[]).map((r) => r.event_id),
      rejects: ((await rt.ds.query(`SELECT line_number FROM ingest_rejects WHERE day = $1 ORDER BY line_number`, [day])) as { line_number: string }[]).map((r) =>
        Number(r.line_number),
      ),
    });

    const first = await run('replay_ingest_rejects', { day, reason: 'invalid JSON', batchSize: 2 });
    assert.deepEqual(
      { ...first, durationMs: undefined },
      { examined: 6, replayed: 1, alreadyPresent: 2, skipped: 1, stillRejected: 1, unreplayable: 1, durationMs: undefined },
    );
    assert.deepEqual(await state(), { views: [fresh, present].sort(), rejects: [5, 6, 7] });

    const second = await run('replay_ingest_rejects', { day });
    assert.equal(second['examined'], 3);
    assert.equal(second['replayed'], 1); // line 7, which the reason filter left out
    assert.deepEqual(await state(), { views: [fresh, present, later].sort(), rejects: [5, 6] });

    const snapshot = await state();
    const third = await run('replay_ingest_rejects', { day });
    assert.deepEqual([third['replayed'], third['alreadyPresent'], third['skipped']], [0, 0, 0]);
    assert.deepEqual(await state(), snapshot);
  });

  test('replay_dead_letters re-decodes with the consumer’s current decoder, exactly once', async () => {
    const tag = uniqueTag('dl').replace(/[^a-z0-9]/g, '_');
    const name = `dl_${tag}`;
    // Raw Avro, so the letters below are built without a registry (replay through the registry: schemaRegistry.test.ts).
    const consumers = new ConsumerRegistry([{ ...curatedProgramConsumer, name, groupId: `${name}.group`, wireFormat: 'avro-raw' }]);
    const c = consumers.get(name);
    const type = Type.forSchema(JSON.parse(readFileSync(path.join(SCHEMAS_DIR, 'CuratedProgramEvent.avsc'), 'utf8')));
    const event = (id: string) =>
      encodeAvro(type, { event_id: id, program_id: 'p', creator_id: 'c', action: 'ADDED', occurred_at: Date.now(), title: null }, { wireFormat: 'avro-raw' });
    const fresh = `${tag}-fresh`;
    const present = `${tag}-present`;
    const qr = ingestDs.createQueryRunner();
    await qr.connect();
    await writeCuratedProgramEvents(qr, [
      {
      topic: 'dl-topic',
      partition: 0,
      rows: [{ eventId: present, programId: 'p', creatorId: 'c', action: 'ADDED', occurredAt: new Date().toISOString(), title: null, offset: '0' }],
    }]);
    await qr.release();
    const letters: [number, Buffer | null][] = [
      [1, event(fresh)], // decodes now: replayed
      [2, event(present)], // decodes, already there
      [3, Buffer.from('not avro at all')], // still dead
      [4, null], // tombstone: still dead
    ];
    for (const [offset, raw] of letters) {
      await rt.ds.query(
        `INSERT INTO kafka_dead_letters (consumer, topic, kafka_partition, kafka_offset, reason, raw) VALUES ($1, 'dl-topic', 0, $2, 'simulated', $3)`,
        [name, offset, raw],
      );
    }
    const state = async () => ({
      dead: ((await rt.ds.query(`SELECT kafka_offset FROM kafka_dead_letters WHERE consumer = $1 ORDER BY 1`, [name])) as { kafka_offset: string }[]).map((r) =>
        Number(r.kafka_offset),
      ),
      events: ((await rt.ds.query(`SELECT event_id, kafka_offset FROM curated_program_events WHERE event_id LIKE $1 || '%' ORDER BY 1`, [tag])) as object[]),
    });
    // through the ingest role, as the worker runs it
    const first = await replayDeadLetters(ingestDs, c, { batchSize: 3 });
    assert.deepEqual(first, { examined: 4, replayed: 1, alreadyPresent: 1, stillDead: 2 });
    const after1 = await state();
    assert.deepEqual(after1.dead, [3, 4]);
    assert.deepEqual(after1.events, [
      { event_id: fresh, kafka_offset: '1' },
      { event_id: present, kafka_offset: '0' },
    ]);
    const second = await replayDeadLetters(ingestDs, c, { batchSize: 3 });
    assert.deepEqual(second, { examined: 2, replayed: 0, alreadyPresent: 0, stillDead: 2 });
    assert.deepEqual(await state(), after1);

    // the job: a consumer this worker does not run fails at once, naming it
    const started = await rt.client.trigger('replay_dead_letters', { consumer: name });
    const view = await rt.client.waitFor('replay_dead_letters', started.runId);
    assert.equal(view.status, 'failed');
    assert.match(view.error ?? '', new RegExp(`no consumer named ${name}`));
  });
});
