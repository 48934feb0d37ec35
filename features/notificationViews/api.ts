import type { DataSource } from 'typeorm';
import { z } from 'zod';
import { dayArg } from '../../jobs/args';
import type { ApiRoutes } from '../../workers/http/app';
import { COMMON_ERRORS } from '../../workers/http/errors';
import { summarizeViews } from './parse';
import { viewsOf } from './store';

/** The service's read API over what ingest wrote, summarised by the same domain module the ingest uses. */
export function notificationRoutes(ds: DataSource): ApiRoutes {
  return (app) => {
    app.get(
      '/notifications/:id/views',
      {
        schema: {
          tags: ['notifications'],
          summary: 'views of one notification on one day',
          params: z.object({ id: z.string() }),
          querystring: z.object({ day: dayArg.describe('YYYY-MM-DD') }),
          response: {
            200: z.object({
              notificationId: z.string(),
              day: z.string(),
              total: z.number().int(),
              // Not z.record: it would rebuild the object and drop a platform named "__proto__" on the way out.
              byPlatform: z.unknown().meta({ type: 'object', additionalProperties: { type: 'integer' }, description: 'views per platform' }),
              firstViewedAt: z.iso.datetime().nullable(),
              lastViewedAt: z.iso.datetime().nullable(),
            }).describe('the views (all zero for a notification or day without any)'),
            ...COMMON_ERRORS,
          },
        },
      },
      async (req) => {
        const s = summarizeViews(await viewsOf(ds, req.params.id, req.query.day));
        return {
          notificationId: req.params.id,
          day: req.query.day,
          total: s.total,
          byPlatform: s.byPlatform,
          firstViewedAt: s.firstViewedAt?.toISOString() ?? null,
          lastViewedAt: s.lastViewedAt?.toISOString() ?? null,
        };
      },
    );
  };
}
