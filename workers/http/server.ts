import { createHash, timingSafeEqual } from 'node:crypto';
import Fastify, { type FastifyBaseLogger } from 'fastify';
import { serializerCompiler, validatorCompiler, type ZodTypeProvider } from 'fastify-type-provider-zod';
import type { JobsClient } from '../../client/jobsClient';
import { unstorableText } from '../../domain/text';
import type { Probes } from '../../observability/dependencies';
import { events } from '../../observability/events';
import { logger } from '../../observability/logger';
import type { ApiApp, ApiRoutes } from './app';
import { sendError } from './errors';
import { jobRoutes } from './jobRoutes';
import { registerOpenApi } from './openapi';
import { systemRoutes } from './systemRoutes';

export interface ApiOptions {
  client: JobsClient;
  token: string;
  /** Round trips to Postgres and Temporal for `/readyz`; without them `/readyz` has nothing to check and says ready. */
  probes?: Probes;
  /** The features' routes (e.g. the service's read API), registered behind the same auth. */
  routes?: ApiRoutes[];
}

/** Routes anyone may call: probes, metrics and the API's own description. */
const PUBLIC_ROUTES = new Set(['/healthz', '/readyz', '/metrics', '/openapi.json']);

/**
 * The HTTP face of the job client: what Airflow's HttpOperator and HttpSensor, scripts and the console talk to. Its
 * routes and answers are an interface others build on (README, HTTP API); each route declares zod schemas for what it
 * takes and every answer it gives, which validate the requests, check the replies and make `GET /openapi.json`.
 */
export function buildApi(opts: ApiOptions): ApiApp {
  const app = Fastify({ loggerInstance: logger as FastifyBaseLogger, bodyLimit: 64 * 1024 }).withTypeProvider<ZodTypeProvider>();
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  registerOpenApi(app);

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
  app.setErrorHandler((err: Error & { statusCode?: number; code?: string }, req, reply) => sendError(err, req, reply));
  app.setNotFoundHandler((req, reply) => reply.code(404).send({ error: 'not_found', message: `no route ${req.method} ${req.url}` }));

  // Routes go in after the OpenAPI plugin has loaded, so it sees each one as it is added.
  void app.after(() => {
    systemRoutes(app, { client: opts.client, ...(opts.probes ? { probes: opts.probes } : {}) });
    jobRoutes(app, opts.client);
    for (const routes of opts.routes ?? []) routes(app);
  });
  return app;
}

function digest(s: string): Buffer {
  return createHash('sha256').update(s).digest();
}
