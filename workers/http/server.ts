import { createHash, timingSafeEqual } from 'node:crypto';
import Fastify, { type FastifyBaseLogger } from 'fastify';
import { serializerCompiler, validatorCompiler, type ZodTypeProvider } from 'fastify-type-provider-zod';
import type { ConsumersClient } from '../../client/consumersClient';
import type { JobsClient } from '../../client/jobsClient';
import { unstorableText } from '../../domain/text';
import type { Probes } from '../../observability/dependencies';
import { events } from '../../observability/events';
import { logger } from '../../observability/logger';
import type { ApiApp, ApiRoutes } from './app';
import { consumerRoutes } from './consumerRoutes';
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
  /** The Kafka consumers' routes, and their figures in /metrics (computed at each scrape). */
  consumers?: ConsumersClient;
}

/** How long a scrape waits for the consumers' figures; past it /metrics answers without refreshing them. */
const CONSUMER_FIGURES_MS = 3_000;

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
    const consumers = opts.consumers;
    systemRoutes(app, {
      client: opts.client,
      ...(opts.probes ? { probes: opts.probes } : {}),
      ...(consumers ? { beforeMetrics: () => refreshConsumerFigures(consumers, app) } : {}),
    });
    jobRoutes(app, opts.client);
    if (consumers) consumerRoutes(app, consumers);
    for (const routes of opts.routes ?? []) routes(app);
  });
  return app;
}

/** Computes every consumer's status (which sets its series); a slow or failing dependency only leaves them as they were. */
async function refreshConsumerFigures(consumers: ConsumersClient, app: ApiApp): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<void>((resolve) => (timer = setTimeout(resolve, CONSUMER_FIGURES_MS)));
  await Promise.race([consumers.list().then(() => undefined), late])
    .catch((err: unknown) => app.log.warn({ err: (err as Error).message }, 'consumer figures not refreshed for /metrics'))
    .finally(() => clearTimeout(timer));
}

function digest(s: string): Buffer {
  return createHash('sha256').update(s).digest();
}
