import { z } from 'zod';
import type { ApiApp } from '../app';
import { fmt } from './format';
import { confirmedAction, consolePath, type ConsoleKit } from './kit';

const RunParams = z.object({ job: z.string(), runId: z.string() });

/** What an action's redirect may announce on the page it lands on (a fixed text, nothing from the request). */
const NOTICES = { rerun: 'Rerun started: this is the new run.', cancel: 'Cancel requested: the run stops at its next heartbeat.' } as const;

/** A run: every attempt, live progress while it runs, and its actions (rerun, cancel) behind a confirmation. */
export function runPages(app: ApiApp, kit: ConsoleKit): void {
  app.get(
    '/jobs/:job/runs/:runId',
    { schema: { hide: true, params: RunParams, querystring: z.object({ notice: z.enum(['rerun', 'cancel']).optional() }) } },
    async (req, reply) => {
      const { job, runId } = req.params;
      const [attempts, run] = await Promise.all([kit.client.attempts(job, runId), kit.client.status(job, runId)]);
      return kit.page(req, reply, 'run', {
        title: `${job} run`,
        section: 'jobs',
        run,
        // The run began with its first attempt; `run` is its latest.
        startedAt: attempts[0]!.startedAt,
        attempts: attempts.reverse(),
        temporalLink: kit.temporalLink(run.workflowId, run.latestRunId),
        links: kit.runLinks(run),
        notice: req.query.notice ? NOTICES[req.query.notice] : undefined,
        fmt,
      });
    },
  );

  const actions = {
    rerun: {
      question: 'Rerun this run with the same arguments?',
      button: 'Rerun',
      perform: async (job: string, runId: string) => (await kit.client.rerun(job, runId)).runId,
    },
    cancel: {
      question: 'Cancel this run? Its current attempt stops and it is not retried.',
      button: 'Cancel the run',
      perform: async (job: string, runId: string) => {
        await kit.client.cancel(job, runId);
        return runId;
      },
    },
  } as const;

  for (const [name, action] of Object.entries(actions) as [keyof typeof actions, (typeof actions)[keyof typeof actions]][]) {
    confirmedAction(app, kit, `/jobs/:job/runs/:runId/${name}`, { params: RunParams, querystring: z.object({}) }, {
      async confirm({ job, runId }) {
        const run = await kit.client.status(job, runId);
        return {
          title: `${action.button}?`,
          section: 'jobs',
          question: action.question,
          details: [
            ['Job', run.job],
            ['Workflow ID', run.workflowId],
            ['Run', run.runId],
            ['Status', run.status],
            ['Arguments', fmt.json(run.args)],
          ],
          button: action.button,
          back: consolePath('jobs', run.job, 'runs', run.runId),
        };
      },
      perform: async ({ job, runId }) => `${consolePath('jobs', job, 'runs', await action.perform(job, runId))}?notice=${name}`,
    });
  }
}
