import { z } from 'zod';
import { backfillStatus, listBackfills, type BackfillView } from '../../../client/backfills';
import { getSchedule, listSchedules, listTicks, pauseSchedule, resumeSchedule, scheduleState, triggerSchedule, type ScheduleView } from '../../../client/schedules';
import type { ApiApp } from '../app';
import { PROGRESS_WAIT_MS } from './backfillPages';
import { fmt } from './format';
import { confirmedAction, consolePath, type Confirmation, type ConsoleKit } from './kit';

const BACKFILLS_SHOWN = 20;
const TICKS_SHOWN = 50;

const JobParams = z.object({ job: z.string() });
/** A trigger's time as triggerSchedule returned it (to the second), so the page can find its tick. */
const TRIGGERED = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.000Z$/;
const NOTICES = {
  pause: 'Schedule paused: it starts no tick until it is resumed (a worker start does not resume it).',
  resume: 'Schedule resumed: its next tick is below.',
} as const;

/**
 * Schedules and backfills: each schedule's last and next tick with the tick's outcome, pause/resume and a tick now;
 * each recent backfill's progress. Everything through client/schedules.ts and client/backfills.ts, as the CLI.
 */
export function schedulePages(app: ApiApp, kit: ConsoleKit): void {
  app.get('/schedules', { schema: { hide: true, querystring: z.object({ job: z.string().optional() }) } }, async (req, reply) => {
    const [schedules, listed] = await Promise.all([
      listSchedules(kit.schedules),
      listBackfills(kit.backfills, { limit: BACKFILLS_SHOWN, ...(req.query.job ? { job: req.query.job } : {}) }),
    ]);
    const backfills: BackfillView[] = await Promise.all(listed.map((b) => backfillStatus(kit.backfills, b.job, b.id, PROGRESS_WAIT_MS)));
    return kit.page(req, reply, 'schedules', {
      title: 'Schedules and backfills',
      section: 'schedules',
      schedules: schedules.map((s) => ({ ...s, state: scheduleState(s) })),
      backfills,
      job: req.query.job ?? null,
      fmt,
    });
  });

  app.get(
    '/schedules/:job',
    {
      schema: {
        hide: true,
        params: JobParams,
        querystring: z.object({ notice: z.enum(['pause', 'resume']).optional(), triggered: z.string().regex(TRIGGERED).optional() }),
      },
    },
    async (req, reply) => {
      const [schedule, ticks] = await Promise.all([getSchedule(kit.schedules, req.params.job), listTicks(kit.schedules, req.params.job, TICKS_SHOWN)]);
      const triggered = req.query.triggered;
      // A tick asked for here is shown once a worker has recorded it; until then the page refreshes itself.
      const waiting = triggered !== undefined && !ticks.some((t) => t.scheduledAt === triggered && t.outcome !== 'buffered');
      return kit.page(req, reply, 'schedule', {
        title: `Schedule of ${schedule.job}`,
        section: 'schedules',
        schedule: { ...schedule, state: scheduleState(schedule) },
        ticks,
        triggered: triggered ?? null,
        waiting,
        notice: req.query.notice ? NOTICES[req.query.notice] : undefined,
        fmt,
      });
    },
  );

  const NoQuery = z.object({});
  const confirmation = (s: ScheduleView, question: string, button: string): Confirmation => ({
    title: `${button}?`,
    section: 'schedules',
    question,
    details: [
      ['Job', s.job],
      ['Schedule', s.scheduleId],
      ['Spec', `${s.spec}, ${s.timeZone}`],
      ['State', scheduleState(s)],
      ['Next ticks', s.nextFireTimes.map(fmt.time).join('\n') || 'none'],
    ],
    button,
    back: consolePath('schedules', s.job),
  });

  confirmedAction(app, kit, '/schedules/:job/pause', { params: JobParams, querystring: NoQuery }, {
    confirm: async ({ job }) =>
      confirmation(await getSchedule(kit.schedules, job), 'Pause this schedule? It starts no tick until it is resumed; runs already started go on.', 'Pause the schedule'),
    async perform({ job }) {
      await pauseSchedule(kit.schedules, job, 'paused from the console');
      return `${consolePath('schedules', job)}?notice=pause`;
    },
  });
  confirmedAction(app, kit, '/schedules/:job/resume', { params: JobParams, querystring: NoQuery }, {
    confirm: async ({ job }) => confirmation(await getSchedule(kit.schedules, job), 'Resume this schedule? Its next tick follows its spec.', 'Resume the schedule'),
    async perform({ job }) {
      await resumeSchedule(kit.schedules, job, 'resumed from the console');
      return `${consolePath('schedules', job)}?notice=resume`;
    },
  });
  confirmedAction(app, kit, '/schedules/:job/trigger', { params: JobParams, querystring: NoQuery }, {
    confirm: async ({ job }) =>
      confirmation(
        await getSchedule(kit.schedules, job),
        'Tick now? The tick runs the partition a tick at this moment runs, under the job lock: if a run holds it, the tick is skipped and says which.',
        'Tick now',
      ),
    async perform({ job }) {
      const { triggeredAt } = await triggerSchedule(kit.schedules, job);
      return `${consolePath('schedules', job)}?triggered=${encodeURIComponent(triggeredAt)}`;
    },
  });
}
