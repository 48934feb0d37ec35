import type { FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import type { BackfillDeps } from '../../../client/backfills';
import type { JobsClient } from '../../../client/jobsClient';
import type { RunView } from '../../../client/runViews';
import type { ScheduleDeps } from '../../../client/schedules';
import type { ApiApp } from '../app';
import type { PageData, View } from './render';

export interface Link {
  label: string;
  href: string;
}

/** What the console's pages (its own and the features') are built with. */
export interface ConsoleKit {
  /** The same client the CLI and the JSON routes use: every action goes through it. */
  client: JobsClient;
  /** What the schedule and backfill operations take, built from the same client (as the JSON routes build them). */
  schedules: ScheduleDeps;
  backfills: BackfillDeps;
  readOnly: boolean;
  /** The workflow's page in the Temporal Web UI. */
  temporalLink(workflowId: string, runId: string): string;
  /** Renders a page in the console's frame. */
  page(req: FastifyRequest, reply: FastifyReply, view: View, data: PageData, status?: number): Promise<FastifyReply>;
  /** Links a run's page shows besides its own (e.g. the rejects of an ingest run's day). */
  runLinks(run: RunView): Link[];
}

/**
 * A feature's part of the console, handed over by `app/` as its API routes are: pages of its own under /console
 * (rendered in the console's frame, behind its auth) and links from the pages the console has.
 */
export interface ConsoleExtension {
  nav?: Link[];
  routes?: (app: ApiApp, kit: ConsoleKit) => void;
  runLinks?: (run: RunView) => Link[];
}

/** A console path with its segments encoded, e.g. consolePath('jobs', job, 'runs', runId). */
export function consolePath(...segments: string[]): string {
  return ['/console', ...segments.map(encodeURIComponent)].join('/');
}

/** An action's guard (a preHandler): in read-only mode no action runs, whatever the request says. */
export function refuseWhenReadOnly(kit: ConsoleKit) {
  return async () => {
    if (kit.readOnly) {
      throw Object.assign(new Error('the console is read-only (CONSOLE_READ_ONLY=true): use the CLI or the API'), { statusCode: 403, code: 'read_only' });
    }
  };
}

/** What a confirmation page shows before an action: the question, the facts it acts on, and where "no" goes. */
export interface Confirmation {
  title: string;
  section: string;
  question: string;
  details: [string, string][];
  button: string;
  back: string;
}

const Confirmed = z.object({ _csrf: z.string().optional() });

/**
 * An action of the console at `url` (relative to /console): GET shows its confirmation (a page of its own, so it works
 * without JavaScript and from the keyboard), POST performs it and redirects to the page `perform` returns. Both are
 * refused in read-only mode; the POST carries the CSRF token of the page (checked by the server for every change).
 */
export function confirmedAction<P extends z.ZodObject, Q extends z.ZodObject>(
  app: ApiApp,
  kit: ConsoleKit,
  url: string,
  schema: { params: P; querystring: Q },
  action: {
    confirm(params: z.output<P>, query: z.output<Q>): Promise<Confirmation>;
    perform(params: z.output<P>, query: z.output<Q>): Promise<string>;
  },
): void {
  const preHandler = refuseWhenReadOnly(kit);
  app.get(url, { schema: { hide: true, ...schema }, preHandler }, async (req, reply) =>
    kit.page(req, reply, 'confirm', { ...(await action.confirm(req.params as z.output<P>, req.query as z.output<Q>)) }),
  );
  app.post(url, { schema: { hide: true, ...schema, body: Confirmed }, preHandler }, async (req, reply) =>
    reply.redirect(await action.perform(req.params as z.output<P>, req.query as z.output<Q>), 303),
  );
}
