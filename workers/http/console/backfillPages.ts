import { z } from 'zod';
import { backfillStatus, cancelBackfill } from '../../../client/backfills';
import { jobDays } from '../../../client/days';
import { parseBackfillId } from '../../../workflows/backfillTypes';
import type { ApiApp } from '../app';
import { MAX_DAYS, monthsOf, STATUSES } from './dayPages';
import { fmt } from './format';
import { confirmedAction, consolePath, type ConsoleKit } from './kit';

const BackfillParams = z.object({ job: z.string(), id: z.string() });
/** How long a page waits for a worker to answer a backfill's progress query before showing the backfill without. */
export const PROGRESS_WAIT_MS = 1_000;

/** A backfill: its progress, each day of its range as the days grid shows it, and a confirmed cancel. */
export function backfillPages(app: ApiApp, kit: ConsoleKit): void {
  app.get(
    '/jobs/:job/backfills/:id',
    { schema: { hide: true, params: BackfillParams, querystring: z.object({ notice: z.literal('cancel').optional() }) } },
    async (req, reply) => {
      const b = await backfillStatus(kit.backfills, req.params.job, req.params.id, PROGRESS_WAIT_MS);
      // In the order of the days, not of their endings.
      b.progress?.failed.sort((x, y) => x.day.localeCompare(y.day));
      b.progress?.inFlight.sort((x, y) => x.day.localeCompare(y.day));
      const range = parseBackfillId(b.id)!;
      const days = await jobDays(kit.client.db, kit.client.jobs, b.job, range.from, range.to);
      // A range past a year is shown as its first year: the days grid has the rest, a year at a time.
      const shown = days.slice(0, MAX_DAYS);
      return kit.page(req, reply, 'backfill', {
        title: `Backfill ${b.id} of ${b.job}`,
        section: 'schedules',
        b,
        months: monthsOf(shown),
        shown: new Set(STATUSES),
        clipped: days.length > shown.length ? { from: days[shown.length]!.day, to: days[Math.min(days.length, 2 * MAX_DAYS) - 1]!.day } : null,
        counts: Object.fromEntries(STATUSES.map((s) => [s, days.filter((d) => d.status === s).length])),
        temporalLink: kit.temporalLink(b.workflowId, b.runId),
        notice: req.query.notice === 'cancel' ? 'Cancel requested: the backfill starts no more days and cancels the runs it started.' : undefined,
        fmt,
      });
    },
  );

  confirmedAction(app, kit, '/jobs/:job/backfills/:id/cancel', { params: BackfillParams, querystring: z.object({}) }, {
    async confirm({ job, id }) {
      const b = await backfillStatus(kit.backfills, job, id, PROGRESS_WAIT_MS);
      return {
        title: 'Cancel the backfill?',
        section: 'schedules',
        question: 'Cancel this backfill? It starts no more days, and the runs it started are cancelled; days already done stay done.',
        details: [
          ['Job', b.job],
          ['Backfill', b.workflowId],
          ['Status', b.status],
          ['Progress', b.progress ? `${b.progress.done} of ${b.progress.total} days done, ${b.progress.inFlight.length} in flight` : 'unknown (no worker answered)'],
        ],
        button: 'Cancel the backfill',
        back: consolePath('jobs', b.job, 'backfills', b.id),
      };
    },
    async perform({ job, id }) {
      await cancelBackfill(kit.backfills, job, id);
      return `${consolePath('jobs', job, 'backfills', id)}?notice=cancel`;
    },
  });
}
