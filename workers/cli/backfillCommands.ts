import type { Command } from 'commander';
import type { BackfillDeps, BackfillView } from '../../client/backfills';
import { InvalidRequestError } from '../../jobs/requestErrors';
import type { BackfillProgress } from '../../workflows/backfillTypes';
import type { JobArgs } from '../../workflows/types';
import { withCli, type CliContext } from './context';
import { jsonArgs, wholeNumber } from './options';

// Loaded when a command runs, not when the CLI starts (see workers/cli.ts).
const load = {
  backfills: () => require('../../client/backfills') as typeof import('../../client/backfills'),
  days: () => require('../../client/days') as typeof import('../../client/days'),
  progressBar: () => require('cli-progress') as typeof import('cli-progress'),
  outages: () => require('../../connections/untilReachable') as typeof import('../../connections/untilReachable'),
  dependencies: () => require('../../observability/dependencies') as typeof import('../../observability/dependencies'),
  temporalCommon: () => require('@temporalio/common') as typeof import('@temporalio/common'),
};

/** Exit code after Ctrl-C detached the terminal from a backfill that goes on (128 + SIGINT, as shells report it). */
export const DETACHED_EXIT = 130;
/** Up to this many days, the closing summary is the days table; past it, the counts and the days that failed. */
const TABLE_DAYS = 100;

const deps = async (cx: CliContext): Promise<BackfillDeps> => ({ temporal: await cx.temporal(), jobs: cx.jobs(), taskQueue: cx.env.TEMPORAL_TASK_QUEUE });

const countsLine = (p: BackfillProgress) =>
  Object.entries(p.counts)
    .filter(([, n]) => n > 0)
    .map(([k, n]) => `${k}: ${n}`)
    .join(', ');

/**
 * Follows a backfill with a progress bar until it ends; Ctrl-C detaches (the backfill goes on in Temporal) and says
 * how to come back or cancel. Returns the exit code: 0 when every day succeeded or was skipped, 1 otherwise, 130
 * when detached.
 */
async function follow(cx: CliContext, job: string, id: string): Promise<number> {
  const b = load.backfills();
  let detached = false;
  const onSigint = () => (detached = true);
  process.once('SIGINT', onSigint);
  const bar = new (load.progressBar().SingleBar)({ format: 'backfill [{bar}] {value}/{total} days | {counts} | {flight}', hideCursor: true });
  let started = false;
  let view: BackfillView;
  try {
    for (;;) {
      const next = await throughOutage(async () => b.backfillStatus(await deps(cx), job, id), () => detached);
      if (!next) {
        console.error(`detached: backfill ${id} of ${job} goes on in Temporal; follow it again with scheduled-job backfill status ${job} ${id} --follow`);
        return DETACHED_EXIT;
      }
      view = next;
      const p = view.progress;
      if (p) {
        const payload = { counts: countsLine(p) || 'starting', flight: p.inFlight.length ? `in flight: ${p.inFlight.map((f) => f.day).join(' ')}` : '' };
        if (!started) bar.start(p.total, p.done, payload);
        else bar.update(p.done, payload);
        started = true;
      }
      if (view.status !== 'running' || detached) break;
      await new Promise((r) => setTimeout(r, 1000));
    }
  } finally {
    if (started) bar.stop();
    process.removeListener('SIGINT', onSigint);
  }
  if (detached) {
    console.error(
      `\ndetached: backfill ${id} of ${job} goes on in Temporal (${view.workflowId}).\n` +
        `  follow it again:  scheduled-job backfill status ${job} ${id} --follow\n` +
        `  cancel it:        scheduled-job backfill cancel ${job} ${id}`,
    );
    return DETACHED_EXIT;
  }
  return summarize(cx, job, view);
}

/**
 * A call to Temporal made again every 2 s while Temporal (or its database) is away, said once: a backfill runs on the
 * server, so an outage only pauses the terminal, and its start is idempotent (the workflow ID is the range). Returns
 * undefined when `stop` says to give up (Ctrl-C while following).
 */
async function throughOutage<T>(call: () => Promise<T>, stop: () => boolean = () => false): Promise<T | undefined> {
  for (let away = false; ; away = true) {
    try {
      const out = await call();
      if (away) console.error('Temporal answers again');
      return out;
    } catch (err) {
      if (!load.outages().isDependencyOutage(err) && !(err instanceof load.temporalCommon().NamespaceNotFoundError)) throw err;
      if (!away) console.error(`\nTemporal did not answer (${load.dependencies().describe(err)}): trying again every 2 s; the backfill goes on in Temporal`);
      if (stop()) return undefined;
      await new Promise((r) => setTimeout(r, 2000));
    }
  }
}

async function summarize(cx: CliContext, job: string, view: BackfillView): Promise<number> {
  const p = view.progress;
  if (!p) {
    console.log(JSON.stringify({ id: view.id, status: view.status, error: view.error }));
    return 1;
  }
  if (p.total <= TABLE_DAYS) {
    const days = await load.days().jobDays(cx.db, cx.jobs(), job, p.from, p.to);
    console.table(days.map((d) => ({ day: d.day, status: d.status, attempts: d.attempts, rows: d.rows ?? '', runId: d.runId ?? '', error: (d.error ?? '').slice(0, 60) })));
  } else if (p.failed.length > 0) {
    console.table(p.failed.slice(0, TABLE_DAYS).map((f) => ({ day: f.day, outcome: f.outcome, runId: f.runId ?? '', error: (f.error ?? '').slice(0, 60) })));
  }
  console.log(`backfill ${view.id} ${view.status}: days: ${p.total}, ${countsLine(p)}${p.retried ? ` (${p.retried} runs again after a failure)` : ''}`);
  if (view.error) console.log(`error: ${view.error}`);
  return view.status === 'completed' && p.failed.length === 0 ? 0 : 1;
}

/**
 * `backfill <job> --from --to` starts (or attaches to) the durable backfill and follows it; `backfill status <job>
 * <id>` and `backfill cancel <job> <id>` operate one by its ID (`<from>..<to>`).
 */
export function registerBackfillCommands(program: Command): void {
  program
    .command('backfill')
    .usage('<job> --from DAY --to DAY [options]\n       scheduled-job backfill status <job> <id> [--follow]\n       scheduled-job backfill cancel <job> <id>')
    .description(
      'run <job> for every day from --from to --to as a durable backfill (a Temporal workflow): --concurrency days at ' +
        'once, days that already succeeded skipped unless --force, failed days run again up to --retries times. The ' +
        'terminal follows it; Ctrl-C detaches (it goes on). <id> is <from>..<to>.',
    )
    .argument('<job>', 'the job, or status / cancel followed by <job> <id>')
    .argument('[jobAndId...]')
    .option('--from <day>', 'first day, YYYY-MM-DD')
    .option('--to <day>', 'last day, YYYY-MM-DD')
    .option('--concurrency <n>', 'days in flight at once', wholeNumber, 2)
    .option('--retries <n>', 'further runs of a day that failed, after the others', wholeNumber, 1)
    .option('--force', 'run days that already succeeded too')
    .option('--args <json>', 'extra arguments for every day', jsonArgs)
    .option('--follow', 'status: follow it with a progress bar until it ends')
    .option('--detach', 'start it and return at once')
    .action(
      async (
        first: string,
        rest: string[],
        opts: { from?: string; to?: string; concurrency: number; retries: number; force?: boolean; args?: JobArgs; follow?: boolean; detach?: boolean },
      ) => {
        const b = load.backfills();
        if (first === 'status' || first === 'cancel') {
          const [job, id, ...extra] = rest;
          if (!job || !id || extra.length > 0) throw new InvalidRequestError(`usage: scheduled-job backfill ${first} <job> <id>`);
          process.exitCode = await withCli(async (cx) => {
            if (first === 'cancel') {
              console.log(JSON.stringify({ ...(await b.cancelBackfill(await deps(cx), job, id)), status: 'cancelling' }));
              return 0;
            }
            if (opts.follow) return follow(cx, job, id);
            const view = await b.backfillStatus(await deps(cx), job, id);
            console.log(JSON.stringify(view, null, 2));
            return 0;
          });
          return;
        }
        if (rest.length > 0) throw new InvalidRequestError(`unexpected ${rest.join(' ')}: usage: scheduled-job backfill <job> --from DAY --to DAY`);
        if (!opts.from || !opts.to) throw new InvalidRequestError('--from and --to are required: scheduled-job backfill <job> --from DAY --to DAY');
        const job = first;
        process.exitCode = await withCli(async (cx) => {
          // Started again after an outage, a backfill whose first start went through is attached to, not doubled.
          const started = await throughOutage(async () =>
            b.startBackfill(await deps(cx), job, {
              from: opts.from!,
              to: opts.to!,
              concurrency: opts.concurrency,
              retries: opts.retries,
              force: opts.force ?? false,
              ...(opts.args ? { args: opts.args } : {}),
            }),
          );
          if (!started) return 1;
          console.log(JSON.stringify(started));
          if (started.attached) console.error(`a backfill of ${started.id} was running: following it (its own options stand)`);
          return opts.detach ? 0 : follow(cx, job, started.id);
        });
      },
    );
}
