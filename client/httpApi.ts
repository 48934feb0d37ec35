import { createHash, timingSafeEqual } from 'node:crypto';
import { NamespaceNotFoundError } from '@temporalio/common';
import Fastify, { type FastifyBaseLogger, type FastifyInstance, type FastifyReply } from 'fastify';
import { z } from 'zod';
import { isTemporalUnavailable, isTransientPgError } from '../connections/untilReachable';
import { unstorableText } from '../domain/text';
import { describeJob } from '../jobs/catalog';
import { InvalidArgumentsError, UnknownJobError } from '../jobs/registry';
import { checkDependencies, type Probes } from '../observability/dependencies';
import { logger } from '../observability/logger';
import { events } from '../observability/events';
import { registry } from '../observability/metrics';
import { contextFromHeaders, SpanKind, withSpan } from '../observability/tracing';
import { AlreadyRunningError, RunNotFoundError, type JobsClient, type RunView } from './jobsClient';

export interface ApiOptions {
  client: JobsClient;
  token: string;
  /** Round trips to Postgres and Temporal for `/readyz`; without them `/readyz` has nothing to check and says ready. */
  probes?: Probes;
  /** Extra routes (e.g. the service's read API) registered behind the same auth. */
  routes?: (app: FastifyInstance) => void;
}

const PUBLIC_ROUTES = new Set(['/healthz', '/readyz', '/metrics']);
/**
 * How long one request's Temporal calls may take, the client's own retries included: with the server away they would
 * retry for tens of seconds, and a caller (an HttpSensor, a load balancer) would see a hang instead of a 503.
 */
const TEMPORAL_DEADLINE_MS = 5_000;
const TriggerBody = z.strictObject({ args: z.record(z.string(), z.unknown()).optional() });

/** The HTTP face of the job client: what Airflow's HttpOperator and HttpSensor talk to; its routes and answers are an interface others build on (README, HTTP API). */
export function buildApi(opts: ApiOptions): FastifyInstance {
  const { client } = opts;
  const app: FastifyInstance = Fastify({ loggerInstance: logger as FastifyBaseLogger, bodyLimit: 64 * 1024 });
  const expected = digest(opts.token);
  const boundedByDeadline = <T>(fn: () => Promise<T>): Promise<T> => client.temporal.withDeadline(Date.now() + TEMPORAL_DEADLINE_MS, fn);

  app.addHook('onRequest', async (req, reply) => {
    if (PUBLIC_ROUTES.has(req.url.split('?')[0]!)) return;
    const header = req.headers.authorization ?? '';
    const token = header.startsWith('Bearer ') ? header.slice(7) : '';
    // Compare digests so the comparison takes the same time whatever the token's length or content.
    if (!token || !timingSafeEqual(digest(token), expected)) {
      return reply
        .code(401)
        .header('www-authenticate', 'Bearer')
        .send({ error: 'unauthorized', message: 'send Authorization: Bearer <API_TOKEN>' });
    }
  });
  app.addHook('onResponse', async (req, reply) => {
    events.httpRequest(req.method, req.routeOptions.url ?? 'unmatched', reply.statusCode, reply.elapsedTime / 1000);
  });
  // Path and query values go to Postgres as text: one it cannot store would fail the query, a 500 for a bad request.
  app.addHook('preValidation', async (req, reply) => {
    for (const [where, values] of [['path parameter', req.params], ['query parameter', req.query]] as const) {
      for (const [name, value] of Object.entries((values ?? {}) as Record<string, unknown>)) {
        for (const v of Array.isArray(value) ? value : [value]) {
          const problem = typeof v === 'string' ? unstorableText(v) : undefined;
          if (problem) return reply.code(400).send({ error: 'invalid_request', message: `${where} ${name} ${problem}` });
        }
      }
    }
  });
  app.setErrorHandler((err: Error & { statusCode?: number; code?: string }, _req, reply) => sendError(reply, err));
  app.setNotFoundHandler((req, reply) =>
    reply.code(404).send({ error: 'not_found', message: `no route ${req.method} ${req.url}` }),
  );

  app.get('/healthz', async () => {
    await client.jobs.list();
    return { ok: true };
  });
  // For load balancers and orchestrators: whether this API can serve requests now. /healthz (liveness) stays 200
  // while a dependency is down, so an orchestrator does not restart an API that would only wait for it again.
  app.get('/readyz', async (_req, reply) => {
    const results = opts.probes ? await checkDependencies(opts.probes) : {};
    const unreachable = Object.fromEntries(Object.entries(results).filter(([, why]) => why !== undefined));
    if (Object.keys(unreachable).length === 0) return { ready: true, dependencies: Object.keys(results) };
    return reply.code(503).send({ ready: false, unreachable });
  });
  app.get('/metrics', async (_req, reply) => reply.type(registry.contentType).send(await registry.metrics()));

  app.get('/jobs', async () => ({ jobs: client.jobs.list().map(describeJob) }));

  app.post<{ Params: { job: string } }>('/jobs/:job/runs', async (req, reply) => {
    client.jobs.get(req.params.job);
    const body = TriggerBody.safeParse(req.body ?? {});
    if (!body.success) {
      const issue = body.error.issues[0]!;
      return reply.code(400).send({
        error: 'invalid_request',
        message: `${issue.path.join('.') || 'body'}: ${issue.message} (send {"args": {...}})`,
      });
    }
    // The trace of a run starts here (or continues the caller's, from its traceparent header).
    const run = await withSpan(
      'POST /jobs/:job/runs',
      {
        kind: SpanKind.SERVER,
        parent: contextFromHeaders(req.headers),
        attributes: { 'http.request.method': 'POST', 'http.route': '/jobs/:job/runs', 'scheduled_job.job': req.params.job },
      },
      async (span) => {
        const started = await boundedByDeadline(() => client.trigger(req.params.job, body.data.args));
        span.setAttributes({ 'scheduled_job.workflow_id': started.workflowId, 'scheduled_job.run_id': started.runId });
        return started;
      },
    );
    return reply.code(202).send({ runId: run.runId, workflowId: run.workflowId, status: 'running' });
  });

  app.get<{ Params: { job: string }; Querystring: { limit?: string } }>('/jobs/:job/runs', async (req, reply) => {
    const limit = req.query.limit === undefined ? 20 : Number(req.query.limit);
    if (!Number.isInteger(limit) || limit < 1) {
      return reply.code(400).send({ error: 'invalid_request', message: 'limit: must be a whole number from 1 (at most 500 are returned)' });
    }
    return { runs: (await client.runs(req.params.job, Math.min(limit, 500))).map(publicView) };
  });

  app.get<{ Params: { job: string; runId: string } }>('/jobs/:job/runs/:runId', async (req) => {
    client.jobs.get(req.params.job);
    return publicView(await boundedByDeadline(() => client.status(req.params.job, req.params.runId)));
  });

  app.post<{ Params: { job: string; runId: string } }>('/jobs/:job/runs/:runId/cancel', async (req, reply) => {
    client.jobs.get(req.params.job);
    await boundedByDeadline(() => client.cancel(req.params.job, req.params.runId));
    return reply.code(202).send({ runId: req.params.runId, status: 'cancelling' });
  });

  opts.routes?.(app);
  return app;
}

function publicView(v: RunView) {
  return {
    job: v.job,
    workflowId: v.workflowId,
    runId: v.runId,
    latestRunId: v.latestRunId,
    status: v.status,
    attempt: v.attempt,
    args: v.args,
    startedAt: v.startedAt,
    finishedAt: v.finishedAt,
    error: v.error,
    metrics: v.metrics,
  };
}

function sendError(reply: FastifyReply, err: Error & { statusCode?: number; code?: string }) {
  if (err instanceof UnknownJobError) return reply.code(404).send({ error: 'unknown_job', message: err.message });
  if (err instanceof RunNotFoundError) return reply.code(404).send({ error: 'unknown_run', message: err.message });
  if (err instanceof InvalidArgumentsError) {
    return reply.code(400).send({ error: 'invalid_args', message: err.message, issues: err.issues });
  }
  if (err instanceof AlreadyRunningError) {
    return reply.code(409).send({ error: 'already_running', workflowId: err.workflowId, runId: err.runId });
  }
  const unreachable = unreachableDependency(err);
  if (unreachable) {
    // An outage is not the caller's mistake: the same request can be sent again once the dependency is back.
    return reply.code(503).send({ error: 'unavailable', message: `${unreachable} is unreachable now (${err.message.slice(0, 200)}); send the request again later` });
  }
  if (err.statusCode && err.statusCode >= 400 && err.statusCode < 500) {
    // Fastify's own wording says what is wrong; these say what to send instead.
    const hint = FRAMEWORK_HINTS[err.code ?? ''];
    return reply.code(err.statusCode).send({ error: err.code ?? 'bad_request', message: hint ? `${err.message}: ${hint}` : err.message });
  }
  reply.log.error({ err }, 'request failed');
  return reply.code(500).send({ error: 'internal', message: 'internal error; see the API log' });
}

/**
 * Which dependency an error says is away. Temporal first: its errors' messages mention connections too. A Temporal
 * server whose own database is away answers "namespace not found" for the namespace it has (the namespace registry
 * cannot be read), so that counts as Temporal being unavailable, with its message.
 */
function unreachableDependency(err: unknown): 'temporal' | 'postgres' | undefined {
  if (isTemporalUnavailable(err) || err instanceof NamespaceNotFoundError) return 'temporal';
  if (isTransientPgError(err)) return 'postgres';
  return undefined;
}

const FRAMEWORK_HINTS: Record<string, string> = {
  FST_ERR_CTP_BODY_TOO_LARGE: 'the limit is 64 KiB',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'send Content-Type: application/json',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'send a JSON object such as {"args": {}}, or no Content-Type',
  FST_ERR_CTP_INVALID_JSON_BODY: 'send a JSON object such as {"args": {}}',
};

function digest(s: string): Buffer {
  return createHash('sha256').update(s).digest();
}
