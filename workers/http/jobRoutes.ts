import { z } from 'zod';
import type { JobsClient } from '../../client/jobsClient';
import type { RunView } from '../../client/runViews';
import type { JobDefinition } from '../../jobs/definition';
import { contextFromHeaders, SpanKind, withSpan } from '../../observability/tracing';
import type { ApiApp } from './app';
import { COMMON_ERRORS, ConflictBody, CSRF_ERROR, JOB_ERRORS } from './errors';
import { OPTIONAL_BODY } from './openapi';

const RunStatus = z
  .enum(['queued', 'running', 'succeeded', 'failed', 'cancelled', 'timed_out'])
  .describe("queued: a run of a job with a concurrency limit waiting for a permit (not started yet); queued and running have not ended")
  .meta({ id: 'RunStatus' });

export const Run = z
  .object({
    job: z.string(),
    workflowId: z.string().describe('the lock: `<job>` or `<job>/<lock values>`'),
    runId: z.string().describe('the run its trigger returned; the same across whole-job retries'),
    latestRunId: z.string().describe("the latest attempt's Temporal run"),
    status: RunStatus,
    attempt: z.number().int(),
    args: z.record(z.string(), z.unknown()),
    startedAt: z.string(),
    finishedAt: z.string().nullable(),
    error: z.string().nullable(),
    metrics: z.record(z.string(), z.number()).describe('e.g. rowsWritten, rejected, durationMs'),
    queuePosition: z.number().int().nullable().optional().describe('a queued run\'s place in its queue: 1 runs next; null unless queued'),
    queuedAt: z.string().nullable().optional().describe('when a run of a limited job entered its queue; null for a job without a limit'),
  })
  .meta({ id: 'Run' });

const JobDescription = z
  .object({
    name: z.string(),
    description: z.string(),
    lockKey: z.array(z.string()).describe('arguments whose values join the job name in the workflow ID'),
    retries: z.number().int(),
    defaultArgs: z.record(z.string(), z.unknown()),
    argsSchema: z.unknown().describe('JSON Schema of the arguments'),
    partition: z.object({ arg: z.string(), kind: z.string() }).nullable().optional().describe('the argument that partitions the job: days view and backfills'),
    schedule: z.string().nullable().optional().describe('its declared schedule, e.g. `cron 0 11 * * * (UTC)`'),
    concurrency: z
      .object({ limit: z.number().int(), groupBy: z.array(z.string()).describe('with values, the limit holds per group of runs') })
      .nullable()
      .optional()
      .describe('at most `limit` runs at once; more wait, queued, in the order they came'),
    running: z.number().int().optional().describe('its runs running now'),
    queued: z.number().int().optional().describe('its runs waiting for a permit now'),
    alerts: z
      .object({
        on: z.array(z.string()).describe('failed, late, tick_skipped, tick_missed'),
        webhook: z.string().describe('where the workers read the URL: `in the definition` or `from $VARIABLE` (never the URL)'),
        signed: z.boolean().describe('whether each event carries an HMAC-SHA256 signature'),
        expectedBy: z.string().nullable().describe('the freshness deadline, e.g. `09:00 Europe/Paris, for the day before`'),
      })
      .nullable()
      .optional()
      .describe("the job's alert settings (without the webhook's URL or secret)"),
  })
  .meta({ id: 'Job' });

const Started = z
  .object({
    runId: z.string(),
    workflowId: z.string(),
    status: z.enum(['running', 'queued']).describe('queued: the job has a concurrency limit; the run starts once it holds a permit'),
  })
  .meta({ id: 'Started' });
// A job's own route cannot answer 404: the job exists. The parametric one answers 404 for every other name.
const JOB_TRIGGER_RESPONSES = {
  202: Started.describe('the run started'),
  409: ConflictBody.describe('a run holds the lock: attach to it or wait'),
  ...COMMON_ERRORS,
  ...CSRF_ERROR,
};
const TRIGGER_RESPONSES = { ...JOB_TRIGGER_RESPONSES, ...JOB_ERRORS };

const JobParams = z.object({ job: z.string().describe('a job name, see GET /jobs') });
const RunParams = JobParams.extend({ runId: z.string().describe('the runId a trigger returned') });
const AnyArgs = z.strictObject({ args: z.record(z.string(), z.unknown()).optional() });
const LIMIT_MESSAGE = 'must be a whole number from 1 (at most 500 are returned)';
const RunsQuery = z.object({ limit: z.coerce.number().int(LIMIT_MESSAGE).min(1, LIMIT_MESSAGE).default(20) });
const RunList = z.object({ runs: z.array(Run) }).describe('newest first');

type TriggerBody = z.ZodType<{ args?: Record<string, unknown> | undefined } | null | undefined>;

/**
 * What `POST /jobs/<job>/runs` takes for one job: its arguments as a caller sends them, where those the definition
 * fills in from its defaults may be left out; the body (and `args` in it) only when every argument may. The route
 * still resolves them through the job registry, which is what every other starter goes through too (defaults,
 * unknown fields, text Postgres cannot store).
 */
function triggerBodyOf(def: JobDefinition): { body: TriggerBody; optional: boolean } {
  if (!(def.args instanceof z.ZodObject)) return { body: AnyArgs.nullish(), optional: true };
  const defaulted: Record<string, true> = Object.fromEntries(Object.keys(def.defaultArgs ?? {}).map((k) => [k, true]));
  const args = (def.args as z.ZodObject).partial(defaulted as Record<never, true>).strict();
  const meta = { id: `${def.name}.trigger`, description: `arguments of ${def.name}` };
  if (!args.safeParse({}).success) return { body: z.strictObject({ args }).meta(meta), optional: false };
  return { body: z.strictObject({ args: args.optional() }).meta(meta).nullish(), optional: true };
}

/**
 * How long one request's Temporal calls may take, the client's own retries included: with the server away they would
 * retry for tens of seconds, and a caller (an HttpSensor, a load balancer) would see a hang instead of a 503.
 */
const TEMPORAL_DEADLINE_MS = 5_000;

export function jobRoutes(app: ApiApp, client: JobsClient): void {
  const withinDeadline = <T>(fn: () => Promise<T>): Promise<T> => client.temporal.withDeadline(Date.now() + TEMPORAL_DEADLINE_MS, fn);
  app.get(
    '/jobs',
    {
      schema: {
        tags: ['jobs'],
        summary: 'the job definitions, with how many of their runs run and wait now',
        response: { 200: z.object({ jobs: z.array(JobDescription) }).describe('every job this API can start'), ...COMMON_ERRORS },
      },
    },
    async () => ({ jobs: await client.describeJobs() }),
  );

  const trigger = async (job: string, args: Record<string, unknown> | undefined, headers: Record<string, unknown>) => {
    client.jobs.get(job);
    // The trace of a run starts here (or continues the caller's, from its traceparent header).
    const run = await withSpan(
      'POST /jobs/:job/runs',
      {
        kind: SpanKind.SERVER,
        parent: contextFromHeaders(headers as Record<string, string>),
        attributes: { 'http.request.method': 'POST', 'http.route': '/jobs/:job/runs', 'scheduled_job.job': job },
      },
      async (span) => {
        const started = await withinDeadline(() => client.trigger(job, args));
        span.setAttributes({ 'scheduled_job.workflow_id': started.workflowId, 'scheduled_job.run_id': started.runId });
        return started;
      },
    );
    return { runId: run.runId, workflowId: run.workflowId, status: run.status };
  };

  const listRuns = async (job: string, limit: number) => ({ runs: (await client.runs(job, Math.min(limit, 500))).map(publicView) });

  // One route per job, so the document shows each job's arguments (a client generator or a fuzzer sees the real
  // shape); the parametric route below answers the names no job has. Each job's path also lists its runs: a reader
  // of the document matches a concrete path before a templated one, so without it GET would seem not to be there.
  for (const def of client.jobs.list()) {
    const { body, optional } = triggerBodyOf(def);
    app.post(
      `/jobs/${def.name}/runs`,
      { schema: { tags: ['runs'], summary: `start a run of ${def.name}`, description: def.description, body, ...(optional ? OPTIONAL_BODY : {}), response: JOB_TRIGGER_RESPONSES } },
      async (req, reply) => reply.code(202).send(await trigger(def.name, req.body?.args, req.headers)),
    );
    app.get(
      `/jobs/${def.name}/runs`,
      { schema: { tags: ['runs'], summary: `recent runs of ${def.name}, newest first`, querystring: RunsQuery, response: { 200: RunList, ...COMMON_ERRORS } } },
      async (req) => listRuns(def.name, req.query.limit),
    );
  }
  app.post(
    '/jobs/:job/runs',
    { schema: { tags: ['runs'], summary: 'start a run of a job', params: JobParams, body: AnyArgs.nullish(), ...OPTIONAL_BODY, response: TRIGGER_RESPONSES } },
    async (req, reply) => reply.code(202).send(await trigger(req.params.job, req.body?.args, req.headers)),
  );

  app.get(
    '/jobs/:job/runs',
    { schema: { tags: ['runs'], summary: "a job's recent runs, newest first", params: JobParams, querystring: RunsQuery, response: { 200: RunList, ...JOB_ERRORS } } },
    async (req) => listRuns(req.params.job, req.query.limit),
  );

  app.get(
    '/jobs/:job/runs/:runId',
    { schema: { tags: ['runs'], summary: "a run's status, following whole-job retries to the latest attempt", params: RunParams, response: { 200: Run.describe("the run's status"), ...JOB_ERRORS } } },
    async (req) => {
      client.jobs.get(req.params.job);
      return publicView(await withinDeadline(() => client.status(req.params.job, req.params.runId)));
    },
  );

  app.post(
    '/jobs/:job/runs/:runId/cancel',
    {
      schema: {
        tags: ['runs'],
        summary: 'ask a running run to stop',
        params: RunParams,
        response: { 202: z.object({ runId: z.string(), status: z.literal('cancelling') }).describe('the run was asked to stop'), ...JOB_ERRORS, ...CSRF_ERROR },
      },
    },
    async (req, reply) => {
      client.jobs.get(req.params.job);
      await withinDeadline(() => client.cancel(req.params.job, req.params.runId));
      return reply.code(202).send({ runId: req.params.runId, status: 'cancelling' as const });
    },
  );
}

function publicView(v: RunView): z.output<typeof Run> {
  return {
    job: v.job,
    workflowId: v.workflowId,
    runId: v.runId,
    latestRunId: v.latestRunId,
    status: v.status,
    attempt: v.attempt,
    args: v.args,
    startedAt: v.startedAt,
    finishedAt: v.finishedAt,
    error: v.error,
    metrics: v.metrics,
    queuePosition: v.queuePosition,
    queuedAt: v.queuedAt,
  };
}
