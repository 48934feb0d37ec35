import { ApplicationFailure, workflowInfo } from '@temporalio/workflow';
import { WRONG_WORKFLOW_ID } from './types';

/**
 * Fails the workflow before it does anything when it was started under an ID its convention does not give it: the
 * ID is the lock, so a run under another ID would run beside the one it must exclude. `expected` names the ID (or
 * its shape) in the failure, for whoever typed the start.
 */
export function requireOwnWorkflowId(what: string, expected: string, accepts: (id: string) => boolean = (id) => id === expected): void {
  const actual = workflowInfo().workflowId;
  if (!accepts(actual)) {
    throw ApplicationFailure.nonRetryable(
      `${what} must run under workflow ID "${expected}", not "${actual}": the workflow ID is its lock`,
      WRONG_WORKFLOW_ID,
    );
  }
}
