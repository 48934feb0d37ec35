import { EntitySchema } from 'typeorm';
import type { RunStatus } from '../jobRuns';

export interface JobRun {
  id: string;
  jobName: string;
  workflowId: string;
  runId: string;
  firstRunId: string;
  attempt: number;
  status: RunStatus;
  args: Record<string, unknown>;
  startedAt: Date;
  finishedAt: Date | null;
  error: string | null;
  metrics: Record<string, number>;
  updatedAt: Date;
  partitionKey: string | null;
  concurrencyQueue: string | null;
  queuedAt: Date | null;
  permitSlot: number | null;
}

export const JobRunEntity = new EntitySchema<JobRun>({
  name: 'JobRun',
  tableName: 'job_runs',
  columns: {
    id: { type: 'bigint', primary: true, generated: 'increment' },
    jobName: { name: 'job_name', type: 'text' },
    workflowId: { name: 'workflow_id', type: 'text' },
    runId: { name: 'run_id', type: 'text', unique: true },
    firstRunId: { name: 'first_run_id', type: 'text' },
    attempt: { type: 'integer' },
    status: { type: 'text' },
    args: { type: 'jsonb' },
    startedAt: { name: 'started_at', type: 'timestamptz' },
    finishedAt: { name: 'finished_at', type: 'timestamptz', nullable: true },
    error: { type: 'text', nullable: true },
    metrics: { type: 'jsonb' },
    updatedAt: { name: 'updated_at', type: 'timestamptz' },
    partitionKey: { name: 'partition_key', type: 'text', nullable: true },
    concurrencyQueue: { name: 'concurrency_queue', type: 'text', nullable: true },
    queuedAt: { name: 'queued_at', type: 'timestamptz', nullable: true },
    permitSlot: { name: 'permit_slot', type: 'integer', nullable: true },
  },
});
