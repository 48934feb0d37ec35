import type { DataSource } from 'typeorm';
import { workflowIdFor } from '../client/workflowId';
import { partitionSucceeded } from '../db/jobRuns';
import { InvalidArgumentsError, type JobRegistry } from '../jobs/registry';
import type { JobArgs } from '../workflows/types';

export type BackfillDayPlan =
  | { skip: true; outcome: 'skipped' | 'failed'; reason: string }
  | { skip: false; workflowId: string; args: JobArgs };

/** The backfill workflow's look at the definitions and the run log (a local activity per partition). */
export function createBackfillActivities(ds: DataSource, jobs: JobRegistry) {
  return {
    /**
     * What the backfill runs for one partition: nothing when it already succeeded (unless forced) or its arguments
     * do not resolve any more, else the resolved arguments and the lock they make.
     */
    async planBackfillDay(input: { job: string; day: string; extraArgs?: JobArgs; force: boolean }): Promise<BackfillDayPlan> {
      const def = jobs.get(input.job);
      if (!def.partition) return { skip: true, outcome: 'failed', reason: `job ${input.job} no longer declares a partition` };
      if (!input.force && (await partitionSucceeded(ds, input.job, input.day))) return { skip: true, outcome: 'skipped', reason: 'already succeeded' };
      try {
        const args = jobs.resolveArgs(input.job, { ...input.extraArgs, [def.partition.arg]: input.day });
        return { skip: false, workflowId: workflowIdFor(input.job, def.lockKey, args), args };
      } catch (err) {
        if (err instanceof InvalidArgumentsError) return { skip: true, outcome: 'failed', reason: err.message };
        throw err;
      }
    },
  };
}

export type BackfillActivities = ReturnType<typeof createBackfillActivities>;
