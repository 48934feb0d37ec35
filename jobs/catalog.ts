import { hostname } from 'node:os';
import { z } from 'zod';
import type { JobCatalog, JobDescription } from '../workflows/catalogTypes';
import type { JobDefinition } from './definition';
import type { JobRegistry } from './registry';
import { describeAlerts } from './alerts';
import { describeConcurrency } from './concurrency';
import { describeSpec } from './schedule';

/** A definition as starters see it (`GET /jobs` and the catalog the workers publish). */
export function describeJob(def: JobDefinition): JobDescription {
  return {
    name: def.name,
    description: def.description,
    lockKey: def.lockKey ?? [],
    retries: def.retry.retries,
    defaultArgs: def.defaultArgs ?? {},
    argsSchema: z.toJSONSchema(def.args, { unrepresentable: 'any' }),
    partition: def.partition ? { arg: def.partition.arg, kind: def.partition.kind } : null,
    schedule: def.schedule ? describeSpec(def.schedule) : null,
    concurrency: def.concurrency ? describeConcurrency(def.concurrency) : null,
    alerts: def.alerts ? describeAlerts(def.alerts, def.schedule !== undefined) : null,
  };
}

export function jobCatalogOf(registry: JobRegistry, taskQueue: string): JobCatalog {
  return {
    taskQueue,
    jobs: registry.list().map(describeJob),
    publishedAt: new Date().toISOString(),
    publishedBy: `${hostname()}/${process.pid}`,
  };
}
