/** Totals of one ingest run (DESIGN.md §2 job_runs.metrics for the ingest job). */
export interface IngestTotals {
  objects: number;
  objectsPending: number;
  bytesRead: number;
  linesRead: number;
  rowsWritten: number;
  duplicates: number;
  skipped: number;
  rejected: number;
  blank: number;
  chunks: number;
}
