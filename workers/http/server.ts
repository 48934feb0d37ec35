import fastifyCookie from '@fastify/cookie';
import fastifyCsrf from '@fastify/csrf-protection';
import Fastify, { type FastifyBaseLogger, type FastifyReply, type FastifyRequest, type HTTPMethods } from 'fastify';
import { serializerCompiler, validatorCompiler, type ZodTypeProvider } from 'fastify-type-provider-zod';
import type { ConsumersClient } from '../../client/consumersClient';
import type { JobsClient } from '../../client/jobsClient';
import { unstorableText } from '../../domain/text';
import type { Probes } from '../../observability/dependencies';
import { events } from '../../observability/events';
import { logger } from '../../observability/logger';
import type { ApiApp, ApiRoutes } from './app';
import { consumerRoutes } from './consumerRoutes';
import { consoleRoutes, isPublicConsolePath, type ConsoleOptions } from './console/plugin';
import { sendError } from './errors';
import { backfillRoutes } from './backfillRoutes';
import { dayRoutes } from './dayRoutes';
import { jobRoutes } from './jobRoutes';
import { documentServerAnswers, EXPLORER_PREFIX, registerExplorer, registerOpenApi } from './openapi';
import { Sessions, type AuthenticatedBy } from './session';
import { scheduleRoutes } from './scheduleRoutes';
import { systemRoutes } from './systemRoutes';

declare module 'fastify' {
  interface FastifyRequest {
    /** How the auth hook let the request in: a bearer token, or the console's session cookie. */
    authenticatedBy: AuthenticatedBy | null;
  }
}

export interface ApiOptions {
  client: JobsClient;
  token: string;
  /** Round trips to Postgres and Temporal for `/readyz`; without them `/readyz` has nothing to check and says ready. */
  probes?: Probes;
  /** The features' routes (e.g. the service's read API), registered behind the same auth. */
  routes?: ApiRoutes[];
  /** The Kafka consumers' routes, and their figures in /metrics (computed at each scrape). */
  consumers?: ConsumersClient;
  /** The console at /console (HTML for browsers, behind the same auth); left out, the API serves none. */
  console?: ConsoleOptions;
}

/** How long a scrape waits for the consumers' figures; past it /metrics answers without refreshing them. */
const CONSUMER_FIGURES_MS = 3_000;

/** Routes anyone may call: probes, metrics and the API's own description. */
export const PUBLIC_ROUTES: ReadonlySet<string> = new Set(['/healthz', '/readyz', '/metrics', '/openapi.json']);
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * The HTTP face of the job client: what Airflow's HttpOperator and HttpSensor, scripts and the console talk to. Its
 * routes and answers are an interface others build on (README, HTTP API); each route declares zod schemas for what it
 * takes and every answer it gives, which validate the requests, check the replies and make `GET /openapi.json`.
 */
export function buildApi(opts: ApiOptions): ApiApp {
  const app = Fastify({ loggerInstance: logger as FastifyBaseLogger, bodyLimit: 64 * 1024 }).withTypeProvider<ZodTypeProvider>();
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  // A JSON API: fastify would otherwise take text/plain bodies too, which no route's schema describes.
  app.removeContentTypeParser('text/plain');
  // Before the OpenAPI plugin, so the answers of the hooks below are in each route's schema when the plugin reads it.
  documentServerAnswers(app, (url) => PUBLIC_ROUTES.has(url));
  registerOpenApi(app);

  const sessions = new Sessions(opts.token);
  void app.register(fastifyCookie, { secret: sessions.cookieSecret });
  // Double-submit CSRF tokens: the secret in a signed cookie, the token in each form the console renders.
  void app.register(fastifyCsrf, { cookieKey: 'sj_csrf', cookieOpts: { path: '/', httpOnly: true, sameSite: 'strict', signed: true } });
  app.decorateRequest('authenticatedBy', null);

  // The one auth hook: a bearer token, or the session cookie the console's sign-in sets.
  app.addHook('onRequest', async (req, reply) => {
    const path = req.url.split('?')[0]!;
    if (PUBLIC_ROUTES.has(path) || isPublicConsolePath(path)) return;
    req.authenticatedBy = sessions.authenticate(req) ?? null;
    if (req.authenticatedBy) return;
    if (wantsPage(req)) return reply.redirect(`/console/sign-in?next=${encodeURIComponent(req.url)}`, 303);
    return reply
      .code(401)
      .header('www-authenticate', 'Bearer')
      .send({ error: 'unauthorized', message: 'send Authorization: Bearer <API_TOKEN>' });
  });
  // A browser sends its cookie with every request, so a change made on a cookie's authority must also carry the
  // CSRF token of a page this API rendered (a bearer token cannot be sent by another site's page).
  app.addHook('preValidation', (req, reply, done) => {
    if (req.authenticatedBy !== 'cookie' || SAFE_METHODS.has(req.method)) return done();
    app.csrfProtection(req, reply, done);
  });
  app.addHook('onResponse', async (req, reply) => {
    events.httpRequest(req.method, req.routeOptions.url ?? 'unmatched', reply.statusCode, reply.elapsedTime / 1000);
  });
  // Path and query values go to Postgres as text: one it cannot store would fail the query, a 500 for a bad request.
  // Only routes that declare parameters take them (and document the 400); the others ignore a query string.
  app.addHook('preValidation', async (req, reply) => {
    if (!req.routeOptions.schema?.params && !req.routeOptions.schema?.querystring) return;
    for (const [where, values] of [['path parameter', req.params], ['query parameter', req.query]] as const) {
      for (const [name, value] of Object.entries((values ?? {}) as Record<string, unknown>)) {
        for (const v of Array.isArray(value) ? value : [value]) {
          const problem = typeof v === 'string' ? unstorableText(v) : undefined;
          if (problem) return reply.code(400).send({ error: 'invalid_request', message: `${where} ${name} ${problem}` });
        }
      }
    }
  });
  const noRoute = (req: FastifyRequest, reply: FastifyReply) => {
    const path = req.url.split('?')[0]!;
    const allowed = HTTP_METHODS.filter((method) => app.findRoute({ method, url: path }));
    if (allowed.length === 0) return reply.code(404).send({ error: 'not_found', message: `no route ${req.method} ${req.url}` });
    return reply
      .code(405)
      .header('allow', allowed.join(', '))
      .send({ error: 'method_not_allowed', message: `${path} answers ${allowed.join(', ')}, not ${req.method}` });
  };
  app.setErrorHandler((err: Error & { statusCode?: number; code?: string }, req, reply) =>
    // A request for no route may fail before the not-found handler runs (a body it could not parse): no route is the answer.
    req.is404 ? noRoute(req, reply) : sendError(err, req, reply),
  );
  app.setNotFoundHandler(noRoute);

  // Routes go in after the OpenAPI plugin has loaded, so it sees each one as it is added.
  void app.after(() => {
    const consumers = opts.consumers;
    systemRoutes(app, {
      client: opts.client,
      ...(opts.probes ? { probes: opts.probes } : {}),
      ...(consumers ? { beforeMetrics: () => refreshConsumerFigures(consumers, app) } : {}),
    });
    jobRoutes(app, opts.client);
    scheduleRoutes(app, opts.client);
    backfillRoutes(app, opts.client);
    dayRoutes(app, opts.client);
    if (consumers) consumerRoutes(app, consumers);
    for (const routes of opts.routes ?? []) routes(app);
    if (opts.console) consoleRoutes(app, { ...opts.console, client: opts.client, sessions, ...(consumers ? { consumers } : {}) });
  });
  registerExplorer(app);
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

/** The methods a 405's Allow header may name (HEAD comes with every GET route). */
const HTTP_METHODS: HTTPMethods[] = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'];

/** A browser asking for a page of the console (a person to send to the sign-in page), not a program. */
function wantsPage(req: FastifyRequest): boolean {
  return (req.url.startsWith('/console') || req.url.startsWith(EXPLORER_PREFIX)) && (req.headers.accept ?? '').includes('text/html');
}
