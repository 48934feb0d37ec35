import fastifySwagger from '@fastify/swagger';
import fastifySwaggerUi from '@fastify/swagger-ui';
import type { FastifySchema } from 'fastify';
import { jsonSchemaTransform, jsonSchemaTransformObject } from 'fastify-type-provider-zod';
import type { ApiApp } from './app';
import { ErrorBody } from './errors';

/** Marks a route whose body may be left out (the document generator marks every body required). */
export const OPTIONAL_BODY = { 'x-body-optional': true } as const;

/** Where the API explorer (Swagger UI over this document) is served, behind the same auth as every other route. */
export const EXPLORER_PREFIX = '/docs';

/** Methods whose body fastify parses before the route sees it (so a malformed or oversized one is refused first). */
const BODY_METHODS = new Set(['POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS', 'QUERY']);

/**
 * Adds to every route's answers those the server gives on its own, before the route's handler runs: 401 from the
 * token check (every route but the public ones), 400 from schema validation and the text check of path and query
 * values (every route with parameters or a body), 400/413/415 from fastify's body parser (every method with a
 * body: malformed JSON, over 64 KiB, not JSON) and 403 from the CSRF check of a change sent with the session cookie. A route declares only its own answers; public routes are marked as
 * needing no token. Must be added before the OpenAPI plugin, which reads each route's schema as it is added.
 */
export function documentServerAnswers(app: ApiApp, isPublic: (url: string) => boolean): void {
  app.addHook('onRoute', (route) => {
    const schema: FastifySchema = route.schema ?? {};
    if (schema.hide || route.method === 'HEAD') return;
    const answers: Record<string, unknown> = {};
    if (isPublic(route.url)) schema.security = [];
    else answers[401] = ErrorBody.describe('missing or wrong bearer token');
    if (schema.params || schema.querystring || schema.body) answers[400] = ErrorBody.describe('the request does not fit its schema: the message names the field');
    for (const method of [route.method].flat()) {
      if (!BODY_METHODS.has(method)) continue;
      answers[400] = ErrorBody.describe('the request does not fit: malformed JSON, or the message names the field');
      answers[413] = ErrorBody.describe('the body is over 64 KiB');
      answers[415] = ErrorBody.describe('the body is not JSON: send Content-Type: application/json');
      if (!isPublic(route.url)) answers[403] = ErrorBody.describe("sent with the console's session cookie but without its CSRF token");
    }
    schema.response = { ...answers, ...(schema.response as Record<string, unknown> | undefined) };
    route.schema = schema;
  });
}

/**
 * The OpenAPI document, generated from the routes' zod schemas as they are added (so register this before them);
 * served at `GET /openapi.json`.
 */
export function registerOpenApi(app: ApiApp): void {
  void app.register(fastifySwagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'scheduled-job',
        version: '1',
        description:
          'Trigger, watch and steer data-engineering jobs that run on Temporal. Every route but /healthz, /readyz, /metrics and /openapi.json needs `Authorization: Bearer <API_TOKEN>`.',
      },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
      security: [{ bearer: [] }],
    },
    transform: jsonSchemaTransform,
    transformObject: (input) => withoutUnusedComponents(withOptionalBodies(jsonSchemaTransformObject(input))),
  });
}

/** Swagger UI at EXPLORER_PREFIX: try every route of the document from a browser. Its pages are not in the document. */
export function registerExplorer(app: ApiApp): void {
  void app.register(fastifySwaggerUi, {
    routePrefix: EXPLORER_PREFIX,
    uiConfig: { persistAuthorization: true },
    staticCSP: true,
  });
}

type Doc = { paths?: Record<string, Record<string, Record<string, unknown>>>; components?: { schemas?: Record<string, unknown> } };

function withOptionalBodies<T>(doc: T): T {
  for (const op of Object.values((doc as Doc).paths ?? {}).flatMap((methods) => Object.values(methods))) {
    if (!op['x-body-optional']) continue;
    delete op['x-body-optional'];
    (op['requestBody'] as { required: boolean }).required = false;
  }
  return doc;
}

/**
 * Keeps the components some route refers to. The zod registry names every schema with an id twice (its input and
 * its output form) and holds every such schema of the process, so the document would otherwise list shapes no route
 * takes or gives, and every client generated from it would carry them.
 */
function withoutUnusedComponents<T>(doc: T): T {
  const schemas = (doc as Doc).components?.schemas;
  if (!schemas) return doc;
  const used = new Set<string>();
  const visit = (node: unknown): void => {
    if (Array.isArray(node)) return node.forEach(visit);
    if (!node || typeof node !== 'object') return;
    for (const [key, value] of Object.entries(node)) {
      const name = key === '$ref' && typeof value === 'string' ? /^#\/components\/schemas\/(.+)$/.exec(value)?.[1] : undefined;
      if (name !== undefined && !used.has(name)) {
        used.add(name);
        visit(schemas[name]);
      } else visit(value);
    }
  };
  visit((doc as Doc).paths);
  for (const name of Object.keys(schemas)) if (!used.has(name)) delete schemas[name];
  return doc;
}
