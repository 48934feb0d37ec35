import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Eta } from 'eta';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { PACKAGE_ROOT } from '../../../config/packageRoot';

/** Templates stay outside the build (dist/): they are read from the package, like the Avro schemas. */
export const CONSOLE_DIR = path.join(PACKAGE_ROOT, 'workers', 'http', 'console');

// `<%= %>` escapes (autoEscape): every value that came from data is text, never markup. `<%~ %>` is kept for the
// layout's body, which is a page this module rendered.
const eta = new Eta({ views: path.join(CONSOLE_DIR, 'views'), cache: true, autoEscape: true, autoTrim: [false, 'nl'] });
const compiled = new Map<string, ReturnType<Eta['compile']>>();

export interface Frame {
  readOnly: boolean;
  /** Navigation entries besides the built-in ones (a feature's pages). */
  nav: readonly { label: string; href: string }[];
}

export interface PageData {
  title: string;
  /** Which navigation entry is current. */
  section?: string;
  [key: string]: unknown;
}

/** A template of the console (a name in views/) or a feature's own template file (an absolute path). */
export type View = string;

/** Renders `view` inside the console's layout, with what every page needs (CSRF token, read-only flag, nav). */
export async function renderPage(req: FastifyRequest, reply: FastifyReply, frame: Frame, view: View, data: PageData, status = 200) {
  const common = {
    ...data,
    readOnly: frame.readOnly,
    csrf: req.authenticatedBy ? reply.generateCsrf() : '',
    signedIn: req.authenticatedBy !== null,
    path: req.url.split('?')[0],
  };
  const body = path.isAbsolute(view) ? eta.render(compiledFile(view), common) : eta.render(view, common);
  const html = eta.render('layout', { ...common, nav: frame.nav, body });
  return reply
    .code(status)
    .type('text/html; charset=utf-8')
    .header('cache-control', 'no-store')
    .header('content-security-policy', CSP)
    .header('x-content-type-options', 'nosniff')
    .header('referrer-policy', 'same-origin')
    // The server's time for the page, queries and rendering included (the days grid's budget is measured by it).
    .header('server-timing', `app;dur=${reply.elapsedTime.toFixed(1)}`)
    .send(html);
}

/** Only our own files: no inline script can run even if something slipped through escaping. */
const CSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

function compiledFile(file: string) {
  let fn = compiled.get(file);
  if (!fn) {
    fn = eta.compile(readFileSync(file, 'utf8'));
    compiled.set(file, fn);
  }
  return fn;
}
