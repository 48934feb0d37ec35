import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import { freshDay, generateAndUpload } from '../support/days';
import { eventually, REPO, uniqueTag, useStackEnv } from '../support/stack';
import { startApi, type ApiProcess } from '../support/apiProcess';
import { startWorker, type WorkerProcess } from '../support/workerProcess';

const TOKEN = 'test-token-observability';
const JOBS_MODULE = path.join(REPO, 'test', 'support', 'jobs.ts');
const stack = useStackEnv({ JOBS_MODULE, API_TOKEN: TOKEN });

import { connectClient } from '../../client/temporalConnection';
import { createS3Client } from '../../connections/s3';
import { loadEnv } from '../../config/env';
import { tracingEnabled } from '../../observability/tracingEnabled';

interface ReceivedSpan {
  service: string;
  traceId: string;
  spanId: string;
  parentSpanId: string;
  name: string;
}

/** A real OTLP/HTTP receiver: records the spans that exporters POST to /v1/traces (JSON encoding). */
class OtlpReceiver {
  readonly spans: ReceivedSpan[] = [];
  readonly rejected: string[] = [];
  private server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      if (req.url !== '/v1/traces' || !String(req.headers['content-type']).includes('json')) {
        this.rejected.push(`${req.method} ${req.url} ${req.headers['content-type']}`);
        res.writeHead(415).end();
        return;
      }
      this.record(JSON.parse(body) as OtlpTraces);
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });

  async start(): Promise<string> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  inTrace(traceId: string): ReceivedSpan[] {
    return this.spans.filter((s) => s.traceId === traceId);
  }

  private record(msg: OtlpTraces): void {
    for (const rs of msg.resourceSpans ?? []) {
      const service = rs.resource?.attributes?.find((a) => a.key === 'service.name')?.value?.stringValue ?? '';
      for (const ss of rs.scopeSpans ?? []) {
        for (const s of ss.spans ?? []) {
          this.spans.push({
            service,
            traceId: hexId(s.traceId),
            spanId: hexId(s.spanId),
            parentSpanId: s.parentSpanId ? hexId(s.parentSpanId) : '',
            name: s.name,
          });
        }
      }
    }
  }
}

interface OtlpTraces {
  resourceSpans?: {
    resource?: { attributes?: { key: string; value?: { stringValue?: string } }[] };
    scopeSpans?: { spans?: { traceId: string; spanId: string; parentSpanId?: string; name: string }[] }[];
  }[];
}

/** OTLP/JSON ids are hex; accept base64 too, as some encoders send it. */
function hexId(id: string): string {
  return /^[0-9a-f]+$/i.test(id) && (id.length === 32 || id.length === 16) ? id.toLowerCase() : Buffer.from(id, 'base64').toString('hex');
}

describe('observability: traces from trigger to activities, Temporal core metrics beside ours', { timeout: 300_000 }, () => {
  const receiver = new OtlpReceiver();
  let otelEnv: Record<string, string>;
  let worker: WorkerProcess;
  let api: ApiProcess;
  let metricsUrl: string;
  let ingestWorkflowId: string | undefined;

  before(async () => {
    const endpoint = await receiver.start();
    // Short export delay so the spans arrive while the test waits; the rest is the default OTLP/HTTP exporter.
    otelEnv = { OTEL_EXPORTER_OTLP_ENDPOINT: endpoint, OTEL_BSP_SCHEDULE_DELAY: '200' };
    worker = await startWorker({ ...otelEnv, WORKER_METRICS_PORT: '0' });
    const started = worker
      .output()
      .split('\n')
      .find((l) => l.includes('"worker started"'));
    metricsUrl = (JSON.parse(started!) as { metricsUrl: string }).metricsUrl;
    api = await startApi({ ...otelEnv, JOBS_MODULE });
  });

  after(async () => {
    // A run this file started and did not see end would hold its day's lock on a task queue nobody polls.
    if (ingestWorkflowId) {
      const temporal = await connectClient(loadEnv());
      await temporal.workflow.getHandle(ingestWorkflowId).terminate('observability test ended first').catch(() => undefined);
      await temporal.connection.close();
    }
    await api?.stop();
    await worker?.stop();
    await receiver.close();
  });

  test('no OTLP endpoint: tracing stays off', () => {
    assert.equal(tracingEnabled({}), false);
    assert.equal(tracingEnabled({ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://127.0.0.1:4318/v1/traces' }), true);
    assert.equal(tracingEnabled({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://x:4318', OTEL_SDK_DISABLED: 'true' }), false);
    assert.match(metricsUrl, /^http:\/\/127\.0\.0\.1:\d+\/metrics$/, 'the worker metrics endpoint binds loopback');
  });

  test('an HTTP trigger of an ingest: API, StartWorkflow, RunWorkflow, child workflows and activities in one trace', async () => {
    const env = loadEnv();
    const day = freshDay();
    await generateAndUpload(createS3Client(env), env.S3_BUCKET, { day, objects: 2, linesPerObject: 50, gzipFraction: 0.5, seed: 3 });

    // The caller (say, Airflow) sends its own trace context: the whole run must continue that trace.
    const traceId = randomBytes(16).toString('hex');
    const callerSpan = randomBytes(8).toString('hex');
    const res = await fetch(`${api.base}/jobs/ingest_notification_views/runs`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${TOKEN}`,
        'content-type': 'application/json',
        traceparent: `00-${traceId}-${callerSpan}-01`,
      },
      body: JSON.stringify({ args: { day } }),
    });
    assert.equal(res.status, 202, await res.clone().text());
    const { runId, workflowId } = (await res.json()) as { runId: string; workflowId: string };
    ingestWorkflowId = workflowId;

    const want = [
      ['scheduled-job-api', 'POST /jobs/:job/runs'],
      ['scheduled-job-api', 'StartWorkflow:scheduledJob'],
      ['scheduled-job-worker', 'RunWorkflow:scheduledJob'],
      ['scheduled-job-worker', 'StartActivity:checkDayReady'],
      ['scheduled-job-worker', 'RunActivity:checkDayReady'],
      ['scheduled-job-worker', 'StartChildWorkflow:ingestObjectBatch'],
      ['scheduled-job-worker', 'RunWorkflow:ingestObjectBatch'],
      ['scheduled-job-worker', 'RunActivity:ingestObject'],
    ] as const;
    const spans = await eventually(
      'every span of the run in the receiver',
      async () => {
        const got = receiver.inTrace(traceId);
        return want.every(([svc, name]) => got.some((s) => s.service === svc && s.name === name)) ? got : undefined;
      },
      120_000,
    ).catch((err: Error) => {
      const got = receiver.inTrace(traceId);
      const missing = want.filter(([svc, name]) => !got.some((s) => s.service === svc && s.name === name));
      // RunWorkflow spans are exported when their workflow ends, so a run that never ends misses them.
      throw new Error(
        `${err.message}\nmissing: ${missing.join('; ')}\nin the trace: ${got.map((s) => `${s.service} ${s.name}`).join(', ')}\n` +
          `rejected posts: ${receiver.rejected.join(', ') || 'none'}`,
      );
    });

    // One tree: the API span is the child of the caller's, and every other span has its parent in the trace.
    const trigger = spans.find((s) => s.name === 'POST /jobs/:job/runs')!;
    assert.equal(trigger.parentSpanId, callerSpan);
    const ids = new Set(spans.map((s) => s.spanId));
    for (const s of spans) if (s !== trigger) assert.ok(ids.has(s.parentSpanId), `${s.name} has its parent in the trace`);
    const start = spans.find((s) => s.name === 'StartWorkflow:scheduledJob')!;
    assert.equal(start.parentSpanId, trigger.spanId, 'StartWorkflow is a child of the trigger span');

    // The traced run is a real one: it ends as it would untraced.
    const view = await eventually('the ingest run to end', async () => {
      const r = await fetch(`${api.base}/jobs/ingest_notification_views/runs/${runId}`, { headers: { authorization: `Bearer ${TOKEN}` } });
      const v = (await r.json()) as { status: string; error: string | null };
      return v.status === 'running' ? undefined : v;
    }, 120_000, 500);
    assert.equal(view.status, 'succeeded', `the ingest ended ${view.status}: ${view.error}`);
    ingestWorkflowId = undefined;
  });

  test('a CLI trigger starts the trace of its run', async () => {
    const tag = uniqueTag('otel-cli');
    const { stdout } = await promisify(execFile)(
      path.join(REPO, 'bin', 'scheduled-job.js'),
      ['trigger', 'test_steps', '--args', JSON.stringify({ steps: 1, stepMs: 10, tag }), '--wait'],
      { cwd: REPO, env: { ...process.env, ...otelEnv, LOG_LEVEL: 'warn' } },
    );
    const { workflowId } = JSON.parse(stdout.split('\n')[0]!) as { workflowId: string };
    assert.equal(workflowId, `test_steps/${tag}`);
    await eventually('the CLI run traced through to its activity', async () => {
      const cli = receiver.spans.filter((s) => s.service === 'scheduled-job-cli' && s.name === 'scheduled-job trigger');
      return cli.some((c) => {
        const trace = receiver.inTrace(c.traceId);
        return trace.some((s) => s.name === 'RunWorkflow:scheduledJob') && trace.some((s) => s.name === 'RunActivity:doStep');
      });
    }, 30_000);
  });

  test("the worker's /metrics serves the Temporal core SDK's metrics and ours; the API's still serves ours", async () => {
    const text = await eventually('core and our metrics on the worker endpoint', async () => {
      const r = await fetch(metricsUrl);
      assert.equal(r.status, 200);
      const t = await r.text();
      const core = /^temporal_(request|long_request|workflow_task|activity_)\w*\{/m.test(t);
      // The CLI test's run finished on this worker.
      const ours = /^scheduled_job_runs_finished_total\{job="test_steps",status="succeeded"\} 1$/m.test(t);
      return core && ours ? t : undefined;
    }, 30_000);
    assert.match(text, /^scheduled_job_temporal_core_metrics_up 1$/m);
    // Every activity is timed by the worker's interceptor, without code of its own: the run log's and the job's.
    assert.match(text, /^scheduled_job_activity_duration_seconds_count\{activity="startAttempt",outcome="completed"\} [1-9]\d*$/m);
    assert.match(text, /^scheduled_job_activity_duration_seconds_count\{activity="doStep",outcome="completed"\} [1-9]\d*$/m);
    // Dependency state from the worker's own probes (the fault suite sees them go to 0).
    assert.match(text, /^scheduled_job_dependency_up\{dependency="postgres"\} 1$/m);
    assert.match(text, /^scheduled_job_dependency_up\{dependency="temporal"\} 1$/m);
    // Worker-side metrics a Temporal dashboard reads, with our task queue on them.
    assert.match(text, new RegExp(`^temporal_\\w+\\{[^}]*task_queue="${stack['TEMPORAL_TASK_QUEUE']}"`, 'm'));

    // Readiness needs no token, like /healthz.
    const ready = await fetch(`${api.base}/readyz`);
    assert.equal(ready.status, 200);
    assert.deepEqual(await ready.json(), { ready: true, dependencies: ['postgres', 'temporal'] });

    const apiMetrics = await fetch(`${api.base}/metrics`);
    assert.equal(apiMetrics.status, 200);
    assert.match(await apiMetrics.text(), /^scheduled_job_triggers_total\{job="ingest_notification_views",outcome="started"\} 1$/m);
  });
});
