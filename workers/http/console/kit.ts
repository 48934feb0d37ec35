import type { FastifyReply, FastifyRequest } from 'fastify';
import type { JobsClient } from '../../../client/jobsClient';
import type { RunView } from '../../../client/runViews';
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
