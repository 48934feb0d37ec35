import type { S3Client } from '@aws-sdk/client-s3';
import type { Client as PgClient } from 'pg';
import type { WorkerProcess } from '../test/support/workerProcess';
import type { Runtime } from '../workers/runtime';

/** What every benchmark part shares: the local stack's clients, one worker, and a scratch directory. */
export interface BenchContext {
  rt: Runtime;
  s3: S3Client;
  bucket: string;
  pg: PgClient;
  worker: WorkerProcess;
  dir: string;
}

/** One line of the printed table. */
export interface BenchRow {
  path: string;
  seconds: string;
  throughput: string;
  [figure: string]: string;
}

export const seconds = (since: bigint): number => Number(process.hrtime.bigint() - since) / 1e9;

export const round3 = (v: number): number => Math.round(v * 1000) / 1000;

export function percentile(xs: readonly number[], p: number): number {
  if (xs.length === 0) return NaN;
  return [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))]!;
}
