import type { WorkflowExecutionStatusName } from '@temporalio/client';
import type { RunStatus } from '../db/jobRuns';

/** How a closed Temporal run reads in `job_runs` when the workflow's own code never got to record it. */
export function runStatusFromTemporal(name: WorkflowExecutionStatusName): { status: RunStatus; error: string | null } {
  switch (name) {
    case 'RUNNING':
    case 'PAUSED':
      return { status: 'running', error: null };
    case 'COMPLETED':
      return { status: 'succeeded', error: null };
    case 'CANCELLED':
      return { status: 'cancelled', error: 'cancelled' };
    case 'TIMED_OUT':
      return { status: 'timed_out', error: 'the attempt ran past its timeout' };
    case 'TERMINATED':
      return { status: 'failed', error: 'terminated in Temporal (the workflow code did not get to run)' };
    case 'CONTINUED_AS_NEW':
      return { status: 'failed', error: 'continued as a new run' };
    default:
      return { status: 'failed', error: `ended in Temporal as ${name}` };
  }
}
