import { z } from 'zod';
import { jobDays, type DayRow } from '../../../client/days';
import { AlreadyRunningError } from '../../../client/jobsClient';
import { TERMINAL_STATUSES } from '../../../db/jobRuns';
import { dayArg } from '../../../jobs/args';
import { InvalidRequestError } from '../../../jobs/requestErrors';
import type { ApiApp } from '../app';
import { confirmedAction, consolePath, type ConsoleKit } from './kit';

const DEFAULT_DAYS = 90;
/** The widest range the grid shows: a year (a leap year's too). */
export const MAX_DAYS = 366;
/** Every status a day can show: the run log's own, then `missing`. */
export const STATUSES = ['running', ...TERMINAL_STATUSES, 'missing'] as const satisfies readonly DayRow['status'][];
/** The days "rerun every failed day" takes: those whose latest run ended in a failure. */
const FAILED: readonly DayRow['status'][] = ['failed', 'timed_out'];

const Range = z.object({
  from: dayArg.optional(),
  to: dayArg.optional(),
  status: z.union([z.enum(STATUSES), z.array(z.enum(STATUSES))]).optional(),
  // What the rerun of the failed days did, announced on the grid it returns to.
  rerun: z.coerce.number().int().min(0).optional(),
  skipped: z.coerce.number().int().min(0).optional(),
});

/** The range asked for, or the last 90 days up to today (UTC); at most a year, so one page stays one screen. */
function rangeOf(q: { from?: string | undefined; to?: string | undefined }): { from: string; to: string } {
  const to = q.to ?? new Date().toISOString().slice(0, 10);
  const from = q.from ?? addDays(to, -(DEFAULT_DAYS - 1));
  const span = (Date.parse(to) - Date.parse(from)) / 86_400_000 + 1;
  if (span > MAX_DAYS) {
    throw new InvalidRequestError(`from ${from} to ${to} is ${span} days: the grid shows at most ${MAX_DAYS} (a year); narrow the range`);
  }
  return { from, to };
}

function addDays(day: string, n: number): string {
  return new Date(Date.parse(day) + n * 86_400_000).toISOString().slice(0, 10);
}

/** Months as rows, days of the month as columns: a year fits on a laptop screen. */
export function monthsOf(days: DayRow[]): { month: string; cells: (DayRow | null)[] }[] {
  const months = new Map<string, (DayRow | null)[]>();
  for (const d of days) {
    const month = d.day.slice(0, 7);
    const cells = months.get(month) ?? Array<DayRow | null>(31).fill(null);
    cells[Number(d.day.slice(8, 10)) - 1] = d;
    months.set(month, cells);
  }
  return [...months].map(([month, cells]) => ({ month, cells }));
}

/** A job's days: the grid of each day's latest status, a click to its run, and one confirmed rerun of the failed days. */
export function dayPages(app: ApiApp, kit: ConsoleKit): void {
  app.get('/jobs/:job/days', { schema: { hide: true, params: z.object({ job: z.string() }), querystring: Range } }, async (req, reply) => {
    const def = kit.client.jobs.get(req.params.job);
    const { from, to } = rangeOf(req.query);
    const shown = new Set(req.query.status === undefined ? STATUSES : [req.query.status].flat());
    const days = await jobDays(kit.client.db, kit.client.jobs, def.name, from, to);
    const counts = Object.fromEntries(STATUSES.map((s) => [s, days.filter((d) => d.status === s).length]));
    return kit.page(req, reply, 'days', {
      title: `${def.name}: days`,
      section: 'jobs',
      job: def.name,
      from,
      to,
      statuses: STATUSES,
      shown,
      counts,
      failed: days.filter((d) => FAILED.includes(d.status)).length,
      months: monthsOf(days),
      notice:
        req.query.rerun === undefined
          ? undefined
          : `Rerun started for ${req.query.rerun} failed day${req.query.rerun === 1 ? '' : 's'}` +
            (req.query.skipped ? `; ${req.query.skipped} already running again, left to that run.` : '.'),
    });
  });

  confirmedAction(app, kit, '/jobs/:job/days/rerun-failed', { params: z.object({ job: z.string() }), querystring: z.object({ from: dayArg, to: dayArg }) }, {
    async confirm({ job }, query) {
      const { from, to } = rangeOf(query);
      const failed = (await jobDays(kit.client.db, kit.client.jobs, job, from, to)).filter((d) => FAILED.includes(d.status));
      return {
        title: 'Rerun the failed days?',
        section: 'jobs',
        question: `Rerun ${failed.length} failed day${failed.length === 1 ? '' : 's'} of ${job}, each with the arguments of its latest run?`,
        details: [
          ['Job', job],
          ['Range', `${from} to ${to}`],
          ['Days', failed.map((d) => d.day).join('\n') || 'none'],
        ],
        button: `Rerun ${failed.length} days`,
        back: `${consolePath('jobs', job, 'days')}?from=${from}&to=${to}`,
      };
    },
    async perform({ job }, query) {
      const { from, to } = rangeOf(query);
      const failed = (await jobDays(kit.client.db, kit.client.jobs, job, from, to)).filter((d) => FAILED.includes(d.status) && d.runId);
      let started = 0;
      let running = 0;
      // One at a time, as the CLI's `rerun` does them: a day another caller started meanwhile is left to that run.
      for (const d of failed) {
        try {
          await kit.client.rerun(job, d.runId!);
          started++;
        } catch (err) {
          if (!(err instanceof AlreadyRunningError)) throw err;
          running++;
        }
      }
      return `${consolePath('jobs', job, 'days')}?from=${from}&to=${to}&rerun=${started}&skipped=${running}`;
    },
  });
}
