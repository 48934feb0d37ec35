import path from 'node:path';
import { requireModule } from '../config/requireModule';
import type { JobDefinition } from './definition';
import { JobDefinitionError, JobRegistry } from './registry';

/**
 * The registry for this process: the built-in jobs, or those exported as `jobs` by JOBS_MODULE (a deployment's own
 * job providers). The worker and the API must load the same module so they agree on definitions.
 */
export function loadJobRegistry(jobsModule: string | undefined, shipped: { jobs: JobDefinition[]; handlers: readonly string[] }): JobRegistry {
  if (!jobsModule) return new JobRegistry(shipped.jobs, shipped.handlers);
  const resolved = path.resolve(jobsModule);
  const mod = requireModule(resolved) as { jobs?: JobDefinition[] };
  if (!Array.isArray(mod.jobs)) throw new JobDefinitionError(`JOBS_MODULE ${resolved} must export \`jobs\`, an array of job definitions`);
  return new JobRegistry(mod.jobs, shipped.handlers);
}
