// The messages of the stream half's workflows: shared by the workflows, the consumer activity and clients. Only
// @temporalio/workflow's definers and pure types, so importing this never pulls workflow code into an activity.
import { defineQuery, defineSignal } from '@temporalio/workflow';
import type { ConsumerReport, ConsumerStatus, IngestBatch, IngestProgress, KafkaRange, PartitionWait } from './consumerTypes';

/** Stops consuming: the consumer activity is cancelled until `resume`. */
export const pauseSignal = defineSignal('pause');
export const resumeSignal = defineSignal('resume');
/** Sent by the consumer activity when lag, lead or offsets change (at most every `timeouts.report`), and once per attempt. */
export const consumerReportSignal = defineSignal<[ConsumerReport]>('report');
/** Sent by an ingest activity when its partition starts or stops waiting on the schema registry. */
export const ingestWaitingSignal = defineSignal<[PartitionWait]>('ingestWaiting');
/** Lag, lead and committed offsets per partition at the last report, plus the workflow's own state. */
export const consumerStatusQuery = defineQuery<ConsumerStatus>('status');

/** The workflow type of the ingest workflows, by name: the consumer activity starts them without importing them. */
export const consumerIngestWorkflowType = 'consumerIngest';
export const ingestRangeSignalName = 'range';
/** A batch descriptor: an offset range of one partition that the ingest workflow reads from Kafka and writes. */
export const ingestRangeSignal = defineSignal<[KafkaRange]>(ingestRangeSignalName);
/** Rows themselves: what consumer activities sent before descriptors; still accepted and written (see consumerIngest). */
export const ingestBatchSignal = defineSignal<[IngestBatch]>('batch');
export const ingestProgressQuery = defineQuery<IngestProgress>('progress');
