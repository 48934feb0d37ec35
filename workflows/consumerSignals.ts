// The messages of the stream half's workflows: shared by the workflows, the consumer activity and clients. Only
// @temporalio/workflow's definers and pure types, so importing this never pulls workflow code into an activity.
import { defineQuery, defineSignal } from '@temporalio/workflow';
import { CONSUMER_WORKFLOW_TYPE, consumerMessages, INGEST_WORKFLOW_TYPE, type ConsumerReport, type ConsumerStatus, type IngestProgress, type KafkaRange, type PartitionWait } from './consumerTypes';

/** Stops describing and writing until `resume` (the workflow writes it to kafka_consumer_controls, which both read). */
export const pauseSignal = defineSignal(consumerMessages.pause);
export const resumeSignal = defineSignal(consumerMessages.resume);
/** Sent by the consumer activity when lag, lead or offsets change (at most every `timeouts.report`), and once per attempt. */
export const consumerReportSignal = defineSignal<[ConsumerReport]>(consumerMessages.report);
/** Sent by an ingest activity when its partition starts or stops waiting on the schema registry. */
export const ingestWaitingSignal = defineSignal<[PartitionWait]>(consumerMessages.ingestWaiting);
/** Lag, lead and committed offsets per partition at the last report, plus the workflow's own state. */
export const consumerStatusQuery = defineQuery<ConsumerStatus>(consumerMessages.status);

/** The workflow types by name: workers and the consumer activity start them without importing workflow code. */
export const consumerWorkflowType = CONSUMER_WORKFLOW_TYPE;
export const consumerIngestWorkflowType = INGEST_WORKFLOW_TYPE;
export const ingestRangeSignalName = consumerMessages.range;
/** A batch descriptor: an offset range of one partition that the ingest workflow reads from Kafka and writes. */
export const ingestRangeSignal = defineSignal<[KafkaRange]>(ingestRangeSignalName);
export const ingestProgressQuery = defineQuery<IngestProgress>(consumerMessages.progress);
