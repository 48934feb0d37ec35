import type { ActivityOptions } from '@temporalio/workflow';
import type { ActivityPolicy } from './types';

/** Turns a job's declared activity policy into Temporal activity options, the one place where that mapping lives. */
export function activityOptions(policy: ActivityPolicy): ActivityOptions {
  return {
    startToCloseTimeout: policy.startToCloseTimeoutMs,
    heartbeatTimeout: policy.heartbeatTimeoutMs,
    retry: {
      // Temporal spells "no limit" by leaving the field out; 0 is rejected.
      ...(policy.maximumAttempts > 0 ? { maximumAttempts: policy.maximumAttempts } : {}),
      initialInterval: policy.initialIntervalMs,
      backoffCoefficient: policy.backoffCoefficient,
      maximumInterval: policy.maximumIntervalMs,
      nonRetryableErrorTypes: policy.nonRetryable,
    },
  };
}

/** Short steps of workflows that start or gate jobs (a plan, a record, a look at a lock): retried without limit. */
export const LOCAL_STEP_OPTIONS = {
  startToCloseTimeout: '30s',
  retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '30s' },
} as const;
