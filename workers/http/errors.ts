import type { FastifyReply, FastifyRequest } from 'fastify';
import { hasZodFastifySchemaValidationErrors } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { AlreadyRunningError, RunNotFoundError } from '../../client/jobsClient';
import { isTemporalUnavailable, isTransientPgError } from '../../connections/untilReachable';
import { InvalidArgumentsError, UnknownJobError } from '../../jobs/registry';

/** Every 4xx and 5xx body: a machine-readable `error` and a `message` that says what to fix. */
export const ErrorBody = z
  .object({
    error: z.string().describe('a stable code, e.g. invalid_request, unknown_job, unauthorized, unavailable'),
    message: z.string().describe('what is wrong and what to send instead'),
    issues: z.array(z.string()).optional().describe('invalid_args: one entry per field, `args.<field>: <problem>`'),
  })
  .meta({ id: 'Error' });
export type ErrorBody = z.infer<typeof ErrorBody>;

export const ConflictBody = z
  .object({
    error: z.literal('already_running'),
    workflowId: z.string().describe("the lock: the running run's workflow ID"),
    runId: z.string().describe('the run that holds the lock (the runId its trigger returned)'),
  })
  .meta({ id: 'AlreadyRunning' });

/** Answers every route may give besides its own: a bad request, a missing token, a dependency away. */
export const COMMON_ERRORS = {
  400: ErrorBody.describe('the request does not fit: the message names the field'),
  401: ErrorBody.describe('missing or wrong bearer token'),
  503: ErrorBody.describe('Postgres or Temporal is unreachable: retry later (Retry-After)'),
} as const;

/** Error answers of routes that name a job. */
export const JOB_ERRORS = { ...COMMON_ERRORS, 404: ErrorBody.describe('unknown job or run') } as const;

const FRAMEWORK_HINTS: Record<string, string> = {
  FST_ERR_CTP_BODY_TOO_LARGE: 'the limit is 64 KiB',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'send Content-Type: application/json',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'send a JSON object such as {"args": {}}, or no Content-Type',
  FST_ERR_CTP_INVALID_JSON_BODY: 'send a JSON object such as {"args": {}}',
};

const WHERE: Record<string, string> = { body: '', querystring: 'query parameter ', params: 'path parameter ', headers: 'header ' };

/** A schema's complaint as `<where><field>: <problem>`, the field written as the caller wrote it (`args.day`). */
function validationMessage(err: { validation: { instancePath: string; message?: string }[]; validationContext?: string }): string {
  const where = WHERE[err.validationContext ?? 'body'] ?? '';
  return err.validation
    .slice(0, 5)
    .map((v) => {
      const field = v.instancePath.split('/').filter(Boolean).join('.');
      return `${(where + (field || (where ? '' : 'body'))).trim()}: ${v.message ?? 'invalid'}`;
    })
    .join('; ');
}

/** The one mapping from what went wrong to the answer a caller gets. */
export function sendError(err: Error & { statusCode?: number; code?: string }, req: FastifyRequest, reply: FastifyReply) {
  if (hasZodFastifySchemaValidationErrors(err)) {
    return reply.code(400).send({ error: 'invalid_request', message: validationMessage(err) });
  }
  if (err instanceof UnknownJobError) return reply.code(404).send({ error: 'unknown_job', message: err.message });
  if (err instanceof RunNotFoundError) return reply.code(404).send({ error: 'unknown_run', message: err.message });
  if (err instanceof InvalidArgumentsError) {
    return reply.code(400).send({ error: 'invalid_args', message: err.message, issues: err.issues });
  }
  if (err instanceof AlreadyRunningError) {
    return reply.code(409).send({ error: 'already_running', workflowId: err.workflowId, runId: err.runId });
  }
  // An outage is not the caller's mistake and not ours: say which dependency, and when to come back.
  const away = isTemporalUnavailable(err) ? 'temporal' : isTransientPgError(err) ? 'postgres' : undefined;
  if (away) {
    req.log.warn({ err: err.message, dependency: away }, 'request refused: a dependency is unreachable');
    return reply
      .code(503)
      .header('retry-after', '5')
      .send({ error: 'unavailable', message: `${away} is unreachable right now; nothing was changed, retry in a few seconds` });
  }
  if (err.statusCode && err.statusCode >= 400 && err.statusCode < 500) {
    // Fastify's own wording says what is wrong; these say what to send instead.
    const hint = FRAMEWORK_HINTS[err.code ?? ''];
    return reply.code(err.statusCode).send({ error: err.code ?? 'bad_request', message: hint ? `${err.message}: ${hint}` : err.message });
  }
  reply.log.error({ err }, 'request failed');
  return reply.code(500).send({ error: 'internal', message: 'internal error; see the API log' });
}
