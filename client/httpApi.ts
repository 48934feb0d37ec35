import { createHash, timingSafeEqual } from 'node:crypto';
import Fastify, { type FastifyBaseLogger, type FastifyInstance, type FastifyReply } from 'fastify';
import { z } from 'zod';
import { InvalidArgumentsError, UnknownJobError } from '../jobs/registry';
import { logger } from '../observability/logger';
import { httpRequests, registry } from '../observability/metrics';
import { AlreadyRunningError, RunNotFoundError, type JobsClient, type RunView } from './jobsClient';

export interface ApiOptions {
  client: JobsClient;
  token: string;
  /** Extra routes (e.g. the service's read API) registered behind the same auth. */
  routes?: (app: FastifyInstance) => void;
}

const PUBLIC_ROUTES = new Set(['/healthz', '/metrics']);
const TriggerBody = z.strictObject({ args: z.record(z.string(), z.unknown()).optional() });

/** The HTTP face of the job client: what Airflow's HttpOperator and HttpSensor talk to (DESIGN.md §2). */
export function buildApi(opts: ApiOptions): FastifyInstance {
  const { client } = opts;
  const app: FastifyInstance = Fastify({ loggerInstance: logger as FastifyBaseLogger, bodyLimit: 64 * 1024 });
  const expected = digest(opts.token);

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
    httpRequests.observe(
      { method: req.method, route: req.routeOptions.url ?? 'unmatched', code: String(reply.statusCode) },
      reply.elapsedTime / 1000,
    );
  });
  app.setErrorHandler((err: Error & { statusCode?: number; code?: string }, _req, reply) => sendError(reply, err));
  app.setNotFoundHandler((req, reply) =>
    reply.code(404).send({ error: 'not_found', message: `no route ${req.method} ${req.url}` }),
  );

  app.get('/healthz', async () => {
    await client.jobs.list();
    return { ok: true };
  });
  app.get('/metrics', async (_req, reply) => reply.type(registry.contentType).send(await registry.metrics()));

  app.get('/jobs', async () => ({
    jobs: client.jobs.list().map((d) => ({
      name: d.name,
      description: d.description,
      lockKey: d.lockKey ?? [],
      retries: d.retry.retries,
      defaultArgs: d.defaultArgs ?? {},
      argsSchema: z.toJSONSchema(d.args, { unrepresentable: 'any' }),
    })),
  }));

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
    const run = await client.trigger(req.params.job, body.data.args);
    return reply.code(202).send({ runId: run.runId, workflowId: run.workflowId, status: 'running' });
  });

  app.get<{ Params: { job: string }; Querystring: { limit?: string } }>('/jobs/:job/runs', async (req) => {
    const limit = Math.min(Math.max(Number(req.query.limit ?? 20) || 20, 1), 500);
    return { runs: (await client.runs(req.params.job, limit)).map(publicView) };
  });

  app.get<{ Params: { job: string; runId: string } }>('/jobs/:job/runs/:runId', async (req) => {
    client.jobs.get(req.params.job);
    return publicView(await client.status(req.params.job, req.params.runId));
  });

  app.post<{ Params: { job: string; runId: string } }>('/jobs/:job/runs/:runId/cancel', async (req, reply) => {
    await client.cancel(req.params.job, req.params.runId);
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
  if (err.statusCode && err.statusCode >= 400 && err.statusCode < 500) {
    return reply.code(err.statusCode).send({ error: err.code ?? 'bad_request', message: err.message });
  }
  reply.log.error({ err }, 'request failed');
  return reply.code(500).send({ error: 'internal', message: 'internal error; see the API log' });
}

function digest(s: string): Buffer {
  return createHash('sha256').update(s).digest();
}
