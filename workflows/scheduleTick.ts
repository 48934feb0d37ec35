import { ApplicationFailure, proxyLocalActivities, workflowInfo } from '@temporalio/workflow';
import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';
import type { ScheduleTickActivities } from '../activities/scheduleTicks';
import { LOCAL_STEP_OPTIONS } from './activityOptions';
import { sendAlert } from './alerts';
import { awaitRunEnd, startUnderLock } from './lockedChild';
import { requireOwnWorkflowId } from './ownWorkflowId';
import { NOT_SCHEDULED, scheduleIdOf, tickWorkflowIdOf, type ScheduleTickInput, type TickResult } from './tickTypes';

// Set by the server on every workflow a schedule starts.
const SCHEDULED_START_TIME = defineSearchAttributeKey('TemporalScheduledStartTime', SearchAttributeType.DATETIME);
const SCHEDULED_BY_ID = defineSearchAttributeKey('TemporalScheduledById', SearchAttributeType.KEYWORD);

// Plans and records are one short step each: local activities, retried without limit while Postgres is away.
const local = proxyLocalActivities<ScheduleTickActivities>(LOCAL_STEP_OPTIONS);

/** How many holders in a row a buffer_one tick waits out before it is recorded skipped. */
const MAX_WAITS = 10;

/**
 * One tick of a job's schedule. A schedule cannot start a workflow under a fixed ID (the server appends the tick's
 * time to it), so the tick reaches the job's lock itself: it derives the partition from its scheduled time, then
 * starts the job as a child under the lock ID (startUnderLock), abandoned when the tick ends. A tick that meets a run
 * holding the lock is recorded skipped (or, under `buffer_one`, waits for it to end), naming that run.
 */
export async function scheduleTick(input: ScheduleTickInput): Promise<TickResult> {
  const info = workflowInfo();
  const base = tickWorkflowIdOf(input.job);
  requireOwnWorkflowId(`a tick of ${input.job}'s schedule`, `${base}-<scheduled time>`, (id) => id.startsWith(`${base}-`));
  const scheduledAt = info.typedSearchAttributes.get(SCHEDULED_START_TIME);
  if (!scheduledAt) {
    throw ApplicationFailure.nonRetryable(
      `a tick of ${input.job} takes its partition from the time its schedule fired it; start one with "scheduled-job schedule trigger ${input.job}"`,
      NOT_SCHEDULED,
    );
  }
  const tick = {
    tickRunId: info.runId,
    tickWorkflowId: info.workflowId,
    job: input.job,
    scheduleId: info.typedSearchAttributes.get(SCHEDULED_BY_ID) ?? scheduleIdOf(input.job),
    scheduledAt: scheduledAt.toISOString(),
  };
  const plan = await local.planTick({ job: input.job, scheduledAt: tick.scheduledAt });
  const record = async (r: TickResult): Promise<TickResult> => {
    await local.recordTick({ ...tick, ...r });
    if (r.outcome === 'skipped' && plan.alertOnSkip) {
      await sendAlert(input.job, 'tick_skipped', tick.scheduledAt, {
        occurredAt: tick.scheduledAt,
        partition: r.partitionKey,
        tick: { scheduledAt: tick.scheduledAt, reason: r.reason ?? 'skipped', heldBy: r.runId },
      });
    }
    return r;
  };

  if (!plan.run) return record({ outcome: 'skipped', reason: plan.reason, partitionKey: null, workflowId: null, runId: null });
  const planned = { partitionKey: plan.partitionKey, workflowId: plan.workflowId };
  let waitedFor: string | null = null;
  for (let waits = 0; ; waits++) {
    const start = await startUnderLock(input.job, plan.workflowId, plan.args);
    if ('started' in start) {
      const reason = waitedFor ? `started once run ${waitedFor} had released the lock` : null;
      return record({ outcome: 'started', reason, ...planned, runId: start.started.firstExecutionRunId });
    }
    if ('unsettled' in start) return record({ outcome: 'skipped', reason: start.unsettled, ...planned, runId: null });
    const holder = start.heldBy;
    if (plan.overlap === 'buffer_one' && waits < MAX_WAITS) {
      const reason = `waiting for run ${holder} to release the lock ${plan.workflowId}`;
      if (await local.claimTickWait({ ...tick, ...planned, outcome: 'buffered', reason, runId: holder })) {
        await awaitRunEnd(input.job, holder);
        waitedFor = holder;
        continue;
      }
      return record({ outcome: 'skipped', reason: `the lock ${plan.workflowId} is held by run ${holder} and another tick already waits for it`, ...planned, runId: holder });
    }
    return record({ outcome: 'skipped', reason: `the lock ${plan.workflowId} is held by run ${holder}`, ...planned, runId: holder });
  }
}
