import { z } from 'zod';
import type { JobsClient } from '../../client/jobsClient';
import * as schedules from '../../client/schedules';
import type { ApiApp } from './app';
import { COMMON_ERRORS, ErrorBody } from './errors';

const Tick = z
  .object({
    scheduledAt: z.string().describe("the tick's nominal time (a trigger's: when it was asked for)"),
    outcome: z.enum(['started', 'skipped', 'buffered']).describe('buffered: waiting for the run holding the lock (overlap buffer_one)'),
    reason: z.string().nullable().describe('why it was skipped, naming the run that held the lock'),
    partition: z.string().nullable().describe('the partition (day) it ran'),
    workflowId: z.string().nullable().describe('the lock it went for'),
    runId: z.string().nullable().describe('the run it started, or the one holding the lock'),
    tickWorkflowId: z.string(),
    recordedAt: z.string(),
  })
  .meta({ id: 'Tick' }) satisfies z.ZodType<schedules.TickView>;

const Schedule = z
  .object({
    job: z.string(),
    scheduleId: z.string().describe('the Temporal Schedule: schedule/<job>'),
    spec: z.string().describe('`cron 0 11 * * * (UTC)` or `every 1h`'),
    timeZone: z.string(),
    overlap: z.enum(['skip', 'buffer_one']),
    partitionOffset: z.number().int().nullable().describe("the partition a tick runs, from its scheduled time's (-1: the day before)"),
    exists: z.boolean().describe('false until a worker has created it'),
    paused: z.boolean().nullable(),
    note: z.string().nullable(),
    nextFireTimes: z.array(z.string()).describe('the next three'),
    taskQueue: z.string().nullable(),
    lastTick: Tick.nullable(),
  })
  .meta({ id: 'Schedule' }) satisfies z.ZodType<schedules.ScheduleView>;

const JobParams = z.object({ job: z.string().describe('a job that declares a schedule') });
const SCHEDULE_ERRORS = { ...COMMON_ERRORS, 404: ErrorBody.describe('unknown job, a job without a schedule, or a schedule no worker has created yet') } as const;

/** `GET /schedules` and the operations on one job's schedule; the CLI's `schedules` and `schedule` do the same. */
export function scheduleRoutes(app: ApiApp, client: JobsClient): void {
  const deps = { temporal: client.temporal, db: client.db, jobs: client.jobs };

  app.get(
    '/schedules',
    {
      schema: {
        tags: ['schedules'],
        summary: "each job's schedule: spec, next three fire times, last tick and its outcome, paused or not",
        response: { 200: z.object({ schedules: z.array(Schedule) }).describe('every declared schedule'), ...COMMON_ERRORS },
      },
    },
    async () => ({ schedules: await schedules.listSchedules(deps) }),
  );

  app.get(
    '/schedules/:job/ticks',
    {
      schema: {
        tags: ['schedules'],
        summary: "a job's recent ticks, the latest scheduled first: started, or skipped with the reason",
        params: JobParams,
        querystring: z.object({ limit: z.coerce.number().int('must be a whole number from 1 to 500').min(1).max(500).default(20) }),
        response: { 200: z.object({ ticks: z.array(Tick) }).describe("the schedule's recent ticks, newest first"), ...SCHEDULE_ERRORS },
      },
    },
    async (req) => ({ ticks: await schedules.listTicks(deps, req.params.job, req.query.limit) }),
  );

  for (const action of ['pause', 'resume'] as const) {
    app.post(
      `/schedules/:job/${action}`,
      {
        schema: {
          tags: ['schedules'],
          summary: action === 'pause' ? 'pause the schedule (a worker start does not resume it)' : 'resume the schedule',
          params: JobParams,
          response: { 200: z.object({ job: z.string(), state: z.enum(['paused', 'active']) }).describe("the schedule's state now"), ...SCHEDULE_ERRORS },
        },
      },
      async (req) => {
        await (action === 'pause' ? schedules.pauseSchedule : schedules.resumeSchedule)(deps, req.params.job);
        return { job: req.params.job, state: action === 'pause' ? ('paused' as const) : ('active' as const) };
      },
    );
  }

  app.post(
    '/schedules/:job/trigger',
    {
      schema: {
        tags: ['schedules'],
        summary: 'one tick now: it runs the partition a tick at this moment runs, under the job lock',
        description: 'The tick\'s outcome follows in GET /schedules/{job}/ticks (scheduledAt = triggeredAt).',
        params: JobParams,
        response: { 202: z.object({ job: z.string(), scheduleId: z.string(), triggeredAt: z.string() }).describe('a tick was asked for now'), ...SCHEDULE_ERRORS },
      },
    },
    async (req, reply) => reply.code(202).send({ job: req.params.job, ...(await schedules.triggerSchedule(deps, req.params.job)) }),
  );
}
