import { z } from 'zod';
import { getSchedule, listSchedules, scheduleState } from '../../../client/schedules';
import { describeJob } from '../../../jobs/catalog';
import type { JobDefinition } from '../../../jobs/definition';
import type { ApiApp } from '../app';
import { fmt } from './format';
import type { ConsoleKit } from './kit';

const SUCCESS_WINDOW_DAYS = 30;
const RECENT_RUNS = 50;

export interface ArgField {
  name: string;
  type: string;
  required: boolean;
  default: unknown;
  description: string;
}

/** A definition's arguments as a person reads them, from the same JSON schema `GET /jobs` gives. */
export function argFields(def: JobDefinition): ArgField[] {
  const schema = describeJob(def).argsSchema as { properties?: Record<string, JsonSchema>; required?: string[] };
  const defaults = (def.defaultArgs ?? {}) as Record<string, unknown>;
  return Object.entries(schema.properties ?? {}).map(([name, p]) => ({
    name,
    type: typeOf(p),
    required: (schema.required ?? []).includes(name) && !(name in defaults),
    default: defaults[name],
    description: p.description ?? '',
  }));
}

interface JsonSchema {
  type?: string | string[];
  enum?: unknown[];
  format?: string;
  pattern?: string;
  anyOf?: JsonSchema[];
  description?: string;
}

function typeOf(p: JsonSchema): string {
  if (p.enum) return p.enum.map((v) => JSON.stringify(v)).join(' | ');
  if (p.anyOf) return p.anyOf.map(typeOf).join(' | ');
  const t = Array.isArray(p.type) ? p.type.join(' | ') : (p.type ?? 'any');
  return p.format ? `${t} (${p.format})` : t;
}

/** The Jobs page (every job: definition, last run, 30-day success, the lock, its limit and alerts) and one job's page. */
export function jobPages(app: ApiApp, kit: ConsoleKit): void {
  app.get('/', { schema: { hide: true } }, async (req, reply) => {
    const defs = kit.client.jobs.list();
    const [records, holders, schedules, descriptions] = await Promise.all([
      kit.client.records(SUCCESS_WINDOW_DAYS),
      Promise.all(defs.map((d) => kit.client.runningNow(d.name, 3))),
      listSchedules(kit.schedules),
      kit.client.describeJobs(),
    ]);
    const byJob = new Map(records.map((r) => [r.job, r]));
    const scheduleOf = new Map(schedules.map((s) => [s.job, { ...s, state: scheduleState(s) }]));
    const jobs = defs.map((def, i) => ({
      def,
      args: argFields(def),
      record: byJob.get(def.name),
      holders: holders[i]!,
      schedule: scheduleOf.get(def.name),
      description: descriptions[i]!,
    }));
    return kit.page(req, reply, 'jobs', { title: 'Jobs', section: 'jobs', jobs, windowDays: SUCCESS_WINDOW_DAYS, fmt });
  });

  app.get('/jobs/:job', { schema: { hide: true, params: z.object({ job: z.string() }) } }, async (req, reply) => {
    const def = kit.client.jobs.get(req.params.job);
    const [runs, holders, schedule, descriptions] = await Promise.all([
      kit.client.runs(def.name, RECENT_RUNS),
      kit.client.runningNow(def.name, 20),
      def.schedule ? getSchedule(kit.schedules, def.name) : undefined,
      kit.client.describeJobs(),
    ]);
    const description = descriptions.find((d) => d.name === def.name)!;
    return kit.page(req, reply, 'job', {
      title: def.name,
      section: 'jobs',
      def,
      args: argFields(def),
      runs,
      holders,
      schedule: schedule && { ...schedule, state: scheduleState(schedule) },
      description,
      fmt,
    });
  });
}
