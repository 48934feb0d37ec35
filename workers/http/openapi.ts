import fastifySwagger from '@fastify/swagger';
import { jsonSchemaTransform, jsonSchemaTransformObject } from 'fastify-type-provider-zod';
import type { ApiApp } from './app';

/** Marks a route whose body may be left out (the document generator marks every body required). */
export const OPTIONAL_BODY = { 'x-body-optional': true } as const;

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
    transformObject: (input) => withOptionalBodies(jsonSchemaTransformObject(input)),
  });
}

function withOptionalBodies<T>(doc: T): T {
  const paths = (doc as { paths?: Record<string, Record<string, Record<string, unknown>>> }).paths ?? {};
  for (const op of Object.values(paths).flatMap((methods) => Object.values(methods))) {
    if (!op['x-body-optional']) continue;
    delete op['x-body-optional'];
    (op['requestBody'] as { required: boolean }).required = false;
  }
  return doc;
}
