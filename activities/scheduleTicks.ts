import type { DataSource } from 'typeorm';
import { workflowIdFor } from '../client/workflowId';
import * as ticks from '../db/scheduleTicks';
import { alertKindsOf } from '../jobs/alerts';
import { PARTITION_KINDS } from '../jobs/partition';
import { InvalidArgumentsError, type JobRegistry } from '../jobs/registry';
import { DEFAULT_PARTITION_OFFSET, DEFAULT_TIME_ZONE } from '../jobs/schedule';
import { events } from '../observability/events';
import type { TickPlan } from '../workflows/tickTypes';

/** The tick workflow's steps that read the definitions and write `schedule_ticks` (local activities). */
export function createScheduleTickActivities(ds: DataSource, jobs: JobRegistry) {
  return {
    /**
     * What a tick fired at `scheduledAt` runs, from the definition these workers hold now: its partition (the one its
     * scheduled time falls in, moved by the declared offset), the resolved arguments and the lock they make.
     */
    async planTick(input: { job: string; scheduledAt: string }): Promise<TickPlan> {
      if (!jobs.has(input.job)) return { run: false, reason: `job ${input.job} is not defined on the workers` };
      const def = jobs.get(input.job);
      const alert = def.alerts && alertKindsOf(def.alerts, def.schedule !== undefined).includes('tick_skipped') ? { alertOnSkip: true } : {};
      if (!def.schedule) return { run: false, reason: `job ${input.job} no longer declares a schedule`, ...alert };
      const given: Record<string, string> = {};
      let partitionKey: string | null = null;
      if (def.partition) {
        const { arg, kind } = def.partition;
        const at = new Date(input.scheduledAt);
        partitionKey = PARTITION_KINDS[kind].at(at, def.schedule.timeZone ?? DEFAULT_TIME_ZONE, def.schedule.partitionOffset ?? DEFAULT_PARTITION_OFFSET);
        given[arg] = partitionKey;
      }
      try {
        const args = jobs.resolveArgs(input.job, given);
        return { run: true, workflowId: workflowIdFor(input.job, def.lockKey, args), args, partitionKey, overlap: def.schedule.overlap ?? 'skip', ...alert };
      } catch (err) {
        if (err instanceof InvalidArgumentsError) return { run: false, reason: err.message, ...alert };
        throw err;
      }
    },

    async recordTick(t: ticks.TickRecord): Promise<void> {
      await ticks.recordTick(ds, t);
      events.scheduleTick(t.job, t.outcome);
    },

    /** buffer_one: true when this tick is now the one waiting for the lock (at most one per lock). */
    async claimTickWait(t: ticks.TickRecord & { outcome: 'buffered' }): Promise<boolean> {
      const claimed = await ticks.claimWait(ds, t);
      if (claimed) events.scheduleTick(t.job, 'buffered');
      return claimed;
    },
  };
}

export type ScheduleTickActivities = ReturnType<typeof createScheduleTickActivities>;
