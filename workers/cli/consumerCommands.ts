import os from 'node:os';
import { InvalidArgumentError, type Command } from 'commander';
import type { ConsumersClient, ConsumerView, DeadLetterReport } from '../../client/consumersClient';
import { withCli } from './context';
import { formatTable } from './table';

// The modules behind these commands load when a command runs: `--help` stays fast (see workers/cli.ts).
const load = {
  openConsumers: () => require('../openConsumers') as typeof import('../openConsumers'),
  registry: () => require('../../consumers/registry') as typeof import('../../consumers/registry'),
  client: () => require('../../client/consumersClient') as typeof import('../../client/consumersClient'),
};

/** `scheduled-job consumers ...`: see and steer the Kafka consumers (the HTTP API's /consumers routes do the same). */
export function registerConsumerCommands(program: Command): void {
  const consumers = program
    .command('consumers')
    .description('the Kafka consumers: state, lag, totals and dead letters; pause and resume (default: the table of all)');

  consumers
    .command('list', { isDefault: true })
    .description('one line per consumer: state, lag, lead and its bound, messages per second over the last minute, dead letters, last error, host')
    .option('--json', 'print JSON instead of a table')
    .action((opts: { json?: boolean }) =>
      withConsumers(async (cc) => {
        const views = await cc.list();
        if (opts.json) return console.log(JSON.stringify({ consumers: views }, null, 2));
        console.log(
          formatTable(
            ['NAME', 'TOPICS', 'STATE', 'LAG', 'LEAD/BOUND', 'MSG/S (1m)', 'DEAD LETTERS', 'LAST ERROR', 'HOST'],
            views.map((v) => [v.name, v.topics.join(','), stateText(v), v.lag, `${v.lead}/${v.maxLead}`, v.messagesPerSecond, v.deadLetters, errorText(v), hostText(v)]),
          ),
        );
      }),
    );

  consumers
    .command('status <name>')
    .description("per partition: Kafka's end offset, the group's committed offset, the applied offset in Postgres, lag; totals since first started")
    .option('--json', 'print JSON instead of tables')
    .action((name: string, opts: { json?: boolean }) =>
      withConsumers(async (cc) => {
        const v = await cc.status(name);
        if (opts.json) return console.log(JSON.stringify(v, null, 2));
        printStatus(v);
      }),
    );

  for (const [verb, paused] of [['pause', true], ['resume', false]] as const) {
    consumers
      .command(`${verb} <name>`)
      .description(
        paused
          ? 'stop describing and writing: returns once the writes in flight have committed; nothing is written after it until resume'
          : 'go on from exactly where the pause stopped',
      )
      .action((name: string) =>
        withConsumers(async (cc) => {
          const by = `cli ${os.userInfo().username}@${os.hostname()}`;
          const r = paused ? await cc.pause(name, by) : await cc.resume(name, by);
          console.log(JSON.stringify(r));
          if (!r.signalled) console.error(`note: the workflow of ${name} did not take the signal (not running?); the ${verb} holds in Postgres`);
        }),
      );
  }

  consumers
    .command('dead-letters <name>')
    .description('dead letters grouped by reason (numbers taken out), with counts, offsets, a sample and the command that replays them')
    .option('--reason <prefix>', 'only reasons starting with this')
    .option('--limit <n>', 'groups shown, largest first', positiveInt, 20)
    .option('--json', 'print JSON')
    .action((name: string, opts: { reason?: string; limit: number; json?: boolean }) =>
      withConsumers(async (cc) => {
        const r = await cc.deadLetters(name, { ...(opts.reason !== undefined ? { reason: opts.reason } : {}), limit: opts.limit });
        if (opts.json) return console.log(JSON.stringify(r, null, 2));
        printDeadLetters(r);
      }),
    );

  consumers
    .command('upgrade-check')
    .description('before deploying a release without the row-batch flow: lists open ingest runs started before descriptors (exit 1 if any)')
    .action(() =>
      withConsumers(async (cc) => {
        const r = await cc.upgradeCheck();
        console.log(JSON.stringify(r, null, 2));
        if (r.predating.length > 0) {
          console.error(`${r.predating.length} open ingest run(s) predate the descriptor flow: let them finish (or deploy the previous release until they have) before upgrading`);
          process.exitCode = 1;
        }
      }),
    );
}

/**
 * Runs `fn` with a consumers client over the CLI's context (workers/cli/context.ts: a plain pg pool, no migration);
 * an unknown consumer is a request to fix (exit 2), as an unknown job is.
 */
async function withConsumers(fn: (cc: ConsumersClient) => Promise<void>): Promise<void> {
  await withCli(async (cx) => {
    await runWithConsumers(load.openConsumers().openConsumers({ env: cx.env, temporal: await cx.temporal(), ds: cx.db }, 'scheduled-job.cli'), fn);
  });
}

async function runWithConsumers(consumers: { client: ConsumersClient; close(): Promise<void> }, fn: (cc: ConsumersClient) => Promise<void>): Promise<void> {
  try {
    await fn(consumers.client);
  } catch (err) {
    if (err instanceof load.registry().UnknownConsumerError) {
      console.error(`error: ${err.message}`);
      process.exitCode = 2;
      return;
    }
    // An outage, not a request to fix: exit 1 with what is away.
    if (err instanceof load.client().KafkaUnavailableError) {
      console.error(`error: ${err.message}`);
      process.exitCode = 1;
      return;
    }
    throw err;
  } finally {
    await consumers.close();
  }
}

function positiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('must be a positive integer');
  return n;
}

function stateText(v: ConsumerView): string {
  if (v.state === 'stale') return `stale ${Math.round(v.reportAgeSeconds ?? 0)}s${v.paused ? ' (paused)' : ''}`;
  // A running consumer whose partitions wait on the schema registry writes nothing there: say so where the state is.
  return v.waiting.length > 0 ? `${v.state} (${v.waiting.length} waiting)` : v.state;
}

function errorText(v: ConsumerView): string | null {
  if (!v.lastError) return null;
  if (!v.lastErrorAt) return v.lastError;
  const ago = Math.max(0, Math.round((Date.now() - Date.parse(v.lastErrorAt)) / 1000));
  return `${ago < 120 ? `${ago}s` : ago < 7200 ? `${Math.round(ago / 60)}m` : `${Math.round(ago / 3600)}h`} ago: ${v.lastError}`;
}

function hostText(v: ConsumerView): string | null {
  return v.host ? `${v.host.hostname}:${v.host.pid}` : null;
}

function printStatus(v: ConsumerView): void {
  const t = v.totals;
  const lines = [
    `consumer     ${v.name} (${v.topics.join(', ')}; group ${v.groupId}; handler ${v.handler})`,
    `state        ${stateText(v)}${v.paused ? ` since ${v.pausedAt} by ${v.pausedBy ?? '?'}` : ''}`,
    `host         ${hostText(v) ?? '-'}${v.reportedAt ? `, last report ${v.reportAgeSeconds}s ago (stale after ${v.staleAfterSeconds}s)` : ''}`,
    `workflow     ${v.workflow ? `${v.workflow.workflowId} ${v.workflow.status} on ${v.workflow.taskQueue}` : 'none'}`,
    `lag          ${v.lag} (lead ${v.lead} of at most ${v.maxLead} a partition)`,
    `rate         ${v.messagesPerSecond ?? '-'} messages/s over the last minute`,
    `totals       ${t.messages} messages: ${t.rows} rows, ${t.duplicates} duplicates, ${t.deadLetters} dead letters; ${t.lostOffsets} offsets lost to retention`,
    `dead letters ${v.deadLetters} now`,
    `last error   ${errorText(v) ?? '-'}`,
    ...v.waiting.map((w) => `waiting      ${w.topic}/${w.partition} since ${w.since}: ${w.reason}`),
    '',
  ];
  console.log(lines.join('\n'));
  console.log(
    formatTable(
      ['TOPIC', 'PART', 'END', 'COMMITTED', 'APPLIED', 'LAG', 'LEAD', 'MESSAGES', 'ROWS', 'DUPLICATES', 'DEAD', 'LOST', 'INGEST ERROR'],
      v.partitions.map((p) => [
        p.topic,
        p.partition,
        p.endOffset,
        p.committed,
        p.applied,
        p.lag,
        p.lead,
        p.totals.messages,
        p.totals.rows,
        p.totals.duplicates,
        p.totals.deadLetters,
        p.totals.lostOffsets,
        p.ingestError ?? null,
      ]),
    ),
  );
  if (v.partitions.some((p) => p.countedFrom !== null)) console.log('\ntotals of partitions written before the upgrade that added them count from: ' + v.partitions.filter((p) => p.countedFrom !== null).map((p) => `${p.topic}/${p.partition}@${p.countedFrom}`).join(', '));
}

function printDeadLetters(r: DeadLetterReport): void {
  console.log(`${r.total} dead letters of ${r.consumer} in ${r.groups.length + r.moreGroups} groups${r.moreGroups > 0 ? ` (the ${r.groups.length} largest shown)` : ''}\n`);
  for (const g of r.groups) {
    const s = g.sample;
    console.log(`${String(g.count).padStart(8)}  ${g.reasonClass}`);
    console.log(`          offsets  ${g.partitions.map((p) => `${p.topic}/${p.partition} ${p.firstOffset}-${p.lastOffset} (${p.count})`).join(', ')}`);
    console.log(`          between  ${g.firstAt} and ${g.lastAt}`);
    console.log(`          sample   ${s.topic}/${s.partition}@${s.offset}: ${s.reason}; ${s.bytes === null ? 'no value' : `${s.bytes} bytes ${s.hex}${s.bytes > 32 ? '…' : ''}`}`);
    console.log(`          replay   ${g.replay ?? '- (the messages are gone from Kafka)'}\n`);
  }
}
