import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, test } from 'node:test';
import { freshDay, generateAndUpload } from '../support/days';
import { REPO, useStackEnv } from '../support/stack';
import { startWorker, type WorkerProcess } from '../support/workerProcess';

const stack = useStackEnv({ JOBS_MODULE: path.join(REPO, 'test', 'support', 'jobs.ts') });

import type { S3Client } from '@aws-sdk/client-s3';
import { createS3Client } from '../../connections/s3';
import { openRuntime, type Runtime } from '../../workers/runtime';

const run = promisify(execFile);
const JOB = 'ingest_notification_views';
const QUEUE = process.env['TEMPORAL_TASK_QUEUE']!;

/** `temporal …` as a user types it; resolves with its output whatever its exit code. */
async function temporal(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const r = await run('temporal', [...args, '--address', stack['TEMPORAL_ADDRESS']!], { env: process.env });
    return { code: 0, stdout: r.stdout, stderr: r.stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

const startByHand = (type: string, workflowId: string, input: unknown) =>
  temporal('workflow', 'start', '--type', type, '--task-queue', QUEUE, '--workflow-id', workflowId, '--input', JSON.stringify(input));

describe('the workflow ID is the lock, whoever starts the run', { timeout: 600_000 }, () => {
  let rt: Runtime;
  let s3: S3Client;
  let worker: WorkerProcess;

  before(async () => {
    rt = await openRuntime();
    s3 = createS3Client(rt.env);
    worker = await startWorker();
  });
  after(async () => {
    await worker?.stop();
    s3?.destroy();
    await rt?.close();
  });

  /** The workflow's failure as the server recorded it, and how long it took from the start to close. */
  async function closedFailure(workflowId: string): Promise<{ status: string; message: string; seconds: number }> {
    const result = await temporal('workflow', 'result', '--workflow-id', workflowId);
    assert.notEqual(result.code, 0, `${workflowId} must not succeed:\n${result.stdout}`);
    const d = await rt.temporal.workflow.getHandle(workflowId).describe();
    const history = await rt.temporal.workflow.getHandle(workflowId).fetchHistory();
    const failed = history.events?.find((e) => e.workflowExecutionFailedEventAttributes)?.workflowExecutionFailedEventAttributes;
    return {
      status: d.status.name,
      message: `${failed?.failure?.applicationFailureInfo?.type}: ${failed?.failure?.message}`,
      seconds: (d.closeTime!.getTime() - d.startTime.getTime()) / 1000,
    };
  }

  const countFor = async (table: string, day: string) =>
    Number(((await rt.ds.query(`SELECT count(*)::int AS n FROM ${table} WHERE day = $1`, [day])) as { n: number }[])[0]!.n);

  test('a temporal CLI start under the job name alone is refused at once, writes nothing of the day, and the right start then runs', async () => {
    const day = freshDay();
    const generated = await generateAndUpload(s3, rt.env.S3_BUCKET, { day, objects: 2, linesPerObject: 2000, seed: 16 });
    const wrongId = `${JOB}-${day}-by-hand`;
    const started = await startByHand('scheduledJob', wrongId, { job: JOB, args: { day } });
    assert.equal(started.code, 0, started.stderr);

    const refused = await closedFailure(wrongId);
    assert.equal(refused.status, 'FAILED');
    assert.match(refused.message, new RegExp(`^WrongWorkflowId: .*must be started under workflow ID "${JOB}/${day}"`));
    assert.ok(refused.seconds < 10, `refused after ${refused.seconds} s`);

    // The refusal is the only trace: no plan, no rows, no rejects, and its own run-log row says why.
    for (const table of ['notification_views', 'ingest_rejects', 'ingest_objects']) {
      assert.equal(await countFor(table, day), 0, `${table} rows for ${day}`);
    }
    const logged = (await rt.ds.query(`SELECT workflow_id, status, error FROM job_runs WHERE args->>'day' = $1`, [day])) as {
      workflow_id: string;
      status: string;
      error: string;
    }[];
    assert.equal(logged.length, 1);
    assert.equal(logged[0]!.workflow_id, wrongId);
    assert.equal(logged[0]!.status, 'failed');
    assert.match(logged[0]!.error, /^WrongWorkflowId: /);

    const right = await startByHand('scheduledJob', `${JOB}/${day}`, { job: JOB, args: { day } });
    assert.equal(right.code, 0, right.stderr);
    const done = await temporal('workflow', 'result', '--workflow-id', `${JOB}/${day}`);
    assert.equal(done.code, 0, done.stdout + done.stderr);
    assert.equal(await countFor('notification_views', day), generated.expected.views);
    assert.equal(await countFor('ingest_rejects', day), generated.expected.rejected);
  });

  test('a start whose lock-key argument comes from the defaults is refused under the bare job name too', async () => {
    // example_flaky's lock key `tag` defaults to "default": its lock is example_flaky/default, not example_flaky.
    const refused = await startByHand('scheduledJob', `example_flaky`, { job: 'example_flaky', args: { failAttempts: 0 } });
    assert.equal(refused.code, 0, refused.stderr);
    const failure = await closedFailure('example_flaky');
    assert.match(failure.message, /^WrongWorkflowId: .*"example_flaky\/default"/);
  });

  test('consumer and ingest workflows started under another ID fail at once, naming their lock', async () => {
    const consumerId = `consumer-curated_program-${Date.now()}`;
    const consumer = await startByHand('kafkaConsumer', consumerId, { consumer: 'curated_program', settings: {} });
    assert.equal(consumer.code, 0, consumer.stderr);
    assert.match(
      (await closedFailure(consumerId)).message,
      /^WrongWorkflowId: consumer curated_program must run under workflow ID "consumer\/curated_program"/,
    );

    const ingestId = `ingest/curated_program/no-partition-${Date.now()}`;
    const ingest = await startByHand('consumerIngest', ingestId, { consumer: 'curated_program', handler: 'curated_program', settings: {} });
    assert.equal(ingest.code, 0, ingest.stderr);
    assert.match((await closedFailure(ingestId)).message, /^WrongWorkflowId: .*"ingest\/curated_program\/<topic>\/<partition>"/);
  });

  test('the workers publish their definitions, which `temporal workflow query` reads', async () => {
    const q = await temporal('workflow', 'query', '--workflow-id', `catalog/${QUEUE}`, '--type', 'jobs', '--output', 'json');
    assert.equal(q.code, 0, q.stderr);
    const body = JSON.parse(q.stdout) as { queryResult: { jobs: { name: string; lockKey: string[]; defaultArgs: object }[] }[] };
    const jobs = Object.fromEntries(body.queryResult[0]!.jobs.map((j) => [j.name, j]));
    assert.deepEqual(jobs[JOB]!.lockKey, ['day']);
    assert.deepEqual(jobs['example_flaky']!.lockKey, ['tag']);
    assert.deepEqual(jobs['example_flaky']!.defaultArgs, { failAttempts: 2, tag: 'default' });
    assert.ok(jobs['test_steps'], 'the worker publishes the jobs it runs (here the test module), not a fixed list');
  });
});
