import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, test } from 'node:test';
import { REPO, uniqueTag, useStackEnv } from '../support/stack';

useStackEnv();

import { GetObjectCommand, ListObjectsV2Command, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import type { DataSource } from 'typeorm';
import { env } from '../../config/env';
import { Consumer } from '@platformatic/kafka';
import { KafkaRangeReader } from '../../activities/kafkaRangeReader';
import { kafkaClientOptions } from '../../connections/kafka';
import { KafkaTools } from '../../connections/kafkaTools';
import { createS3Client } from '../../connections/s3';
import { migrate, openDatabase } from '../../db/dataSource';
import { JobRunEntity, type JobRun } from '../../db/entities/jobRun';
import { Connection } from '@temporalio/client';
import { temporalConnectionOptions } from '../../client/temporalConnection';

describe('smoke: each service of the local stack, through the libraries the project uses', { timeout: 180_000 }, () => {
  let ds: DataSource;
  let s3: S3Client;

  before(async () => {
    ds = await openDatabase(env().DATABASE_URL);
    s3 = createS3Client(env());
  });
  after(async () => {
    await ds.destroy();
    s3.destroy();
  });

  test('TypeORM migrations are applied idempotently and a row round-trips', async () => {
    assert.deepEqual(await migrate(ds), [], 'a second migrate applies nothing');
    const tables = (await ds.query(`SELECT tablename FROM pg_tables WHERE schemaname = 'public'`)) as { tablename: string }[];
    for (const t of ['job_runs', 'notification_views', 'ingest_rejects', 'curated_program_events', 'kafka_dead_letters']) {
      assert.ok(tables.some((r) => r.tablename === t), `table ${t}`);
    }
    const repo = ds.getRepository<JobRun>(JobRunEntity);
    const runId = uniqueTag('smoke');
    await repo.insert({
      jobName: 'smoke', workflowId: 'smoke', runId, firstRunId: runId, attempt: 1, status: 'succeeded',
      args: { day: '2024-05-01' }, startedAt: new Date(), metrics: { rows: 3 }, updatedAt: new Date(),
    });
    const back = await repo.findOneByOrFail({ runId });
    assert.deepEqual(back.args, { day: '2024-05-01' });
    assert.deepEqual(back.metrics, { rows: 3 });
    await repo.delete({ runId });
  });

  test('S3: put, list with pagination, ranged get', async () => {
    const prefix = `smoke/${uniqueTag('s3')}/`;
    const bucket = env().S3_BUCKET;
    for (let i = 0; i < 7; i++) {
      await s3.send(new PutObjectCommand({ Bucket: bucket, Key: `${prefix}obj-${i}.txt`, Body: `object number ${i}` }));
    }
    const keys: string[] = [];
    let token: string | undefined;
    let pages = 0;
    do {
      const page = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, MaxKeys: 3, ContinuationToken: token }));
      keys.push(...(page.Contents ?? []).map((o) => o.Key!));
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
      pages++;
    } while (token);
    assert.equal(keys.length, 7);
    assert.equal(pages, 3);
    const ranged = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: `${prefix}obj-4.txt`, Range: 'bytes=7-12' }));
    assert.equal(await ranged.Body!.transformToString(), 'number');
  });

  test('Kafka 4 (KRaft) with @platformatic/kafka: a message is produced and consumed by a group', async () => {
    const kafka = new KafkaTools(env(), 'smoke');
    const topic = uniqueTag('smoke-topic');
    const consumer = new Consumer({ ...kafkaClientOptions(env(), 'smoke'), groupId: `${topic}-group` });
    try {
      await kafka.createTopic(topic, 1);
      await kafka.producer.send({ messages: [{ topic, key: Buffer.from('k'), value: Buffer.from('hello kafka 4') }] });
      const stream = await consumer.consume({ topics: [topic], mode: 'earliest' });
      const got = await new Promise<string>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error('no message within 60 s')), 60_000);
        stream.once('data', (m: { value: Buffer }) => {
          clearTimeout(timer);
          resolve(m.value.toString());
        });
      });
      await stream.close();
      assert.equal(got, 'hello kafka 4');
    } finally {
      await consumer.close();
      await kafka.deleteTopics([topic]).catch(() => undefined);
      await kafka.close();
    }
  });

  test('Kafka: offsets 100-149 of a partition are read without a consumer group (the ingest side\'s range reader)', async () => {
    const kafka = new KafkaTools(env(), 'smoke');
    const topic = uniqueTag('smoke-range');
    const reader = new KafkaRangeReader(env());
    try {
      await kafka.createTopic(topic, 2);
      const messages = Array.from({ length: 400 }, (_, i) => ({ topic, partition: i % 2, value: Buffer.from(`m${i}`) }));
      await kafka.producer.send({ messages });
      const groupsBefore = await kafka.admin.listGroups();
      const offsets: bigint[] = [];
      const values: string[] = [];
      for await (const chunk of reader.read(topic, 1, 100n, 149n)) {
        offsets.push(...chunk.offsets);
        values.push(...chunk.values.map((v) => v!.toString()));
      }
      // Partition 1 holds the odd messages: offset k is message 2k + 1.
      assert.deepEqual(offsets, Array.from({ length: 50 }, (_, k) => BigInt(100 + k)));
      assert.deepEqual(values, Array.from({ length: 50 }, (_, k) => `m${2 * (100 + k) + 1}`));
      assert.deepEqual([...(await kafka.admin.listGroups()).keys()].sort(), [...groupsBefore.keys()].sort(), 'no group was created');
    } finally {
      await reader.close();
      await kafka.deleteTopics([topic]).catch(() => undefined);
      await kafka.close();
    }
  });
  test('the schema registry: in `stack status` and `stack env`, on the stack\'s shifted port, listening on loopback only', async () => {
    const run = promisify(execFile);
    const { stdout } = await run('bash', [path.join(REPO, 'stack', 'stack.sh'), 'status'], { env: process.env });
    const line = stdout.split('\n').find((l) => l.startsWith('registry '));
    assert.ok(line, stdout);
    const url = env().SCHEMA_REGISTRY_URL;
    assert.match(line, new RegExp(`${url.replace(/[./]/g, '\\$&')}\\s+running \\(pid \\d+\\)\\s+healthy`));
    const offset = Number(process.env['SCHEDULED_JOB_PORT_OFFSET'] ?? 0);
    assert.equal(new URL(url).port, String(8081 + offset), 'its port moves with SCHEDULED_JOB_PORT_OFFSET as the others do');
    assert.match(url, /^http:\/\/127\.0\.0\.1:\d+\/apis\/ccompat\/v7$/);
    const pid = /running \(pid (\d+)\)/.exec(line)![1];
    const listening = (await run('ss', ['-Hltnp'])).stdout.split('\n').filter((l) => l.includes(`pid=${pid},`));
    assert.ok(listening.length > 0, 'it listens');
    for (const l of listening) assert.match(l.split(/\s+/)[3]!, /^(\[::ffff:)?127\.0\.0\.1\]?:\d+$/, `bound to loopback: ${l}`);
    const config = (await (await fetch(`${url}/config`)).json()) as { compatibilityLevel: string };
    assert.equal(config.compatibilityLevel, 'BACKWARD', 'set at set-up');
  });

  test('`stack status` names the Temporal that answers on the address: the dev server or the server, and its shards', async () => {
    const { stdout } = await promisify(execFile)('bash', [path.join(REPO, 'stack', 'stack.sh'), 'status'], { env: process.env });
    const line = stdout.split('\n').find((l) => l.startsWith('temporal '));
    assert.ok(line, stdout);
    const conn = await Connection.connect(temporalConnectionOptions(env()));
    try {
      const info = await conn.workflowService.getClusterInfo({});
      if (info.persistenceStore === 'sqlite') {
        assert.match(line, /dev server, SQLite/);
        assert.equal(info.historyShardCount, 1);
      } else {
        assert.match(info.persistenceStore ?? '', /postgres/);
        assert.match(line, new RegExp(`server ${info.serverVersion}, PostgreSQL, ${info.historyShardCount} shards`));
      }
    } finally {
      await conn.close();
    }
  });
});
