import { z } from 'zod';
import type { ConsumersClient, ConsumerView } from '../../../client/consumersClient';
import type { ApiApp } from '../app';
import { fmt } from './format';
import { confirmedAction, consolePath, type Confirmation, type ConsoleKit } from './kit';

/** Dead-letter groups a consumer's page shows, largest first (the CLI's default too). */
const GROUPS_SHOWN = 20;
const NameParams = z.object({ name: z.string() });
const NOTICES = {
  pause: 'Consumer paused: the writes in flight have committed and nothing is written until it is resumed.',
  resume: 'Consumer resumed: it goes on from exactly where the pause stopped.',
} as const;

/**
 * The Kafka consumers: every consumer's state, lag, totals, dead letters and host; a consumer's partitions, dead
 * letters by reason with a sample, waiting partitions and last error; a confirmed pause/resume. Everything through
 * client/consumersClient.ts, the client `scheduled-job consumers` and the /consumers routes call.
 */
export function consumerPages(app: ApiApp, kit: ConsoleKit, consumers: ConsumersClient): void {
  app.get('/consumers', { schema: { hide: true } }, async (req, reply) =>
    kit.page(req, reply, 'consumers', { title: 'Consumers', section: 'consumers', consumers: await consumers.list(), fmt }),
  );

  app.get(
    '/consumers/:name',
    { schema: { hide: true, params: NameParams, querystring: z.object({ notice: z.enum(['pause', 'resume']).optional() }) } },
    async (req, reply) => {
      const [c, dead] = await Promise.all([consumers.status(req.params.name), consumers.deadLetters(req.params.name, { limit: GROUPS_SHOWN })]);
      return kit.page(req, reply, 'consumer', {
        title: `Consumer ${c.name}`,
        section: 'consumers',
        c,
        dead,
        temporalLink: c.workflow ? kit.temporalLink(c.workflow.workflowId, c.workflow.runId) : null,
        notice: req.query.notice ? NOTICES[req.query.notice] : undefined,
        fmt,
      });
    },
  );

  const confirmation = (c: ConsumerView, question: string, button: string): Confirmation => ({
    title: `${button}?`,
    section: 'consumers',
    question,
    details: [
      ['Consumer', c.name],
      ['Topics', c.topics.join(', ')],
      ['State', c.state],
      ['Lag', fmt.number(c.lag)],
      ['Host', c.host ? `${c.host.hostname} pid ${c.host.pid}` : 'none'],
    ],
    button,
    back: consolePath('consumers', c.name),
  });
  const by = 'console';
  confirmedAction(app, kit, '/consumers/:name/pause', { params: NameParams, querystring: z.object({}) }, {
    confirm: async ({ name }) =>
      confirmation(
        await consumers.status(name),
        'Pause this consumer? It stops describing and writing once its writes in flight have committed; nothing is written until it is resumed.',
        'Pause the consumer',
      ),
    async perform({ name }) {
      await consumers.pause(name, by);
      return `${consolePath('consumers', name)}?notice=pause`;
    },
  });
  confirmedAction(app, kit, '/consumers/:name/resume', { params: NameParams, querystring: z.object({}) }, {
    confirm: async ({ name }) =>
      confirmation(await consumers.status(name), 'Resume this consumer? It goes on from exactly where the pause stopped.', 'Resume the consumer'),
    async perform({ name }) {
      await consumers.resume(name, by);
      return `${consolePath('consumers', name)}?notice=resume`;
    },
  });
}

