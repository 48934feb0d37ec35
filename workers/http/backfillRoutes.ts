import { z } from 'zod';
import * as backfills from '../../client/backfills';
import type { JobsClient } from '../../client/jobsClient';
import { dayArg } from '../../jobs/args';
import type { BackfillProgress } from '../../workflows/backfillTypes';
import type { ApiApp } from './app';
import { COMMON_ERRORS, ErrorBody } from './errors';

const Outcome = z.enum(['skipped', 'succeeded', 'failed', 'cancelled', 'timed_out']);
const Counts = z.object({ skipped: z.number().int(), succeeded: z.number().int(), failed: z.number().int(), cancelled: z.number().int(), timed_out: z.number().int() });

const Progress = z
  .object({
    job: z.string(),
    from: z.string(),
    to: z.string(),
    total: z.number().int(),
    done: z.number().int().describe('days with a final outcome'),
    counts: Counts,
    inFlight: z.array(z.object({ day: z.string(), runId: z.string().nullable(), attached: z.boolean().describe("a run it waits for, another starter's") })),
    failed: z.array(z.object({ day: z.string(), outcome: Outcome, runId: z.string().nullable(), error: z.string().nullable() })),
    retried: z.number().int().describe('runs started again after a failure'),
    concurrency: z.number().int(),
    force: z.boolean(),
    startedAt: z.string(),
    continuedRuns: z.number().int().describe('continue-as-new so far'),
    phase: z.enum(['running', 'continuing as new', 'finished']),
  })
  .meta({ id: 'BackfillProgress' }) satisfies z.ZodType<BackfillProgress>;

const Backfill = z
  .object({
    id: z.string().describe('<from>..<to>'),
    job: z.string(),
    workflowId: z.string().describe('backfill/<job>/<from>/<to>'),
    runId: z.string(),
    status: z.enum(['running', 'completed', 'failed', 'cancelled', 'terminated', 'timed_out']),
    progress: Progress.nullable().describe('null while no worker answers'),
    error: z.string().nullable(),
  })
  .meta({ id: 'Backfill' }) satisfies z.ZodType<backfills.BackfillView>;

const Started = z
  .object({
    id: z.string(),
    workflowId: z.string(),
    runId: z.string(),
    attached: z.boolean().describe('a backfill of the same range was running: this is it, with its own options'),
  })
  .meta({ id: 'BackfillStarted' }) satisfies z.ZodType<backfills.StartedBackfill>;

const BackfillBody = z
  .strictObject({
    from: dayArg.describe('first day, YYYY-MM-DD'),
    to: dayArg.describe('last day, YYYY-MM-DD (at most ten years after from)'),
    concurrency: z.number().int().min(1).max(backfills.MAX_CONCURRENCY).optional().describe('days in flight at once (default 2)'),
    force: z.boolean().optional().describe('run days that already succeeded too'),
    args: z.record(z.string(), z.unknown()).optional().describe("arguments for every day beside the day's own"),
    retries: z.number().int().min(0).max(backfills.MAX_RETRIES).optional().describe('further runs of a failed day, after the others (default 1)'),
  })
  .meta({ id: 'BackfillRequest' });

const JobParams = z.object({ job: z.string().describe('a job that declares a partition') });
const BackfillParams = JobParams.extend({
  id: z
    .string()
    .regex(/^\d{4}-\d{2}-\d{2}\.\.\d{4}-\d{2}-\d{2}$/, 'must be <from>..<to>, e.g. 2024-05-01..2024-05-31')
    .describe('<from>..<to>, e.g. 2024-05-01..2024-05-31'),
});
const BACKFILL_ERRORS = { ...COMMON_ERRORS, 404: ErrorBody.describe('unknown job or backfill') } as const;

/** Durable backfills: start (or attach), status, cancel; the CLI's `backfill` does the same through the same module. */
export function backfillRoutes(app: ApiApp, client: JobsClient): void {
  const deps = { temporal: client.temporal, jobs: client.jobs, taskQueue: client.taskQueue };

  app.post(
    '/jobs/:job/backfills',
    {
      schema: {
        tags: ['backfills'],
        summary: 'start the durable backfill of a range of days, or attach to the one running for it',
        params: JobParams,
        body: BackfillBody,
        response: { 202: Started.describe('the backfill runs (or was running: attached)'), ...BACKFILL_ERRORS },
      },
    },
    async (req, reply) => {
      const { args, ...rest } = req.body;
      return reply.code(202).send(await backfills.startBackfill(deps, req.params.job, { ...rest, ...(args ? { args } : {}) }));
    },
  );

  app.get(
    '/jobs/:job/backfills/:id',
    { schema: { tags: ['backfills'], summary: "a backfill's status and progress", params: BackfillParams, response: { 200: Backfill.describe("the backfill's status"), ...BACKFILL_ERRORS } } },
    async (req) => backfills.backfillStatus(deps, req.params.job, req.params.id),
  );

  app.post(
    '/jobs/:job/backfills/:id/cancel',
    {
      schema: {
        tags: ['backfills'],
        summary: 'stop the backfill: no more days start, and the runs it started are cancelled',
        params: BackfillParams,
        response: { 202: z.object({ id: z.string(), workflowId: z.string(), status: z.literal('cancelling') }).describe('the backfill was asked to stop'), 409: ErrorBody.describe('it has already ended'), ...BACKFILL_ERRORS },
      },
    },
    async (req, reply) => reply.code(202).send({ ...(await backfills.cancelBackfill(deps, req.params.job, req.params.id)), status: 'cancelling' as const }),
  );
}
