import { z } from 'zod';
import type { JobsClient } from '../../client/jobsClient';
import { checkDependencies, type Probes } from '../../observability/dependencies';
import { registry } from '../../observability/metrics';
import type { ApiApp } from './app';

const Ready = z.object({ ready: z.literal(true), dependencies: z.array(z.string()) });
const NotReady = z.object({
  ready: z.literal(false),
  unreachable: z.record(z.string(), z.string()).describe('each unreachable dependency and why'),
});

/** Liveness, readiness, metrics and the API's own OpenAPI document: no token needed. */
export function systemRoutes(app: ApiApp, opts: { client: JobsClient; probes?: Probes; beforeMetrics?: () => Promise<void> }): void {
  app.get('/healthz', { schema: { tags: ['system'], summary: 'liveness', response: { 200: z.object({ ok: z.literal(true) }).describe('the API process serves') } } }, async () => {
    opts.client.jobs.list();
    return { ok: true as const };
  });

  // For load balancers and orchestrators: whether this API can serve requests now. /healthz (liveness) stays 200
  // while a dependency is down, so an orchestrator does not restart an API that would only wait for it again.
  app.get(
    '/readyz',
    { schema: { tags: ['system'], summary: 'readiness: Postgres and Temporal answer', response: { 200: Ready.describe('ready'), 503: NotReady.describe('a dependency does not answer') } } },
    async (_req, reply) => {
      const results = opts.probes ? await checkDependencies(opts.probes) : {};
      const unreachable = Object.fromEntries(Object.entries(results).filter((e): e is [string, string] => e[1] !== undefined));
      if (Object.keys(unreachable).length === 0) return reply.code(200).send({ ready: true, dependencies: Object.keys(results) });
      return reply.code(503).send({ ready: false, unreachable });
    },
  );

  app.get(
    '/metrics',
    { schema: { tags: ['system'], summary: 'Prometheus metrics', produces: ['text/plain'], response: { 200: z.string().describe('Prometheus text format') } } },
    async (_req, reply) => {
      await opts.beforeMetrics?.();
      return reply.type(registry.contentType).send(await registry.metrics());
    },
  );

  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());
}
