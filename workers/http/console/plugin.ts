import { readFileSync } from 'node:fs';
import path from 'node:path';
import fastifyFormbody from '@fastify/formbody';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { ConsumersClient } from '../../../client/consumersClient';
import type { JobsClient } from '../../../client/jobsClient';
import type { ApiApp } from '../app';
import { errorAnswer, logError } from '../errors';
import type { Sessions } from '../session';
import { backfillPages } from './backfillPages';
import { consumerPages } from './consumerPages';
import { dayPages } from './dayPages';
import { jobPages } from './jobPages';
import type { ConsoleExtension, ConsoleKit } from './kit';
import { CONSOLE_DIR, renderPage, type Frame } from './render';
import { runPages } from './runPages';
import { schedulePages } from './schedulePages';

export interface ConsoleOptions {
  /** Hides every action and refuses their requests (CONSOLE_READ_ONLY). */
  readOnly: boolean;
  /** The Temporal Web UI (TEMPORAL_UI_URL) and namespace, for a run's link to its workflow. */
  temporalUiUrl: string;
  namespace: string;
  /** The features' pages and links, from app/. */
  extensions?: ConsoleExtension[];
}

const ASSETS: Record<string, string> = { 'console.css': 'text/css; charset=utf-8', 'console.js': 'text/javascript; charset=utf-8' };

/** The sign-in page and the stylesheet and script (no data in them) are all a browser may fetch before signing in. */
export function isPublicConsolePath(p: string): boolean {
  return p === '/console/sign-in' || (p.startsWith('/console/assets/') && path.basename(p) in ASSETS);
}

/**
 * The console: server-rendered pages over the same client as the CLI and the JSON routes, for a person in a browser.
 * Its routes are left out of the OpenAPI document: they answer HTML, not the API's contract.
 */
export function consoleRoutes(app: ApiApp, opts: ConsoleOptions & { client: JobsClient; sessions: Sessions; consumers?: ConsumersClient }): void {
  const extensions = opts.extensions ?? [];
  // The Consumers pages exist where the API serves the consumers (their client is built with the API's Kafka client).
  const consumersNav = opts.consumers ? [{ label: 'Consumers', href: '/console/consumers' }] : [];
  const frame: Frame = { readOnly: opts.readOnly, nav: [...consumersNav, ...extensions.flatMap((e) => e.nav ?? [])] };
  const kit: ConsoleKit = {
    client: opts.client,
    schedules: { temporal: opts.client.temporal, db: opts.client.db, jobs: opts.client.jobs },
    backfills: { temporal: opts.client.temporal, jobs: opts.client.jobs, taskQueue: opts.client.taskQueue },
    readOnly: opts.readOnly,
    temporalLink: (workflowId, runId) =>
      `${opts.temporalUiUrl.replace(/\/$/, '')}/namespaces/${encodeURIComponent(opts.namespace)}/workflows/${encodeURIComponent(workflowId)}/${encodeURIComponent(runId)}/history`,
    page: (req, reply, view, data, status) => renderPage(req, reply, frame, view, data, status),
    runLinks: (run) => extensions.flatMap((e) => e.runLinks?.(run) ?? []),
  };
  const assets = Object.fromEntries(Object.keys(ASSETS).map((name) => [name, readFileSync(path.join(CONSOLE_DIR, 'assets', name))]));

  void app.register(
    async (scope) => {
      const c: ApiApp = scope.withTypeProvider<ZodTypeProvider>();
      // HTML forms post url-encoded bodies; only here, so the JSON routes keep refusing that content type.
      await c.register(fastifyFormbody);
      c.setErrorHandler(async (err: Error & { statusCode?: number; code?: string }, req, reply) => {
        const answer = errorAnswer(err);
        logError(err, answer, req);
        if (!(req.headers.accept ?? '').includes('text/html')) return reply.code(answer.status).headers(answer.headers ?? {}).send(answer.body);
        return kit.page(req, reply, 'error', { title: titleOf(answer.status), answer }, answer.status);
      });
      c.setNotFoundHandler((req, reply) =>
        kit.page(req, reply, 'error', { title: 'Not found', answer: { status: 404, body: { error: 'not_found', message: `no page ${req.url}` } } }, 404),
      );

      c.get('/assets/:name', { schema: { hide: true, params: z.object({ name: z.string() }) } }, async (req, reply) => {
        const body = assets[req.params.name];
        if (!body) return reply.callNotFound();
        return reply.type(ASSETS[req.params.name]!).header('cache-control', 'public, max-age=300').send(body);
      });

      const SignIn = z.object({ token: z.string().default(''), next: z.string().default('/console') });
      c.get('/sign-in', { schema: { hide: true, querystring: SignIn.pick({ next: true }) } }, async (req, reply) => {
        if (opts.sessions.authenticate(req)) return reply.redirect(safeNext(req.query.next), 303);
        return kit.page(req, reply, 'signIn', { title: 'Sign in', next: safeNext(req.query.next), failed: false });
      });
      c.post('/sign-in', { schema: { hide: true, body: SignIn } }, async (req, reply) => {
        if (!opts.sessions.isToken(req.body.token)) {
          return kit.page(req, reply, 'signIn', { title: 'Sign in', next: safeNext(req.body.next), failed: true }, 401);
        }
        opts.sessions.open(req, reply);
        return reply.redirect(safeNext(req.body.next), 303);
      });
      c.post('/sign-out', { schema: { hide: true } }, async (req, reply) => {
        opts.sessions.close(req, reply);
        return reply.redirect('/console/sign-in', 303);
      });

      jobPages(c, kit);
      runPages(c, kit);
      dayPages(c, kit);
      schedulePages(c, kit);
      backfillPages(c, kit);
      if (opts.consumers) consumerPages(c, kit, opts.consumers);
      for (const e of extensions) e.routes?.(c, kit);
    },
    { prefix: '/console' },
  );
}

/** Where to go after signing in: only a console page of this server, never another site. */
function safeNext(next: string): string {
  return /^\/console(\/[^/\\]|$|\?)/.test(next) && !next.includes('\\') ? next : '/console';
}

function titleOf(status: number): string {
  return ({ 400: 'Bad request', 403: 'Refused', 404: 'Not found', 409: 'Already running', 503: 'A dependency is unreachable' } as Record<number, string>)[status] ?? 'Error';
}
