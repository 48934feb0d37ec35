import { NamespaceNotFoundError } from '@temporalio/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { hasZodFastifySchemaValidationErrors } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { BackfillEndedError, UnknownBackfillError } from '../../client/backfills';
import { KafkaUnavailableError } from '../../client/consumersClient';
import { AlreadyRunningError } from '../../client/jobsClient';
import { RunNotFoundError } from '../../client/runViews';
import { isTemporalUnavailable, isTransientPgError } from '../../connections/untilReachable';
import { UnknownConsumerError } from '../../consumers/registry';
import { InvalidArgumentsError, UnknownJobError } from '../../jobs/registry';
import { InvalidRequestError } from '../../jobs/requestErrors';
import { UnknownScheduleError } from '../../jobs/schedule';

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

/**
 * What a route that needs Postgres or Temporal answers while one is away, besides its own answers. The server adds
 * the answers of its own checks to every route (401, 400, 413, 415: documentServerAnswers in openapi.ts).
 */
export const COMMON_ERRORS = {
  503: ErrorBody.describe('Postgres or Temporal is unreachable: retry later (Retry-After)'),
} as const;

/** The answer of a change (POST) sent on the console's session cookie without the CSRF token of a console page. */
export const CSRF_ERROR = { 403: ErrorBody.describe('sent with the session cookie but without its CSRF token') } as const;

/** Error answers of routes that name a job. */
export const JOB_ERRORS = { ...COMMON_ERRORS, 404: ErrorBody.describe('unknown job or run') } as const;

const FRAMEWORK_HINTS: Record<string, string> = {
  FST_ERR_CTP_BODY_TOO_LARGE: 'the limit is 64 KiB',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'send Content-Type: application/json',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'send a JSON object such as {"args": {}}, or no Content-Type',
  FST_ERR_CTP_INVALID_JSON_BODY: 'send a JSON object such as {"args": {}}',
  FST_CSRF_INVALID_TOKEN: 'a change made with the session cookie needs the CSRF token of a console page (form field _csrf or header x-csrf-token); or send Authorization: Bearer <API_TOKEN>',
  FST_CSRF_MISSING_SECRET: 'a change made with the session cookie needs the CSRF token of a console page: reload the page and send it again',
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

export interface ErrorAnswer {
  status: number;
  body: ErrorBody | z.output<typeof ConflictBody>;
  headers?: Record<string, string>;
  /** Why a 503: the dependency that is away. */
  away?: 'temporal' | 'postgres' | 'kafka';
}

/** The one mapping from what went wrong to the answer a caller gets (as JSON from the API, as a page in the console). */
export function errorAnswer(err: Error & { statusCode?: number; code?: string }): ErrorAnswer {
  if (hasZodFastifySchemaValidationErrors(err)) return { status: 400, body: { error: 'invalid_request', message: validationMessage(err) } };
  if (err instanceof UnknownJobError) return { status: 404, body: { error: 'unknown_job', message: err.message } };
  if (err instanceof RunNotFoundError) return { status: 404, body: { error: 'unknown_run', message: err.message } };
  if (err instanceof UnknownConsumerError) return { status: 404, body: { error: 'unknown_consumer', message: err.message } };
  if (err instanceof InvalidArgumentsError) return { status: 400, body: { error: 'invalid_args', message: err.message, issues: err.issues } };
  if (err instanceof InvalidRequestError) return { status: 400, body: { error: 'invalid_request', message: err.message } };
  if (err instanceof UnknownScheduleError) return { status: 404, body: { error: 'unknown_schedule', message: err.message } };
  if (err instanceof UnknownBackfillError) return { status: 404, body: { error: 'unknown_backfill', message: err.message } };
  if (err instanceof BackfillEndedError) return { status: 409, body: { error: 'backfill_ended', message: err.message } };
  if (err instanceof AlreadyRunningError) {
    return { status: 409, body: { error: 'already_running', workflowId: err.workflowId, runId: err.runId } };
  }
  // An outage is not the caller's mistake and not ours: say which dependency, and when to come back. A Temporal
  // server whose own database is away answers "namespace not found" for the namespace it has (it cannot read its
  // registry), so that is Temporal being unavailable too. Kafka first: its error carries the connection error
  // (ECONNREFUSED ...) that the other checks would also match; then Temporal: its errors' messages mention connections.
  const away =
    err instanceof KafkaUnavailableError
      ? 'kafka'
      : isTemporalUnavailable(err) || err instanceof NamespaceNotFoundError
        ? 'temporal'
        : isTransientPgError(err)
          ? 'postgres'
          : undefined;
  if (away) {
    return {
      status: 503,
      away,
      headers: { 'retry-after': '5' },
      body: { error: 'unavailable', message: `${away} is unreachable right now; retry in a few seconds` },
    };
  }
  if (err.statusCode && err.statusCode >= 400 && err.statusCode < 500) {
    // Fastify's own wording says what is wrong; these say what to send instead.
    const hint = FRAMEWORK_HINTS[err.code ?? ''];
    return { status: err.statusCode, body: { error: err.code ?? 'bad_request', message: hint ? `${err.message}: ${hint}` : err.message } };
  }
  return { status: 500, body: { error: 'internal', message: 'internal error; see the API log' } };
}

/** Logs what the answer alone does not tell: a dependency away (warn) or our own failure (error). */
export function logError(err: Error, answer: ErrorAnswer, req: FastifyRequest): void {
  if (answer.away) req.log.warn({ err: err.message, dependency: answer.away }, 'request refused: a dependency is unreachable');
  else if (answer.status >= 500) req.log.error({ err }, 'request failed');
}

export function sendError(err: Error & { statusCode?: number; code?: string }, req: FastifyRequest, reply: FastifyReply) {
  const answer = errorAnswer(err);
  logError(err, answer, req);
  return reply.code(answer.status).headers(answer.headers ?? {}).send(answer.body);
}
