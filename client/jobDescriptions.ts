import * as jobRuns from '../db/jobRuns';
import type { Queryable } from '../db/jobRuns';
import { describeJob } from '../jobs/catalog';
import type { JobRegistry } from '../jobs/registry';
import type { JobDescription } from '../workflows/catalogTypes';

/**
 * Every job as `GET /jobs`, `scheduled-job jobs` and the console list it: its description (limit and alert settings
 * included, never a webhook's URL or secret) with how many of its runs run and wait for a permit now. The run log
 * alone answers, so the CLI asks it without connecting Temporal.
 */
export async function describeJobs(db: Queryable, jobs: JobRegistry): Promise<(JobDescription & { running: number; queued: number })[]> {
  const defs = jobs.list();
  const counts = await jobRuns.openCounts(db, defs.map((d) => d.name));
  return defs.map((def) => ({ ...describeJob(def), ...(counts.get(def.name) ?? { running: 0, queued: 0 }) }));
}
