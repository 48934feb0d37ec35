import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { Argument, Command, Option } from 'commander';
import type { JobsClient } from '../client/jobsClient';
import type { RunView } from '../client/runViews';
import { PACKAGE_ROOT } from '../config/packageRoot';
import type { JobArgs } from '../workflows/types';
import { registerBackfillCommands } from './cli/backfillCommands';
import { withCli } from './cli/context';
import { jsonArgs, positiveInt } from './cli/options';
import { registerScheduleCommands } from './cli/scheduleCommands';

// Each command requires the modules it uses when it runs, not at start: loading them all (the Temporal client and
// worker, TypeORM, fastify, OpenTelemetry, the AWS SDK) is most of a second, which `--help` and `status` need not pay.
// The commands that operate runs open only what they use (workers/cli/context.ts); only `worker`, `api` and `migrate`
// open TypeORM and migrate.
const load = {
  runViews: () => require('../client/runViews') as typeof import('../client/runViews'),
  jobDescriptions: () => require('../client/jobDescriptions') as typeof import('../client/jobDescriptions'),
  migrate: () => require('./migrate') as typeof import('./migrate'),
  worker: () => require('./worker') as typeof import('./worker'),
  api: () => require('./api') as typeof import('./api'),
  workflowBundle: () => require('./workflowBundle') as typeof import('./workflowBundle'),
};

const program = new Command('scheduled-job')
  .description('Data-engineering jobs on Temporal: trigger, inspect, rerun and backfill runs; run the worker and API.')
  .showHelpAfterError();

function printRun(v: RunView): void {
  console.log(JSON.stringify(v, null, 2));
}

function exitCodeOf(v: RunView): number {
  return v.status === 'succeeded' ? 0 : 1;
}

async function waitWithProgress(client: JobsClient, job: string, runId: string): Promise<RunView> {
  let last = '';
  return client.waitFor(job, runId, (v) => {
    const place = v.queuePosition !== null ? ` (place ${v.queuePosition} in the queue)` : '';
    const line = `[${new Date().toISOString()}] ${v.status}${place} attempt ${v.attempt} ${JSON.stringify(v.metrics)}`;
    if (line.slice(27) !== last) console.error(line);
    last = line.slice(27);
  });
}

program
  .command('trigger <job>')
  .description('start a run of <job>; refused while a run holds the job lock')
  .option('--args <json>', 'job arguments as a JSON object', jsonArgs)
  .option('--wait', 'wait for the run to end, showing progress; exit 1 unless it succeeds')
  .action(async (job: string, opts: { args?: JobArgs; wait?: boolean }) => {
    process.exitCode = await withCli(async (cx) => {
      const client = await cx.jobsClient();
      const run = await cx.traced('scheduled-job trigger', { 'scheduled_job.job': job }, () => client.trigger(job, opts.args));
      console.log(JSON.stringify({ runId: run.runId, workflowId: run.workflowId, status: run.status }));
      if (!opts.wait) return 0;
      const view = await waitWithProgress(client, job, run.runId);
      printRun(view);
      return exitCodeOf(view);
    });
  });

program
  .command('jobs')
  .description('every job: its lock, concurrency limit with its running and queued runs, schedule and alert settings')
  .option('--json', 'print what GET /jobs answers')
  .action(async (opts: { json?: boolean }) => {
    await withCli(async (cx) => {
      const jobs = await load.jobDescriptions().describeJobs(cx.db, cx.jobs());
      if (opts.json) return console.log(JSON.stringify({ jobs }, null, 2));
      console.table(
        jobs.map((j) => ({
          job: j.name,
          lock: [j.name, ...j.lockKey.map((k) => `<${k}>`)].join('/'),
          limit: j.concurrency ? `${j.concurrency.limit}${j.concurrency.groupBy.length > 0 ? ` per ${j.concurrency.groupBy.join(', ')}` : ''}` : '',
          running: j.running,
          queued: j.queued,
          schedule: j.schedule ?? '',
          alerts: j.alerts ? `${j.alerts.on.join(', ')}${j.alerts.signed ? ' (signed)' : ''}${j.alerts.expectedBy ? `; by ${j.alerts.expectedBy}` : ''}` : '',
        })),
      );
    });
  });

program
  .command('status <job> <runId>')
  .description("a run's status, following whole-job retries to the latest attempt")
  .action(async (job: string, runId: string) => {
    process.exitCode = await withCli(async (cx) => {
      const view = await load.runViews().runStatus(cx.db, cx.temporal, job, runId);
      printRun(view);
      return view.status === 'failed' || view.status === 'timed_out' ? 1 : 0;
    });
  });

program
  .command('runs <job>')
  .description('recent runs of <job>, newest first')
  .option('--limit <n>', 'how many', positiveInt, 20)
  .action(async (job: string, opts: { limit: number }) => {
    await withCli(async (cx) => {
      const runs = await load.runViews().recentRuns(cx.db, cx.jobs(), job, opts.limit);
      console.table(
        runs.map((r) => ({
          runId: r.runId,
          workflowId: r.workflowId,
          status: r.status,
          attempt: r.attempt,
          startedAt: r.startedAt,
          finishedAt: r.finishedAt ?? '',
          error: (r.error ?? '').slice(0, 60),
        })),
      );
    });
  });

program
  .command('rerun <job> <runId>')
  .description('start <job> again with the arguments of an earlier run')
  .option('--wait', 'wait for the new run to end')
  .action(async (job: string, runId: string, opts: { wait?: boolean }) => {
    process.exitCode = await withCli(async (cx) => {
      const client = await cx.jobsClient();
      const run = await client.rerun(job, runId);
      console.log(JSON.stringify({ runId: run.runId, workflowId: run.workflowId, args: run.args, status: run.status }));
      if (!opts.wait) return 0;
      const view = await waitWithProgress(client, job, run.runId);
      printRun(view);
      return exitCodeOf(view);
    });
  });

program
  .command('cancel <job> <runId>')
  .description('ask a running run to stop; its activities see the cancel at their next heartbeat')
  .action(async (job: string, runId: string) => {
    await withCli(async (cx) => {
      await (await cx.jobsClient()).cancel(job, runId);
      console.log(JSON.stringify({ runId, status: 'cancelling' }));
    });
  });

registerScheduleCommands(program);
registerBackfillCommands(program);

program
  .command('worker')
  .description('run the Temporal worker (all workflows and activities)')
  .action(() => load.worker().runWorker());
program
  .command('bundle-workflows <out>', { hidden: true })
  .description('write the workflow bundle to <out> (set SCHEDULED_JOB_WORKFLOW_BUNDLE to it to skip bundling at start)')
  .action(async (out: string) => load.workflowBundle().writeWorkflowBundle(out));
program
  .command('migrate')
  .description("bring the database's schema up to date and exit (the worker and the API also do it at start)")
  .action(async () => load.migrate().runMigrate());
program
  .command('api')
  .description('run the HTTP trigger/status API')
  .action(() => load.api().runApi());

program
  .command('stack')
  .description('the local services (Temporal + Web UI, Postgres, Kafka, S3) without Docker')
  .addArgument(new Argument('<action>').choices(['up', 'down', 'status', 'env', 'install']))
  .addOption(
    new Option('--temporal <kind>', 'up/install: the dev server (SQLite), or the Temporal server on the stack\'s PostgreSQL; remembered by the stack')
      .choices(['dev', 'server']),
  )
  .action((action: string, opts: { temporal?: string }) => {
    const script = path.join(PACKAGE_ROOT, 'stack', 'stack.sh');
    const r = spawnSync('bash', [script, action, ...(opts.temporal ? ['--temporal', opts.temporal] : [])], { stdio: 'inherit' });
    process.exitCode = r.status ?? 1;
  });

(require('./cli/consumerCommands') as typeof import('./cli/consumerCommands')).registerConsumerCommands(program);

/** SQLSTATE of a missing table: the commands do not migrate, and nothing has yet. */
const UNDEFINED_TABLE = '42P01';

program.parseAsync(process.argv).catch((err: unknown) => {
  // Required only now: an error of these classes comes from a command that has loaded them already.
  const { AlreadyRunningError } = require('../client/jobsClient') as typeof import('../client/jobsClient');
  const { RunNotFoundError } = require('../client/runViews') as typeof import('../client/runViews');
  const { ConfigError } = require('../config/env') as typeof import('../config/env');
  const { InvalidArgumentsError, JobDefinitionError, UnknownJobError } = require('../jobs/registry') as typeof import('../jobs/registry');
  if (err instanceof AlreadyRunningError) {
    console.error(JSON.stringify({ error: 'already_running', workflowId: err.workflowId, runId: err.runId }));
    process.exit(3);
  }
  const { InvalidRequestError } = require('../jobs/requestErrors') as typeof import('../jobs/requestErrors');
  const { UnknownScheduleError } = require('../jobs/schedule') as typeof import('../jobs/schedule');
  const { BackfillEndedError, UnknownBackfillError } = require('../client/backfills') as typeof import('../client/backfills');
  const known = [
    ...[ConfigError, InvalidArgumentsError, UnknownJobError, JobDefinitionError, RunNotFoundError],
    ...[InvalidRequestError, UnknownScheduleError, UnknownBackfillError, BackfillEndedError],
  ].some((c) => err instanceof c);
  if (!known && (err as { code?: unknown }).code === UNDEFINED_TABLE) {
    console.error(`error: ${(err as Error).message}: the database has no schema yet; run \`scheduled-job migrate\` (the worker and the API also migrate at start)`);
    process.exit(1);
  }
  console.error(known ? `error: ${(err as Error).message}` : err);
  process.exit(known ? 2 : 1);
});
