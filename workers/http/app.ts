import type { FastifyBaseLogger, FastifyInstance, RawReplyDefaultExpression, RawRequestDefaultExpression, RawServerDefault } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';

/**
 * The API's fastify instance, typed by its zod schemas: a route's params, query and body are what its schemas
 * validate, and its replies must match the schema of their status code. Those same schemas make `GET /openapi.json`.
 */
export type ApiApp = FastifyInstance<RawServerDefault, RawRequestDefaultExpression, RawReplyDefaultExpression, FastifyBaseLogger, ZodTypeProvider>;

/** A group of routes (one area of the API: jobs, a feature's reads, ...), registered by the server in one place. */
export type ApiRoutes = (app: ApiApp) => void;
