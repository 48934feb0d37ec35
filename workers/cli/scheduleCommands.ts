import { Argument, type Command } from 'commander';
import { withCli, type CliContext } from './context';
import { positiveInt } from './options';

// Loaded when a command runs, not when the CLI starts (see workers/cli.ts).
const load = {
  schedules: () => require('../../client/schedules') as typeof import('../../client/schedules'),
  days: () => require('../../client/days') as typeof import('../../client/days'),
};

const scheduleDeps = async (cx: CliContext) => ({ temporal: await cx.temporal(), db: cx.db, jobs: cx.jobs() });
const shortTime = (iso: string | null | undefined) => (iso ? iso.replace('T', ' ').replace(/\.\d{3}Z$/, 'Z') : '');

/** `schedules` and `schedule pause|resume|trigger|ticks <job>`: the jobs' declared Temporal Schedules. */
export function registerScheduleCommands(program: Command): void {
  program
    .command('schedules')
    .description("each job's schedule: spec, time zone, next three fire times, last tick and its outcome, paused or not")
    .option('--json', 'print JSON instead of a table')
    .action(async (opts: { json?: boolean }) => {
      await withCli(async (cx) => {
        const list = await load.schedules().listSchedules(await scheduleDeps(cx));
        if (opts.json) return console.log(JSON.stringify(list, null, 2));
        if (list.length === 0) return console.log('no job declares a schedule');
        console.table(
          list.map((s) => ({
            job: s.job,
            spec: s.spec,
            state: s.exists ? load.schedules().scheduleState(s) : 'not created yet (start a worker)',
            next: s.nextFireTimes.map(shortTime).join(', '),
            lastTick: s.lastTick ? `${shortTime(s.lastTick.scheduledAt)} ${s.lastTick.outcome}${s.lastTick.partition ? ` ${s.lastTick.partition}` : ''}` : '',
            lastRun: s.lastTick?.runId ?? '',
          })),
        );
      });
    });

  program
    .command('schedule')
    .description("operate a job's schedule: pause, resume, trigger a tick now, or list its recent ticks")
    .addArgument(new Argument('<action>').choices(['pause', 'resume', 'trigger', 'ticks']))
    .argument('<job>')
    .option('--limit <n>', 'ticks: how many', positiveInt, 20)
    .option('--json', 'ticks: print JSON instead of a table')
    .action(async (action: 'pause' | 'resume' | 'trigger' | 'ticks', job: string, opts: { limit: number; json?: boolean }) => {
      await withCli(async (cx) => {
        const s = load.schedules();
        const deps = await scheduleDeps(cx);
        if (action === 'pause') await s.pauseSchedule(deps, job);
        if (action === 'resume') await s.resumeSchedule(deps, job);
        if (action === 'pause' || action === 'resume') return console.log(JSON.stringify({ job, state: action === 'pause' ? 'paused' : 'active' }));
        if (action === 'trigger') {
          const t = await s.triggerSchedule(deps, job);
          console.log(JSON.stringify({ job, ...t }));
          const tick = await s.awaitTick(deps, job, t.triggeredAt, 30_000);
          return console.log(tick ? JSON.stringify({ tick }) : 'no tick recorded within 30 s: is a worker running? (scheduled-job schedule ticks ' + job + ')');
        }
        const ticks = await s.listTicks(deps, job, opts.limit);
        if (opts.json) return console.log(JSON.stringify(ticks, null, 2));
        console.table(ticks.map((t) => ({ scheduledAt: shortTime(t.scheduledAt), outcome: t.outcome, partition: t.partition ?? '', runId: t.runId ?? '', reason: t.reason ?? '' })));
      });
    });

  program
    .command('days <job>')
    .description("each day's latest status (missing where no run exists), attempts, rows, rejects, duration and run ID")
    .requiredOption('--from <day>', 'first day, YYYY-MM-DD')
    .requiredOption('--to <day>', 'last day, YYYY-MM-DD')
    .option('--json', 'print JSON instead of a table')
    .action(async (job: string, opts: { from: string; to: string; json?: boolean }) => {
      await withCli(async (cx) => {
        const days = await load.days().jobDays(cx.db, cx.jobs(), job, opts.from, opts.to);
        if (opts.json) return console.log(JSON.stringify(days, null, 2));
        console.table(
          days.map((d) => ({
            day: d.day,
            status: d.status,
            attempts: d.attempts,
            rows: d.rows ?? '',
            rejects: d.rejects ?? '',
            duration: d.durationMs === null ? '' : `${(d.durationMs / 1000).toFixed(1)} s`,
            runId: d.runId ?? '',
          })),
        );
        const counts = new Map<string, number>();
        for (const d of days) counts.set(d.status, (counts.get(d.status) ?? 0) + 1);
        console.log(`days: ${days.length}, ${[...counts].map(([k, n]) => `${k}: ${n}`).join(', ')}`);
      });
    });
}
