/** Totals of one ingest run: the ingest job's job_runs.metrics, whose keys dashboards read. */
export interface DayTotals {
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
