import { CONSUMER_STATES } from '../client/consumerViews';
import {
  activityDuration,
  alertDeliveries,
  consumerRowsWritten,
  httpRequests,
  ingestCounters,
  kafkaApplied,
  kafkaConsumerState,
  kafkaDeadLetters,
  kafkaLag,
  kafkaReportAge,
  kafkaMessages,
  kafkaSignals,
  runDuration,
  runsFinished,
  scheduleTicks,
  triggers,
} from './metrics';

/**
 * What the framework and the features report, in their own terms: the one module that turns it into Prometheus
 * series, so what is measured, and under which names and labels, is decided in one place.
 */
export const events = {
  /** One chunk of a day's log lines committed. */
  ingestChunk(c: { linesRead: number; rowsWritten: number; duplicates: number; rejected: number; skipped: number }): void {
    ingestCounters.inc({ kind: 'lines_read' }, c.linesRead);
    ingestCounters.inc({ kind: 'rows_written' }, c.rowsWritten);
    ingestCounters.inc({ kind: 'duplicates' }, c.duplicates);
    ingestCounters.inc({ kind: 'rejected' }, c.rejected);
    ingestCounters.inc({ kind: 'skipped' }, c.skipped);
  },

  /** Decoded rows of a consumer written: `rows` given to the writer, `inserted` of them new. */
  consumerRowsWritten(consumer: string, rows: number, inserted: number): void {
    consumerRowsWritten.inc({ consumer, outcome: 'inserted' }, inserted);
    consumerRowsWritten.inc({ consumer, outcome: 'duplicate' }, rows - inserted);
  },

  /** Messages of a consumer stored, as rows or as dead letters. */
  consumerMessagesStored(consumer: string, valid: number, deadLetters: number): void {
    kafkaMessages.inc({ consumer, outcome: 'valid' }, valid);
    kafkaMessages.inc({ consumer, outcome: 'dead_letter' }, deadLetters);
  },

  consumerSignalled(consumer: string): void {
    kafkaSignals.inc({ consumer });
  },

  consumerLag(consumer: string, topic: string, partition: number, lag: number): void {
    kafkaLag.set({ consumer, topic, partition: String(partition) }, lag);
  },

  /** A consumer's status as computed for `consumers status` (and the API's /metrics before each scrape). */
  consumerStatus(c: {
    name: string;
    state: string;
    reportAgeSeconds: number | null;
    deadLetters: number;
    totals: { messages: number; rows: number; duplicates: number; deadLetters: number; lostOffsets: number };
    partitions: { topic: string; partition: number; lag: number }[];
  }): void {
    for (const p of c.partitions) kafkaLag.set({ consumer: c.name, topic: p.topic, partition: String(p.partition) }, p.lag);
    const kinds = { messages: c.totals.messages, rows: c.totals.rows, duplicates: c.totals.duplicates, dead_letters: c.totals.deadLetters, lost_offsets: c.totals.lostOffsets };
    for (const [kind, n] of Object.entries(kinds)) kafkaApplied.set({ consumer: c.name, kind }, n);
    kafkaDeadLetters.set({ consumer: c.name }, c.deadLetters);
    for (const state of CONSUMER_STATES) kafkaConsumerState.set({ consumer: c.name, state }, state === c.state ? 1 : 0);
    if (c.reportAgeSeconds === null) kafkaReportAge.remove({ consumer: c.name });
    else kafkaReportAge.set({ consumer: c.name }, c.reportAgeSeconds);
  },

  trigger(job: string, outcome: 'started' | 'already_running' | 'invalid'): void {
    triggers.inc({ job, outcome });
  },

  /** A schedule's tick: it started a run, was skipped (the lock held, the job gone), or waits for the lock. */
  scheduleTick(job: string, outcome: 'started' | 'skipped' | 'buffered'): void {
    scheduleTicks.inc({ job, outcome });
  },

  alertDelivery(job: string, type: string, outcome: 'delivered' | 'refused' | 'unreachable'): void {
    alertDeliveries.inc({ job, type, outcome });
  },

  runFinished(job: string, status: string, seconds: number): void {
    runsFinished.inc({ job, status });
    runDuration.observe({ job, status }, seconds);
  },

  httpRequest(method: string, route: string, code: number, seconds: number): void {
    httpRequests.observe({ method, route, code: String(code) }, seconds);
  },

  activityFinished(activity: string, outcome: 'completed' | 'failed' | 'cancelled', seconds: number): void {
    activityDuration.observe({ activity, outcome }, seconds);
  },
};
