import { z } from 'zod';
import { jobDays, type DayRow } from '../../client/days';
import type { JobsClient } from '../../client/jobsClient';
import { dayArg } from '../../jobs/args';
import type { ApiApp } from './app';
import { JOB_ERRORS } from './errors';

const Day = z
  .object({
    day: z.string(),
    status: z.enum(['queued', 'running', 'succeeded', 'failed', 'cancelled', 'timed_out', 'missing']).describe('missing: no run of the day exists; queued: its run waits for a permit of the job\'s concurrency limit'),
    attempts: z.number().int().describe('attempts recorded for the day, over all its runs'),
    runId: z.string().nullable().describe('the latest run (the runId its trigger returned)'),
    workflowId: z.string().nullable(),
    rows: z.number().nullable().describe("rows written by the latest attempt (the definition's keyMetrics.rows)"),
    rejects: z.number().nullable().describe('rejects of the latest attempt (keyMetrics.rejects)'),
    durationMs: z.number().nullable(),
    startedAt: z.string().nullable(),
    finishedAt: z.string().nullable(),
    error: z.string().nullable(),
  })
  .meta({ id: 'Day' }) satisfies z.ZodType<DayRow>;

/** `GET /jobs/{job}/days`: each day's latest status, for a partitioned job; the CLI's `days` renders the same rows. */
export function dayRoutes(app: ApiApp, client: JobsClient): void {
  app.get(
    '/jobs/:job/days',
    {
      schema: {
        tags: ['days'],
        summary: "each day's latest status (missing where no run exists), attempts, rows, rejects, duration and run ID",
        description: 'The answer carries its server time in a Server-Timing header.',
        params: z.object({ job: z.string().describe('a job that declares a partition') }),
        querystring: z.object({ from: dayArg.describe('first day, YYYY-MM-DD'), to: dayArg.describe('last day, at most ten years after from') }),
        response: { 200: z.object({ days: z.array(Day) }).describe('one row per day of the range, in order'), ...JOB_ERRORS },
      },
    },
    async (req, reply) => {
      const days = await jobDays(client.db, client.jobs, req.params.job, req.query.from, req.query.to);
      return reply.header('server-timing', `app;dur=${reply.elapsedTime.toFixed(1)}`).send({ days });
    },
  );
}
