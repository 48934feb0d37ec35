/**
 * How many objects an ingest batch writes at once when the job's arguments do not say. Postgres does most of the
 * work per row, and on this kind of machine it shares the cores with the worker, so more lanes than two per core
 * only queue on locks and CPU. Two batches run at once and each lane holds one connection of the ingest pool for its
 * object, so the lanes must also leave the pool a connection for the run log and the live progress.
 */
export function defaultIngestParallelism(cores: number, ingestPoolSize: number): number {
  return Math.max(1, Math.min(2 * cores, Math.floor((ingestPoolSize - 1) / 2), 32));
}
