import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { RouteOptions } from 'fastify';
import { useStackEnv } from '../support/stack';

useStackEnv({ API_TOKEN: 'contract-token' });

import { serviceApi } from '../../workers/api';
import type { ApiApp } from '../../workers/http/app';
import { EXPLORER_PREFIX } from '../../workers/http/openapi';
import { PUBLIC_ROUTES } from '../../workers/http/server';
import { openRuntime, type Runtime } from '../../workers/runtime';

const TOKEN = 'contract-token';
const auth = { authorization: `Bearer ${TOKEN}` };

/** Routes that are deliberately not in the document, each with the reason. Anything else hidden is an omission. */
const NOT_IN_DOCUMENT: { matches: (url: string) => boolean; why: string }[] = [
  { matches: (url) => url === '/openapi.json', why: 'the document itself' },
  { matches: (url) => url === EXPLORER_PREFIX || url.startsWith(`${EXPLORER_PREFIX}/`), why: "the explorer's page and assets" },
  { matches: (url) => url === '/console' || url.startsWith('/console/'), why: "the console's HTML pages, for a browser" },
];

/** Authenticated operations that touch neither Postgres nor Temporal, so they cannot answer 503. */
const NO_DEPENDENCY = new Set(['GET /jobs']);

/** Fastify answers these on its own for every method with a body (malformed JSON, too large, not JSON). */
const BODY_METHODS = new Set(['post', 'put', 'patch', 'delete']);

type Schema = { $ref?: string; required?: string[]; properties?: Record<string, Schema>; type?: unknown };
interface Operation {
  security?: unknown[];
  parameters?: { in: string; name: string; required?: boolean }[];
  requestBody?: unknown;
  responses: Record<string, { description?: string; content?: Record<string, { schema: Schema }> }>;
}
interface Doc {
  openapi: string;
  paths: Record<string, Record<string, Operation>>;
  components: { schemas: Record<string, Schema> };
}

const openApiPath = (url: string) => url.replace(/:([A-Za-z0-9_]+)/g, '{$1}');
const concretePath = (path: string) => path.replace(/\{[^}]+\}/g, 'x');

describe('the OpenAPI document is the API: every route, every answer', { timeout: 120_000 }, () => {
  let rt: Runtime;
  let app: ApiApp;
  let doc: Doc;
  const routes: { method: string; url: string; hidden: boolean }[] = [];

  before(async () => {
    rt = await openRuntime();
    // The same function `scheduled-job api` serves, so the routes other areas register through it are all seen here.
    app = serviceApi(rt, TOKEN);
    app.addHook('onRoute', (r: RouteOptions) => {
      for (const method of [r.method].flat()) {
        // HEAD comes with every GET route (fastify's exposeHeadRoutes); the document lists the GET.
        if (method !== 'HEAD') routes.push({ method, url: r.url, hidden: Boolean((r.schema as { hide?: boolean } | undefined)?.hide) });
      }
    });
    await app.ready();
    const res = await app.inject({ method: 'GET', url: '/openapi.json' });
    assert.equal(res.statusCode, 200);
    doc = res.json<Doc>();
  });

  after(async () => {
    await app?.close();
    await rt?.close();
  });

  const operations = () =>
    Object.entries(doc.paths).flatMap(([path, methods]) => Object.entries(methods).map(([method, op]) => ({ path, method, op, name: `${method.toUpperCase()} ${path}` })));

  test('every route the API serves is in the document, and the document lists no route the API does not serve', () => {
    assert.ok(routes.length > 10, `routes seen: ${routes.length}`);
    const documented = new Set(operations().map((o) => o.name));
    const served = new Set<string>();
    const missing: string[] = [];
    for (const r of routes) {
      const name = `${r.method} ${openApiPath(r.url)}`;
      served.add(name);
      if (NOT_IN_DOCUMENT.some((n) => n.matches(r.url))) {
        assert.ok(!documented.has(name), `${name} is listed as not in the document, but it is`);
        continue;
      }
      if (!documented.has(name)) missing.push(`${name}${r.hidden ? ' (hidden: add it to NOT_IN_DOCUMENT with the reason, or document it)' : ''}`);
    }
    assert.deepEqual(missing, [], 'routes the API serves that the document does not list');
    assert.deepEqual([...documented].filter((n) => !served.has(n)), [], 'operations in the document that no route serves');
    for (const job of rt.jobs.list()) assert.ok(documented.has(`POST /jobs/${job.name}/runs`), `${job.name} has its own trigger operation`);
  });

  test('each operation documents the answers the server gives before its handler: 401, 400, 403, 413, 415', () => {
    const problems: string[] = [];
    for (const { path, method, op, name } of operations()) {
      const codes = Object.keys(op.responses);
      const isPublic = PUBLIC_ROUTES.has(path);
      if (isPublic && !(Array.isArray(op.security) && op.security.length === 0)) problems.push(`${name}: public, but its security is not []`);
      if (!isPublic && op.security !== undefined && op.security.length === 0) problems.push(`${name}: needs the token, but its security is []`);
      if (!isPublic && !codes.includes('401')) problems.push(`${name}: no 401`);
      if ((op.parameters?.length || op.requestBody) && !codes.includes('400')) problems.push(`${name}: takes input, no 400`);
      if (BODY_METHODS.has(method)) for (const c of ['400', '413', '415']) if (!codes.includes(c)) problems.push(`${name}: has a body, no ${c}`);
      if (BODY_METHODS.has(method) && !isPublic && !codes.includes('403')) problems.push(`${name}: a change behind auth, no 403 (CSRF)`);
    }
    assert.deepEqual(problems, []);
  });

  test('no operation documents a 500; every authenticated one that needs a dependency documents 503; every error body names its error', () => {
    const resolve = (s: Schema): Schema => (s.$ref ? resolve(doc.components.schemas[s.$ref.replace('#/components/schemas/', '')]!) : s);
    const problems: string[] = [];
    for (const { path, op, name } of operations()) {
      const codes = Object.keys(op.responses);
      for (const c of codes.filter((c) => c.startsWith('5') && c !== '503')) problems.push(`${name}: documents ${c}`);
      if (!PUBLIC_ROUTES.has(path) && !NO_DEPENDENCY.has(name) && !codes.includes('503')) {
        problems.push(`${name}: no 503 (a route that needs Postgres or Temporal answers 503 while one is away; add COMMON_ERRORS)`);
      }
      for (const [code, res] of Object.entries(op.responses)) {
        if (!res.description || res.description === 'Default Response') problems.push(`${name} ${code}: no description`);
        if (Number(code) < 400) continue;
        const schema = res.content?.['application/json']?.schema;
        if (!schema) {
          problems.push(`${name} ${code}: no JSON body`);
          continue;
        }
        const body = resolve(schema);
        // /readyz's 503 names the unreachable dependencies instead (load balancers read `ready`).
        const says = name === 'GET /readyz' ? ['ready', 'unreachable'] : ['error'];
        for (const field of says) if (!body.required?.includes(field)) problems.push(`${name} ${code}: the body does not require ${field}`);
      }
    }
    assert.deepEqual(problems, []);
  });

  test('the documented server answers are real: 401 without the token, 415 for a body that is not JSON, 413 over 64 KiB, 405 for another method', async () => {
    const problems: string[] = [];
    for (const { path, method, op, name } of operations()) {
      const url = concretePath(path);
      const M = method.toUpperCase() as 'GET' | 'POST';
      const anonymous = await app.inject({ method: M, url });
      if ('401' in op.responses ? anonymous.statusCode !== 401 : anonymous.statusCode === 401) {
        problems.push(`${name} without a token: ${anonymous.statusCode}`);
      }
      if (!BODY_METHODS.has(method)) continue;
      const text = await app.inject({ method: M, url, headers: { ...auth, 'content-type': 'text/plain' }, payload: 'hello' });
      if (text.statusCode !== 415 || text.json<{ error?: string }>().error === undefined) problems.push(`${name} text/plain: ${text.statusCode} ${text.body}`);
      const big = await app.inject({ method: M, url, headers: { ...auth, 'content-type': 'application/json' }, payload: JSON.stringify({ args: { x: 'y'.repeat(70_000) } }) });
      if (big.statusCode !== 413) problems.push(`${name} 70 KB body: ${big.statusCode}`);
      const malformed = await app.inject({ method: M, url, headers: { ...auth, 'content-type': 'application/json' }, payload: '{"args":' });
      if (malformed.statusCode !== 400) problems.push(`${name} malformed JSON: ${malformed.statusCode}`);
    }
    assert.deepEqual(problems, []);
    const wrongMethod = await app.inject({ method: 'DELETE', url: '/jobs', headers: auth });
    assert.equal(wrongMethod.statusCode, 405);
    assert.equal(wrongMethod.headers['allow'], 'GET, HEAD');
    assert.equal(wrongMethod.json<{ error: string }>().error, 'method_not_allowed');
    assert.equal((await app.inject({ method: 'GET', url: '/no/such/route', headers: auth })).statusCode, 404);
  });

  test('a query string on a route that takes none is ignored, not refused', async () => {
    assert.equal((await app.inject({ method: 'GET', url: '/healthz?x=%00' })).statusCode, 200);
    assert.equal((await app.inject({ method: 'GET', url: '/jobs?x=%00', headers: auth })).statusCode, 200);
  });

  test("the explorer page is behind the console's auth: the bearer token or the sign-in's session cookie", async () => {
    assert.equal((await app.inject({ method: 'GET', url: `${EXPLORER_PREFIX}/` })).statusCode, 401);
    const browser = await app.inject({ method: 'GET', url: `${EXPLORER_PREFIX}/`, headers: { accept: 'text/html' } });
    assert.equal(browser.statusCode, 303);
    assert.match(String(browser.headers['location']), /^\/console\/sign-in\?next=/);
    const signIn = await app.inject({ method: 'POST', url: '/console/sign-in', payload: { token: TOKEN, next: `${EXPLORER_PREFIX}/` } });
    assert.equal(signIn.statusCode, 303);
    const cookies = Object.fromEntries(signIn.cookies.map((c) => [c.name, c.value]));
    const withSession = await app.inject({ method: 'GET', url: `${EXPLORER_PREFIX}/`, headers: { accept: 'text/html' }, cookies });
    assert.equal(withSession.statusCode, 200);
    assert.match(withSession.body, /swagger-ui/i);
    const page = await app.inject({ method: 'GET', url: `${EXPLORER_PREFIX}/`, headers: auth });
    assert.equal(page.statusCode, 200);
    assert.match(page.body, /swagger-ui/i);
    const shown = await app.inject({ method: 'GET', url: `${EXPLORER_PREFIX}/json`, headers: auth });
    assert.deepEqual(shown.json(), doc, 'the explorer shows the document of /openapi.json');
  });
});
