import { z } from 'zod';
import type { ConsumersClient } from '../../client/consumersClient';
import { ConsumerView, DeadLetterReport, PauseResult } from '../../client/consumerViews';
import type { ApiApp } from './app';
import { COMMON_ERRORS, ErrorBody } from './errors';

const UNAVAILABLE = { 503: ErrorBody.describe('Postgres, Temporal or Kafka is unreachable: retry later (Retry-After)') } as const;
const CONSUMER_ERRORS = { ...COMMON_ERRORS, ...UNAVAILABLE, 404: ErrorBody.describe('unknown consumer: the message names the known ones') } as const;
const NameParams = z.object({ name: z.string().describe('a consumer name, see GET /consumers') });
const DeadLetterQuery = z.object({
  reason: z.string().min(1).max(300).optional().describe('only reasons starting with this'),
  limit: z.coerce.number().int().min(1).max(1000).default(20).describe('groups shown, largest first'),
});

/** The Kafka consumers: what `scheduled-job consumers` shows and does, over the same client. */
export function consumerRoutes(app: ApiApp, consumers: ConsumersClient): void {
  app.get(
    '/consumers',
    {
      schema: {
        tags: ['consumers'],
        summary: "every consumer's state, lag, lead, rate, totals and dead letters, computed now",
        response: { 200: z.object({ consumers: z.array(ConsumerView) }).describe('every consumer'), ...COMMON_ERRORS, ...UNAVAILABLE },
      },
    },
    async () => ({ consumers: await consumers.list() }),
  );

  app.get(
    '/consumers/:name',
    {
      schema: {
        tags: ['consumers'],
        summary: "one consumer, per partition: Kafka's end offset, the committed and applied offsets, lag, totals",
        params: NameParams,
        response: { 200: ConsumerView.describe('the consumer, computed now'), ...CONSUMER_ERRORS },
      },
    },
    async (req) => consumers.status(req.params.name),
  );

  for (const [verb, paused] of [['pause', true], ['resume', false]] as const) {
    app.post(
      `/consumers/:name/${verb}`,
      {
        schema: {
          tags: ['consumers'],
          summary: paused
            ? 'stop describing and writing: answers once the writes in flight have committed; nothing is written after it until resume'
            : 'go on from exactly where the pause stopped',
          params: NameParams,
          response: { 200: PauseResult.describe(paused ? 'paused: no write of it commits until resume' : 'resumed'), ...CONSUMER_ERRORS },
        },
      },
      async (req) => (paused ? consumers.pause(req.params.name, `api ${req.ip}`) : consumers.resume(req.params.name, `api ${req.ip}`)),
    );
  }

  app.get(
    '/consumers/:name/dead-letters',
    {
      schema: {
        tags: ['consumers'],
        summary: 'dead letters grouped by reason (numbers taken out): counts, offsets, a sample, the replay command',
        params: NameParams,
        querystring: DeadLetterQuery,
        response: { 200: DeadLetterReport.describe('the groups, largest first'), ...CONSUMER_ERRORS },
      },
    },
    async (req) => consumers.deadLetters(req.params.name, { ...(req.query.reason !== undefined ? { reason: req.query.reason } : {}), limit: req.query.limit }),
  );
}
