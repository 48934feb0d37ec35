import { defineConsumer, type ConsumerDefinition } from '../../consumers/definition';
import { builtinConsumers } from '../../app/consumers';
import { appendOnlyHandler } from './appendOnlyHandler';

/**
 * Loaded by test workers through CONSUMERS_MODULE: the shipped consumers, as every worker a user starts runs them,
 * plus test consumers on their own topics and groups with short timeouts so kill -9 tests fail over in seconds:
 * one from TEST_CONSUMER_* variables (when TEST_CONSUMER_TOPIC is set), and any number from TEST_CONSUMERS, a JSON
 * array of `TestConsumerSpec`. Without either: the shipped consumers only.
 */
export interface TestConsumerSpec {
  name: string;
  topic: string;
  group?: string;
  wireFormat?: 'avro-raw' | 'confluent';
  batchSize?: number;
  rangeMaxMessages?: number;
  maxLead?: number;
  partitionsPerIngestWorkflow?: number;
  ingestContinueAsNewAfter?: number;
  continueAsNewAfterReports?: number;
  /** `append_only`: a writer without a natural key (test/support/appendOnlyHandler.ts) instead of the shipped one. */
  handler?: 'append_only';
}

export function testConsumer(spec: TestConsumerSpec): ConsumerDefinition {
  return defineConsumer({
    name: spec.name,
    description: 'the curated-program consumer on a test topic and group',
    topics: [spec.topic],
    groupId: spec.group ?? `${spec.topic}.group`,
    handler: spec.handler === 'append_only' ? appendOnlyHandler : 'curated_program_events',
    wireFormat: spec.wireFormat ?? 'avro-raw',
    schema: 'CuratedProgramEvent.avsc',
    batchSize: spec.batchSize ?? 50,
    ...(spec.rangeMaxMessages !== undefined ? { rangeMaxMessages: spec.rangeMaxMessages } : {}),
    ...(spec.maxLead !== undefined ? { maxLead: spec.maxLead } : {}),
    ...(spec.partitionsPerIngestWorkflow !== undefined ? { partitionsPerIngestWorkflow: spec.partitionsPerIngestWorkflow } : {}),
    ingestContinueAsNewAfter: spec.ingestContinueAsNewAfter ?? 100,
    continueAsNewAfterReports: spec.continueAsNewAfterReports ?? 1000,
    timeouts: { heartbeat: '5s', report: '1s' },
    retry: { initialInterval: '200ms', maximumInterval: '2s' },
  });
}

const e = process.env;
const num = (v: string | undefined) => (v ? Number(v) : undefined);
const fromVariables: TestConsumerSpec[] = e['TEST_CONSUMER_TOPIC']
  ? [
      {
        name: e['TEST_CONSUMER_NAME'] ?? 'test_consumer',
        topic: e['TEST_CONSUMER_TOPIC'],
        ...(e['TEST_CONSUMER_GROUP'] ? { group: e['TEST_CONSUMER_GROUP'] } : {}),
        wireFormat: e['TEST_CONSUMER_WIRE_FORMAT'] === 'confluent' ? 'confluent' : 'avro-raw',
        batchSize: num(e['TEST_CONSUMER_BATCH_SIZE']) ?? 50,
        ...(num(e['TEST_CONSUMER_RANGE_MAX']) !== undefined ? { rangeMaxMessages: num(e['TEST_CONSUMER_RANGE_MAX'])! } : {}),
        ...(num(e['TEST_CONSUMER_MAX_LEAD']) !== undefined ? { maxLead: num(e['TEST_CONSUMER_MAX_LEAD'])! } : {}),
        ingestContinueAsNewAfter: num(e['TEST_CONSUMER_INGEST_CAN_AFTER']) ?? 100,
        continueAsNewAfterReports: num(e['TEST_CONSUMER_CAN_AFTER_REPORTS']) ?? 1000,
      },
    ]
  : [];
const fromJson = e['TEST_CONSUMERS'] ? (JSON.parse(e['TEST_CONSUMERS']) as TestConsumerSpec[]) : [];

export const consumers: ConsumerDefinition[] = [...builtinConsumers, ...[...fromVariables, ...fromJson].map(testConsumer)];
