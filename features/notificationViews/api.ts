import type { FastifyInstance } from 'fastify';
import type { DataSource } from 'typeorm';
import { parseDay } from '../../domain/day';
import { summarizeViews } from './parse';
import { viewsOf } from './store';

/** The service's read API over what ingest wrote, summarised by the same domain module the ingest uses. */
export function notificationRoutes(ds: DataSource) {
  return (app: FastifyInstance): void => {
    app.get<{ Params: { id: string }; Querystring: { day?: string } }>('/notifications/:id/views', async (req, reply) => {
      let day: string;
      try {
        day = parseDay(req.query.day ?? '');
      } catch (err) {
        return reply.code(400).send({ error: 'invalid_request', message: `day: ${(err as Error).message}` });
      }
      const summary = summarizeViews(await viewsOf(ds, req.params.id, day));
      return { notificationId: req.params.id, day, ...summary };
    });
  };
}
