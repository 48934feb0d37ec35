/**
 * Hostile input on the real stack (issue 8): a fuzzed HTTP API, fuzzed log lines in S3, S3 keys with odd characters,
 * and fuzzed Avro messages on a real topic. Every case must end as a clear 4xx or as exactly one row or quarantine
 * row with a reason: never a 500, a crash, a lost line or message, or a duplicate. The figures table is computed
 * from what the stores hold, and printed at the end.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import http from 'node:http';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { gzipSync } from 'node:zlib';
import fc from 'fast-check';
import { freshDay } from '../support/days';
import { avroMessageArb, countLines, joinLines, logLineArb, type HostileLine, type HostileMessage } from '../support/hostile';
import { refDecodeCurated } from '../support/referenceAvro';
import { refReadObject } from '../support/referenceLogLines';
import { eventually, REPO, uniqueTag, useStackEnv } from '../support/stack';
import { startApi, type ApiProcess } from '../support/apiProcess';
import { startWorker, type WorkerProcess } from '../support/workerProcess';

const TAG = uniqueTag('hx').replace(/-/g, '_');
const TOKEN = `hostile-${TAG}`;
const consumerName = TAG;
const topic = `hostile-input.${TAG}`;
const group = `${topic}.group`;
const consumerEnv = { TEST_CONSUMER_NAME: consumerName, TEST_CONSUMER_TOPIC: topic, TEST_CONSUMER_GROUP: group, TEST_CONSUMER_BATCH_SIZE: '40' };
useStackEnv({
  JOBS_MODULE: path.join(REPO, 'test', 'support', 'jobs.ts'),
  CONSUMERS_MODULE: path.join(REPO, 'test', 'support', 'consumers.ts'),
  API_TOKEN: TOKEN,
});
// Input handling is under test here, not the ingest role (leastPrivilege.test.ts covers that): write as the owner.
delete process.env['INGEST_DATABASE_URL'];

import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { ProduceAcks } from '@platformatic/kafka';
import { apiClient } from '../../client/apiClient';
import { KafkaTools } from '../../connections/kafkaTools';
import { createS3Client } from '../../connections/s3';
import { consumerWorkflowId, ingestWorkflowId } from '../../workflows/consumerIds';
import { consumerStatusQuery, ingestProgressQuery } from '../../workflows/consumerSignals';
import { dayPrefix, successMarkerKey } from '../../domain/day';
import { openRuntime, type Runtime } from '../../workers/runtime';

const SEED = 8_2026;
const JOB = 'ingest_notification_views';

interface Figure {
  input: string;
  tried: number;
  lost: number;
  duplicated: number;
}
const figures: Figure[] = [];

// --- the API as a real process -------------------------------------------------------------------------------------

interface HttpCase {
  cls: string;
  method: string;
  path: string;
  headers: Record<string, string>;
  body?: Buffer;
}

const agent = new http.Agent({ keepAlive: true, maxSockets: 4 });
function send(base: URL, c: HttpCase): Promise<{ status: number; type: string; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      { host: base.hostname, port: base.port, method: c.method, path: c.path, headers: { ...c.headers, ...(c.body ? { 'content-length': String(c.body.length) } : {}) }, agent },
      (res) => {
        const parts: Buffer[] = [];
        res.on('data', (d: Buffer) => parts.push(d));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, type: String(res.headers['content-type'] ?? ''), body: Buffer.concat(parts).toString('utf8') }));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(c.body);
  });
}

// --- HTTP cases: each one has at least one defect, so none may start a run ----------------------------------------

const HOSTILE_NAMES = [
  '../',
  '../../etc/passwd',
  '..%2f..%2f',
  '%2e%2e',
  "'; drop table job_runs;--",
  'example_steps; DROP TABLE job_runs',
  'ユニコード',
  'Zoë',
  '😀',
  'EXAMPLE_STEPS',
  'example_steps ',
  ' ',
  'a'.repeat(3000),
  '%',
  '?x=1',
  '#frag',
  '\u0000',
  'example_steps\u0000',
  '\u202e',
  '__proto__',
  'constructor',
];
const RAW_SEGMENTS = ['..', '%2e%2e', '%2E%2E%2F', '%00', '%zz', '%ED%A0%80', '%C0%AF', '.%2e', '%252e%252e'];
const BAD_DAYS = ['2026-02-30', '2023-02-29', '0000-01-01', '2024-13-01', '2024-00-10', '2024-1-1', '24-01-01', '2024-01-01T00:00:00Z', ' 2024-01-01', '２０２４-01-01', '2024-01-01\u0000', '', '2024-02-30\'; drop table job_runs;--'];
const VALID_ARGS: Record<string, Record<string, unknown>> = {
  example_steps: { steps: 1, stepMs: 0 },
  example_flaky: { failAttempts: 0, tag: `hx-${TAG}` },
  ingest_notification_views: { day: '2024-05-01' },
};
const JOBS = Object.keys(VALID_ARGS);

function httpCaseArb(): fc.Arbitrary<HttpCase> {
  const auth = { authorization: `Bearer ${TOKEN}` };
  const json = { ...auth, 'content-type': 'application/json' };
  const seg = fc.oneof(fc.constantFrom(...HOSTILE_NAMES).map(encodeURIComponent), fc.constantFrom(...RAW_SEGMENTS));
  const job = fc.constantFrom(...JOBS);
  const jsonBody = (v: unknown) => Buffer.from(JSON.stringify(v));
  const trigger = (cls: string, body: fc.Arbitrary<[string, Buffer]>, headers: Record<string, string> = json) =>
    body.map(([j, b]) => ({ cls, method: 'POST', path: `/jobs/${j}/runs`, headers, body: b }));
  const hostileValue = fc.oneof(
    fc.constantFrom(...HOSTILE_NAMES, ...BAD_DAYS),
    fc.string({ unit: 'binary', maxLength: 30 }),
    fc.jsonValue({ maxDepth: 3 }),
  );
  const nested = (depth: number) => '['.repeat(depth) + ']'.repeat(depth);

  return fc.oneof(
    // malformed JSON
    trigger(
      'malformed JSON',
      fc.tuple(job, fc.oneof(
        fc.constantFrom('{', '{"args":', 'nul', '{"args":{}}}', "{'args':{}}", '\u0000', '{"args":{"steps":1,}}', '[', '{"args":NaN}', '{"args":{"x":"\\ud800"'),
        fc.tuple(job, fc.nat()).map(([j, n]) => {
          const s = JSON.stringify({ args: VALID_ARGS[j] });
          return s.slice(0, n % s.length);
        }),
      )).map(([j, s]) => [j, Buffer.from(s)] as [string, Buffer]),
    ),
    // bodies over the 64 KiB limit
    trigger('huge body', fc.tuple(job, fc.integer({ min: 65 * 1024, max: 400 * 1024 })).map(([j, n]) => [j, Buffer.from(`{"args":{"x":"${'a'.repeat(n)}"}}`)] as [string, Buffer])),
    // unknown fields, at the top and in args
    trigger(
      'unknown fields',
      fc.tuple(job, fc.constantFrom('extra', 'dya', 'Steps', 'x\u0000', 'ユ', '__proto__x', 'constructor'), hostileValue, fc.boolean()).map(([j, k, v, top]) => [
        j,
        jsonBody(top ? { args: VALID_ARGS[j], [k]: v ?? 1 } : { args: { ...VALID_ARGS[j], [k]: v ?? 1 } }),
      ] as [string, Buffer]),
    ),
    // wrong types
    trigger(
      'wrong types',
      fc.tuple(job, fc.constantFrom<unknown>([], 'x', 1, null, true, [VALID_ARGS['example_steps']], nested(50)), fc.boolean()).map(([j, v, whole]) => {
        if (whole) return [j, jsonBody({ args: v })] as [string, Buffer];
        const key = Object.keys(VALID_ARGS[j]!)[0]!;
        const wrong = { steps: '5', stepMs: -1, failAttempts: 1.5, tag: 42, day: 20240501 }[key] ?? v;
        return [j, jsonBody({ args: { ...VALID_ARGS[j], [key]: wrong } })] as [string, Buffer];
      }),
    ),
    trigger('wrong types', fc.constantFrom('1e309', '-0', '5e-324').map((n) => ['example_steps', Buffer.from(`{"args":{"steps":${n},"stepMs":0}}`)] as [string, Buffer])),
    trigger('deep nesting', fc.integer({ min: 100, max: 5000 }).map((d) => ['example_steps', Buffer.from(`{"args":{"steps":1,"stepMs":0,"deep":${nested(d)}}}`)] as [string, Buffer])),
    // impossible dates
    trigger('impossible dates', fc.constantFrom(...BAD_DAYS).map((d) => [JOB, jsonBody({ args: { day: d } })] as [string, Buffer])),
    // hostile lock-key values and unicode
    trigger(
      'hostile lock-key values',
      fc.tuple(fc.constantFrom(...HOSTILE_NAMES, ''), fc.constantFrom('test_steps', 'example_flaky')).map(([v, j]) => [
        j,
        // example_flaky's tag allows [A-Za-z0-9_.-]: `__proto__` is a fine tag there, so it gets a path character.
        jsonBody({ args: j === 'test_steps' ? { steps: 1, stepMs: 0, tag: v === '' ? 'x'.repeat(2000) : `${v}\u0000` } : { failAttempts: 0, tag: /^[\w.-]+$/.test(v) ? `${v}/..` : v } }),
      ] as [string, Buffer]),
    ),
    trigger('prototype pollution', fc.constantFrom('{"__proto__":{"args":{}}}', '{"args":{"__proto__":{"steps":1}}}', '{"constructor":{"prototype":{"x":1}}}').map((s) => ['example_steps', Buffer.from(s)] as [string, Buffer])),
    // wrong content types (with a body that is otherwise invalid too)
    fc.tuple(job, fc.constantFrom('text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', 'application/xml', 'application/json-patch+json', 'image/png', ';;;', 'application/json; charset=utf-16')).map(([j, type]) => ({
      cls: 'wrong content type',
      method: 'POST',
      path: `/jobs/${j}/runs`,
      headers: { ...auth, 'content-type': type },
      body: Buffer.from(`args[x]=1&${JSON.stringify({ args: VALID_ARGS[j] }).slice(1)}`),
    })),
    // missing or odd auth on a request that would otherwise start a run
    fc.tuple(job, fc.constantFrom<Record<string, string>>(
      {},
      { authorization: '' },
      { authorization: 'Bearer' },
      { authorization: 'Bearer ' },
      { authorization: `bearer ${TOKEN}` },
      { authorization: `Bearer  ${TOKEN}` },
      { authorization: `Basic ${Buffer.from(`user:${TOKEN}`).toString('base64')}` },
      { authorization: `Bearer ${TOKEN.slice(0, -1)}` },
      { authorization: `Bearer ${'x'.repeat(8000)}` },
      { 'x-api-token': TOKEN },
    )).map(([j, h]) => ({ cls: 'missing or odd auth', method: 'POST', path: `/jobs/${j}/runs`, headers: { 'content-type': 'application/json', ...h }, body: jsonBody({ args: VALID_ARGS[j] }) })),
    // job names with path or SQL characters, on every route
    fc.tuple(seg, fc.constantFrom('trigger', 'status', 'runs', 'cancel')).map(([s, route]) => ({
      cls: 'job names with path/SQL characters',
      method: route === 'trigger' || route === 'cancel' ? 'POST' : 'GET',
      path: route === 'trigger' ? `/jobs/${s}/runs` : route === 'status' ? `/jobs/${s}/runs/x` : route === 'cancel' ? `/jobs/${s}/runs/x/cancel` : `/jobs/${s}/runs`,
      headers: route === 'trigger' ? json : auth,
      ...(route === 'trigger' ? { body: jsonBody({ args: VALID_ARGS['example_steps'] }) } : {}),
    })),
    // run ids that do not exist, with path, SQL and odd characters
    fc.tuple(job, fc.oneof(seg, fc.uuid(), fc.string({ unit: 'grapheme', minLength: 1, maxLength: 20 }).map(encodeURIComponent)), fc.boolean()).map(([j, id, cancel]) => ({
      cls: 'unknown or hostile run ids',
      method: cancel ? 'POST' : 'GET',
      path: `/jobs/${j}/runs/${id}${cancel ? '/cancel' : ''}`,
      headers: auth,
    })),
    // list limits of the wrong type
    fc.tuple(job, fc.constantFrom('abc', '-1', '0', '1.5', '1e400', 'NaN', '', '10&limit=20', "1;drop table job_runs")).map(([j, l]) => ({
      cls: 'wrong types',
      method: 'GET',
      path: `/jobs/${j}/runs?limit=${l.includes('&') ? l : encodeURIComponent(l)}`,
      headers: auth,
    })),
    // the read API with impossible days
    fc.tuple(fc.oneof(seg, fc.constant('n-1')), fc.constantFrom(...BAD_DAYS, '__missing__')).map(([id, d]) => ({
      cls: 'impossible dates',
      method: 'GET',
      path: `/notifications/${id}/views${d === '__missing__' ? '' : `?day=${encodeURIComponent(d)}`}`,
      headers: auth,
    })),
    // routes and methods that do not exist
    fc.tuple(fc.constantFrom('PUT', 'DELETE', 'PATCH', 'GET', 'POST'), fc.constantFrom('/jobs/example_steps', '/jobs/example_steps/runs/x/rerun', '/admin', '/jobs/../healthz', '/%2e%2e/etc/passwd', '/notifications', '/jobs/example_steps/runs/x/y/z')).map(([m, p]) => ({
      cls: 'unknown routes and methods',
      method: m,
      path: p,
      headers: auth,
    })),
  );
}

// --- log lines -----------------------------------------------------------------------------------------------------

interface ObjectExpectation {
  key: string;
  lines: number;
  viewIds: Set<string>;
  /** Columns of each view as the reference read them, to compare with what Postgres holds. */
  views: Map<string, string>;
  rejectLines: Map<number, RegExp>;
  rejectRaw: Map<number, string>;
}

const viewColumns = (v: { notificationId: string; userId: string; platform: string; viewedAtMs: number }) =>
  JSON.stringify([v.notificationId, v.userId, v.platform, new Date(v.viewedAtMs).toISOString()]);

/** What the reference reading (not the product's reader and parser) says about an object. */
function expectObject(key: string, body: Buffer): ObjectExpectation {
  const ref = refReadObject(body);
  const views = new Map([...ref.views].map(([id, v]) => [id, viewColumns(v)]));
  const rejectLines = new Map([...ref.rejects].map(([n, r]) => [n, r.reason]));
  const rejectRaw = new Map([...ref.rejects].map(([n, r]) => [n, r.raw]));
  return { key, lines: ref.lines, viewIds: new Set(ref.views.keys()), views, rejectLines, rejectRaw };
}

/**
 * event_ids in spellings Postgres' uuid type also reads (no hyphens, braces, hyphens elsewhere, upper case): a
 * parser that let the first three through would store rows the input rules refuse, and the fuzzer rarely draws them.
 */
function uuidFormLines(base: Record<string, unknown>, salt: string): HostileLine[] {
  const hex = (n: number) => `${n.toString(16).padStart(8, '0')}${'0'.repeat(12)}${salt}`;
  const dashed = (h: string) => `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
  const ids = [hex(1), `{${dashed(hex(2))}}`, `${hex(3).slice(0, 8)}-${hex(3).slice(8, 16)}-${hex(3).slice(16, 24)}-${hex(3).slice(24)}`, dashed(hex(4)).toUpperCase(), dashed(hex(5))];
  return ids.map((id) => ({ kind: 'valid', bytes: Buffer.from(JSON.stringify({ ...base, event_type: 'view', event_id: id })) }));
}

function* expectedViewsOf(objects: { key: string; body: Buffer }[]): Generator<[string, string]> {
  for (const o of objects) yield* expectObject(o.key, o.body).views;
}

describe('hostile input on the real stack', { timeout: 900_000 }, () => {
  let rt: Runtime;
  let s3: S3Client;
  let kafka: KafkaTools;
  let worker: WorkerProcess | undefined;
  let api: ApiProcess | undefined;
  const apiQueue = `${process.env['TEMPORAL_TASK_QUEUE']}-api-only`;

  before(async () => {
    rt = await openRuntime();
    s3 = createS3Client(rt.env);
    kafka = new KafkaTools(rt.env, 'hostile-input-test');
    await kafka.createTopic(topic, 1);
    [worker, api] = await Promise.all([startWorker(consumerEnv), startApi({ TEMPORAL_TASK_QUEUE: apiQueue })]);
  });

  after(async () => {
    await Promise.all([worker?.stop(), api?.stop()]);
    // Runs a wrongly accepted request started (the test fails then) would wait forever on a queue nobody polls.
    for await (const wf of rt.temporal.workflow.list({ query: `TaskQueue = "${apiQueue}" AND ExecutionStatus = "Running"` })) {
      await rt.temporal.workflow.getHandle(wf.workflowId, wf.runId).terminate('hostile-input test: started by a fuzz case').catch(() => undefined);
      await rt.ds.query(`DELETE FROM job_runs WHERE run_id = $1`, [wf.runId]);
    }
    agent.destroy();
    const open = rt.temporal.workflow.list({
      query: `(WorkflowId = "${consumerWorkflowId(consumerName)}" OR WorkflowId STARTS_WITH "ingest/${consumerName}/") AND ExecutionStatus = "Running"`,
    });
    for await (const wf of open) await rt.temporal.workflow.getHandle(wf.workflowId).terminate('test finished').catch(() => undefined);
    await kafka.deleteGroups([group]).catch(() => undefined);
    await kafka.deleteTopics([topic]).catch(() => undefined);
    await kafka.close();
    s3.destroy();
    await rt.close();
    if (figures.length > 0) {
      const rows = figures.map((f) => `| ${f.input} | ${f.tried} | ${f.lost} | ${f.duplicated} |`);
      console.log(['', '| input class | cases tried | lost | duplicated |', '|---|---|---|---|', ...rows].join('\n'));
    }
  });

  test('HTTP API: a few hundred fuzzed requests are each a JSON 4xx that says what to fix; no run starts; the API stays healthy', async () => {
    const started = new Date();
    const cases = fc.sample(httpCaseArb(), { seed: SEED, numRuns: 600 });
    const byClass = new Map<string, { tried: number; bad: number }>();
    const failures: string[] = [];
    const statuses = new Map<number, number>();
    for (const c of cases) {
      const res = await send(new URL(api!.base), c);
      statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
      const f = byClass.get(c.cls) ?? { tried: 0, bad: 0 };
      f.tried++;
      let problem: string | undefined;
      if (res.status < 400 || res.status > 499) problem = `status ${res.status}`;
      else if (!res.type.startsWith('application/json')) problem = `content-type ${res.type}`;
      else {
        const body = JSON.parse(res.body) as { error?: unknown; message?: unknown };
        if (typeof body.error !== 'string' || (typeof body.message !== 'string' && res.status !== 409)) problem = 'no error/message';
        else if (/\n\s+at |\.ts:\d+|node_modules|QueryFailedError/.test(res.body)) problem = 'stack trace or internals in the body';
      }
      if (problem) {
        f.bad++;
        failures.push(`${c.cls}: ${c.method} ${c.path.slice(0, 80)} ${c.body?.subarray(0, 80).toString() ?? ''} -> ${problem}: ${res.body.slice(0, 200)}`);
      }
      byClass.set(c.cls, f);
    }
    console.log(`HTTP statuses: ${JSON.stringify(Object.fromEntries([...statuses].sort()))}`);
    // A sample of the messages, so a reader sees what a caller is told.
    assert.deepEqual(failures, []);

    // Hostile-looking but valid reads are answered, and injection stays inert.
    // Well-formed calls go through the typed client (client/apiClient.ts), so they move with the document.
    const typed = apiClient(api!.base, TOKEN);
    const read = await typed.GET('/notifications/{id}/views', { params: { path: { id: "n'; drop table notification_views;--" }, query: { day: '2024-05-01' } } });
    assert.equal(read.response.status, 200);
    assert.equal(read.data?.total, 0);

    // Still healthy, and nothing the fuzzer sent started a run or wrote a job_runs row.
    assert.equal(api!.child.exitCode, null, 'the API process is alive');
    assert.equal((await apiClient(api!.base).GET('/healthz')).data?.ok, true);
    assert.ok((await typed.GET('/jobs')).data?.jobs.some((j) => j.name === JOB));
    assert.doesNotMatch(api!.output(), /"level":(50|60)/, 'no error logged by the API');
    let started_runs = 0;
    for await (const _ of rt.temporal.workflow.list({ query: `TaskQueue = "${apiQueue}"` })) started_runs++;
    const [polluted] = (await rt.ds.query(
      `SELECT count(*)::int AS n FROM job_runs WHERE started_at >= $1 AND (args::text LIKE $2 OR workflow_id LIKE $2)`,
      [started, `%${TAG}%`],
    )) as { n: number }[];
    assert.equal(started_runs, 0, 'no workflow started on the API-only task queue');
    assert.equal(polluted!.n, 0, 'no job_runs row from a rejected request');
    for (const [cls, f] of [...byClass].sort()) figures.push({ input: `HTTP: ${cls}`, tried: f.tried, lost: f.bad, duplicated: 0 });
    // "duplicated" for HTTP: runs or job_runs rows a rejected request created.
    figures.push({ input: 'HTTP: runs started by rejected requests', tried: cases.length, lost: 0, duplicated: started_runs + polluted!.n });
  });

  test('S3: fuzzed log lines and odd object keys are each one row or one reject with a reason, under one real ingest', async () => {
    const day = freshDay();
    const prefix = dayPrefix(day);
    const salt = randomBytes(6).toString('hex');
    const lines = fc.sample(logLineArb(salt), { seed: SEED, numRuns: 3000 });
    // Upstream repeats: some valid lines again, across objects.
    const repeats = lines.filter((l) => l.kind === 'valid').slice(0, 40);
    // A line past the 8 MiB line-size limit, and a valid 2 MB line under it.
    const hugeReject: HostileLine = { kind: 'random_text', bytes: Buffer.alloc(9 * 1024 * 1024, 0x7b) };
    const bigValid: HostileLine = {
      kind: 'valid',
      bytes: Buffer.from(JSON.stringify({ ...JSON.parse(repeats[0]!.bytes.toString()), event_id: `11111111-2222-4333-8444-${salt}`, app_version: 'v'.repeat(2_000_000) })),
    };
    const objects: { key: string; body: Buffer; cls: string }[] = [
      { key: `${prefix}fuzz-a.jsonl`, body: joinLines([...lines.slice(0, 1500), hugeReject, ...repeats], true), cls: 'log lines (fuzzed)' },
      { key: `${prefix}fuzz-b.jsonl.gz`, body: joinLines([...lines.slice(1500, 3000), bigValid, ...repeats], false), cls: 'log lines (fuzzed)' },
      { key: `${prefix}uuid-forms.jsonl`, body: joinLines(uuidFormLines(JSON.parse(repeats[0]!.bytes.toString()) as Record<string, unknown>, salt), true), cls: 'event ids in other UUID spellings' },
    ];
    const ODD_KEYS = [
      'with space.jsonl',
      'unicodé-ユニコード-😀.jsonl',
      'a+b.jsonl',
      '100%.jsonl',
      '%2e%2e%2f.jsonl',
      'k=v&x=y.jsonl',
      'hash#frag.jsonl',
      'what?.jsonl',
      "quote'\"; drop table ingest_rejects;--.jsonl",
      'semi;colon,comma(paren)[b]{c}!@$^~`.jsonl',
      ' leading and trailing .jsonl',
      'dir with space/nested+dir/x.jsonl',
      `${Array.from({ length: 4 }, (_, i) => `${'d'.repeat(200)}${i}`).join('/')}/long.jsonl`,
    ];
    ODD_KEYS.forEach((k, i) => {
      objects.push({ key: `${prefix}${k}`, body: joinLines(lines.slice(i * 20, i * 20 + 20), i % 2 === 0), cls: 'S3 keys with odd characters' });
    });
    // Control characters: XML 1.0 cannot carry them in a listing. S3 percent-encodes them (EncodingType=url); a server
    // that ignores that (versitygw) lists a mangled key, which then must end as a quarantined object, not a stuck day.
    const controlObjects = ['ctl\u0001x.jsonl', 'us\u001fx.jsonl', 'bell\u0007.jsonl'].map((k, i) => ({
      key: `${prefix}ctl/${k}`,
      body: joinLines(lines.slice(i * 10, i * 10 + 10), true),
      cls: 'S3 keys with control characters',
    }));
    for (const o of [...objects, ...controlObjects]) {
      const body = o.key.endsWith('.gz') ? gzipSync(o.body) : o.body;
      await s3.send(new PutObjectCommand({ Bucket: rt.env.S3_BUCKET, Key: o.key, Body: body }));
    }
    await s3.send(new PutObjectCommand({ Bucket: rt.env.S3_BUCKET, Key: successMarkerKey(day), Body: '' }));

    const run = await rt.client.trigger(JOB, { day });
    const view = await rt.client.waitFor(JOB, run.runId);
    assert.equal(view.status, 'succeeded', view.error ?? '');

    const checkpointKeys = new Set(
      ((await rt.ds.query(`SELECT object_key FROM ingest_objects WHERE day = $1`, [day])) as { object_key: string }[]).map((r) => r.object_key),
    );
    const mangle = (k: string) => k.replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f]/g, '\ufffd');
    const listedExactly = controlObjects.filter((o) => checkpointKeys.has(o.key));
    const quarantined = controlObjects.filter((o) => !checkpointKeys.has(o.key));
    console.log(`control-character keys: ${listedExactly.length} listed exactly, ${quarantined.length} listed mangled by the S3 server`);
    objects.push(...listedExactly);
    const expected = objects.map((o) => ({ ...expectObject(o.key, o.body), cls: o.cls, independentLines: countLines(o.body) }));
    for (const e of expected) assert.equal(e.lines, e.independentLines, `${e.key}: the reader and an independent split agree on the line count`);

    const viewRows = (await rt.ds.query(`SELECT event_id, notification_id, user_id, platform, viewed_at FROM notification_views WHERE day = $1`, [day])) as {
      event_id: string;
      notification_id: string;
      user_id: string;
      platform: string;
      viewed_at: Date;
    }[];
    const dbViews = new Set(viewRows.map((r) => r.event_id));
    const dbRejects = (await rt.ds.query(`SELECT object_key, line_number::int AS line, reason, raw FROM ingest_rejects WHERE day = $1`, [day])) as {
      object_key: string;
      line: number;
      reason: string;
      raw: string;
    }[];
    // Quotes, backslashes, braces and unicode in the values arrive in Postgres exactly as the reference read them;
    // a row the reference did not expect fails here rather than being left out of the comparison.
    const parsedViews = new Map(expectedViewsOf(objects));
    for (const r of viewRows) {
      const want = parsedViews.get(r.event_id);
      assert.ok(want, `${r.event_id}: a row the reference reading did not expect`);
      assert.equal(viewColumns({ notificationId: r.notification_id, userId: r.user_id, platform: r.platform, viewedAtMs: r.viewed_at.getTime() }), want, r.event_id);
    }
    const checkpoints = (await rt.ds.query(`SELECT object_key, done, line_number::int AS line, lines_read::int AS lines FROM ingest_objects WHERE day = $1`, [day])) as {
      object_key: string;
      done: boolean;
      line: number;
      lines: number;
    }[];

    // Keys: the checkpoints and rejects name exactly the uploaded keys (or, for a mangled listing, the listed key).
    assert.deepEqual(
      checkpoints.map((c) => c.object_key).sort(),
      [...objects.map((o) => o.key), ...quarantined.map((o) => mangle(o.key))].sort(),
      'one checkpoint per uploaded key, spelled as uploaded',
    );
    const controlFigure: Figure = { input: 'S3 keys with control characters (objects)', tried: controlObjects.length, lost: 0, duplicated: 0 };
    for (const o of quarantined) {
      const c = checkpoints.find((x) => x.object_key === mangle(o.key));
      const rej = dbRejects.filter((r) => r.object_key === mangle(o.key));
      // Quarantined whole: one reject at line 0 saying why; its lines were never read, so none can be half-written.
      if (!c?.done || rej.length !== 1 || rej[0]!.line !== 0 || !/^object not found/.test(rej[0]!.reason)) controlFigure.lost++;
      if (rej.length > 1) controlFigure.duplicated += rej.length - 1;
    }
    figures.push(controlFigure);
    const quarantinedKeys = new Set(quarantined.map((o) => mangle(o.key)));
    for (const c of checkpoints.filter((x) => !quarantinedKeys.has(x.object_key))) {
      const e = expected.find((x) => x.key === c.object_key)!;
      assert.ok(c.done, `${c.object_key} done`);
      assert.equal(c.line, e.lines, `${c.object_key}: checkpoint at its last line`);
      assert.equal(c.lines, e.lines, `${c.object_key}: lines read`);
    }
    const knownKeys = new Set([...objects.map((o) => o.key), ...quarantinedKeys]);
    assert.deepEqual(dbRejects.filter((r) => !knownKeys.has(r.object_key)), [], 'no reject under a key nobody uploaded');
    assert.equal(controlFigure.lost, 0, 'every control-character object ingested or quarantined whole');

    const byClass = new Map<string, Figure>();
    const allViewIds = new Set<string>();
    let expectedRejects = 0;
    for (const e of expected) {
      const f = byClass.get(e.cls) ?? { input: e.cls, tried: 0, lost: 0, duplicated: 0 };
      f.tried += e.lines;
      for (const id of e.viewIds) {
        allViewIds.add(id);
        if (!dbViews.has(id)) f.lost++;
      }
      const got = dbRejects.filter((r) => r.object_key === e.key);
      for (const [line, reason] of e.rejectLines) {
        const r = got.find((x) => x.line === line);
        if (!r) f.lost++;
        else {
          assert.match(r.reason, reason, `${e.key}:${line}`);
          assert.equal(r.raw, e.rejectRaw.get(line), `${e.key}:${line} raw`);
        }
      }
      // A reject where the parser saw none, or twice for one line, is a duplicate of that line's outcome.
      f.duplicated += got.filter((r) => !e.rejectLines.has(r.line)).length + (got.length - new Set(got.map((r) => r.line)).size);
      expectedRejects += e.rejectLines.size;
      byClass.set(e.cls, f);
    }
    // Rows nobody expected (a line stored twice under two ids, or a reject that also became a row).
    const unexpectedRows = [...dbViews].filter((id) => !allViewIds.has(id)).length;
    byClass.get('log lines (fuzzed)')!.duplicated += unexpectedRows;

    const m = view.metrics as Record<string, number>;
    const totalLines = expected.reduce((n, e) => n + e.independentLines, 0);
    assert.equal(m['linesRead'], totalLines);
    assert.equal((m['rowsWritten'] ?? 0) + (m['duplicates'] ?? 0) + (m['skipped'] ?? 0) + (m['blank'] ?? 0) + (m['rejected'] ?? 0), totalLines, 'every line has one outcome');
    assert.equal(m['rowsWritten'], allViewIds.size);
    assert.equal(m['rejected'], expectedRejects);
    const kinds = new Map<string, number>();
    for (const l of lines) kinds.set(l.kind, (kinds.get(l.kind) ?? 0) + 1);
    console.log(`log-line kinds: ${JSON.stringify(Object.fromEntries(kinds))}; metrics: ${JSON.stringify(m)}`);
    for (const f of byClass.values()) {
      figures.push(f);
      assert.equal(f.lost, 0, `${f.input}: lost`);
      assert.equal(f.duplicated, 0, `${f.input}: duplicated`);
    }
  });

  test('Kafka: fuzzed Avro messages are each one row or one dead letter with its reason; valid messages after the garbage still land', async () => {
    const prefix = `hx-${TAG}`;
    const garbage = fc.sample(avroMessageArb(prefix, { hugeBytes: 300_000 }), { seed: SEED, numRuns: 600 });
    const tail = fc.sample(avroMessageArb(prefix).filter((m) => m.kind === 'valid'), { seed: SEED + 1, numRuns: 50 });
    const messages: HostileMessage[] = [...garbage, ...tail];
    const offsets: string[] = [];
    // Small sends, a huge message alone: the broker refuses record batches over about 1 MB.
    for (let i = 0; i < messages.length; ) {
      const batch: HostileMessage[] = [];
      let bytes = 0;
      while (i < messages.length && batch.length < 50 && (batch.length === 0 || bytes + (messages[i]!.value?.length ?? 0) < 400_000)) {
        bytes += messages[i]!.value?.length ?? 0;
        batch.push(messages[i++]!);
      }
      const sent = await kafka.producer.send({ acks: ProduceAcks.ALL, messages: batch.map((m) => ({ topic, partition: 0, value: m.value as Buffer })) });
      const base = sent.offsets?.find((o) => o.topic === topic && o.partition === 0)?.offset;
      if (base === undefined) throw new Error('the broker returned no offset for the send');
      batch.forEach((_, k) => offsets.push((base + BigInt(k)).toString()));
    }

    const expectedDead = new Map<string, RegExp>();
    const expectedIds = new Set<string>();
    const okAt = new Map<string, string>();
    messages.forEach((m, i) => {
      const d = refDecodeCurated(m.value);
      if (d.ok) {
        expectedIds.add(d.event.eventId);
        okAt.set(offsets[i]!, d.event.eventId);
      } else expectedDead.set(offsets[i]!, d.reason);
    });
    for (const m of tail) assert.ok(refDecodeCurated(m.value).ok);

    const counts = async () => {
      const [r] = (await rt.ds.query(
        `SELECT (SELECT count(*) FROM curated_program_events WHERE topic = $1)::int AS rows,
                (SELECT count(*) FROM kafka_dead_letters WHERE consumer = $2 AND topic = $1)::int AS dead`,
        [topic, consumerName],
      )) as { rows: number; dead: number }[];
      return r!;
    };
    // Rows of ids another topic wrote first (a bit flip can turn an id into anyone's) count as landed: first write wins.
    const foreign = (await rt.ds.query(`SELECT event_id FROM curated_program_events WHERE event_id = ANY($1::text[]) AND topic <> $2`, [[...expectedIds], topic])) as {
      event_id: string;
    }[];
    const expectRows = expectedIds.size - foreign.length;
    await eventually(`${expectRows} rows and ${expectedDead.size} dead letters`, async () => {
      const c = await counts();
      return c.rows >= expectRows && c.dead >= expectedDead.size ? c : undefined;
    }, 240_000, 500);
    // Positive evidence that nothing more is coming: the group has committed past the last offset produced (the
    // consumer commits once a message is dead-lettered or handed to the partition's ingest workflow), and that
    // workflow has no batch left to write.
    const end = BigInt(offsets[offsets.length - 1]!) + 1n;
    await eventually(`the group committed through offset ${end} and every batch is written`, async () => {
      const st = await rt.temporal.workflow.getHandle(consumerWorkflowId(consumerName)).query(consumerStatusQuery);
      const p = st.partitions.find((x) => x.topic === topic && x.partition === 0);
      if (p?.committed == null || BigInt(p.committed) < end) return undefined;
      const ingest = await rt.temporal.workflow.getHandle(ingestWorkflowId(consumerName, topic, 0)).query(ingestProgressQuery);
      return ingest.pendingRanges === 0 ? ingest : undefined;
    }, 60_000, 500);

    const rows = (await rt.ds.query(`SELECT event_id, kafka_offset::text AS off FROM curated_program_events WHERE topic = $1`, [topic])) as { event_id: string; off: string }[];
    const dead = (await rt.ds.query(`SELECT kafka_offset::text AS off, reason, raw FROM kafka_dead_letters WHERE consumer = $1 AND topic = $2`, [consumerName, topic])) as {
      off: string;
      reason: string;
      raw: Buffer | null;
    }[];
    const rowIds = new Set([...rows.map((r) => r.event_id), ...foreign.map((f) => f.event_id)]);
    const deadAt = new Map(dead.map((d) => [d.off, d]));
    const byKind = new Map<string, Figure>();
    messages.forEach((m, i) => {
      const off = offsets[i]!;
      const f = byKind.get(m.kind) ?? { input: `Avro: ${m.kind.replace(/_/g, ' ')}`, tried: 0, lost: 0, duplicated: 0 };
      f.tried++;
      const d = deadAt.get(off);
      if (expectedDead.has(off)) {
        if (!d) f.lost++;
        else {
          assert.match(d.reason, expectedDead.get(off)!, `offset ${off}`);
          assert.deepEqual(d.raw === null ? null : Buffer.from(d.raw), m.value, `offset ${off}: raw bytes kept`);
        }
        if (rows.some((r) => r.off === off)) f.duplicated++;
      } else {
        if (!rowIds.has(okAt.get(off)!)) f.lost++;
        if (d) f.duplicated++;
      }
      byKind.set(m.kind, f);
    });
    const strayRows = rows.filter((r) => !expectedIds.has(r.event_id)).length;
    const c = await counts();
    console.log(`Avro: ${messages.length} messages, ${expectedIds.size} distinct valid ids, ${expectedDead.size} dead letters expected; stored ${JSON.stringify(c)}; stray rows ${strayRows}; foreign ${foreign.length}`);
    const st = await rt.temporal.workflow.getHandle(consumerWorkflowId(consumerName)).describe();
    assert.equal(st.status.name, 'RUNNING', 'the consumer keeps running');
    for (const f of [...byKind.values()].sort((a, b) => a.input.localeCompare(b.input))) figures.push(f);
    assert.equal(c.dead, expectedDead.size);
    assert.equal(strayRows, 0);
    for (const f of byKind.values()) {
      assert.equal(f.lost, 0, `${f.input}: lost`);
      assert.equal(f.duplicated, 0, `${f.input}: duplicated`);
    }
  });
});
