import path from 'node:path';
import type { DataSource } from 'typeorm';
import { z } from 'zod';
import { PACKAGE_ROOT } from '../../config/packageRoot';
import { dayArg } from '../../jobs/args';
import { consolePath, type ConsoleExtension } from '../../workers/http/console/kit';
import { ingestNotificationViews } from './jobs';
import { rejectsByReason } from './store';

const REASONS_SHOWN = 50;
const SAMPLES_PER_REASON = 3;
// Templates stay outside the build (dist/), so the path is the package's, as the console's own.
const VIEW = path.join(PACKAGE_ROOT, 'features', 'notificationViews', 'views', 'rejects.eta');

/** The console's Rejects page: why a day's lines were quarantined, by reason, with the first lines of each. */
export function rejectsConsole(ds: DataSource): ConsoleExtension {
  return {
    nav: [{ label: 'Rejects', href: '/console/rejects' }],
    runLinks: (run) =>
      run.job === ingestNotificationViews.name && typeof run.args['day'] === 'string'
        ? [{ label: `Rejected lines of ${run.args['day']}`, href: consolePath('rejects', run.args['day']) }]
        : [],
    routes: (app, kit) => {
      app.get('/rejects', { schema: { hide: true, querystring: z.object({ day: dayArg.optional() }) } }, async (req, reply) => {
        if (req.query.day) return reply.redirect(consolePath('rejects', req.query.day), 303);
        return kit.page(req, reply, VIEW, { title: 'Rejects', day: '', total: 0, reasons: 0, groups: [], asked: false });
      });
      app.get('/rejects/:day', { schema: { hide: true, params: z.object({ day: dayArg }) } }, async (req, reply) => {
        const found = await rejectsByReason(ds, { day: req.params.day, reasons: REASONS_SHOWN, samples: SAMPLES_PER_REASON });
        return kit.page(req, reply, VIEW, { title: `Rejects of ${req.params.day}`, day: req.params.day, ...found, asked: true });
      });
    },
  };
}
