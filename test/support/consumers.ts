import { defineConsumer, type ConsumerDefinition } from '../../consumers/definition';
import { builtinConsumers } from '../../app/consumers';

/**
 * Loaded by test workers through CONSUMERS_MODULE: the shipped consumers, as every worker a user starts runs them,
 * plus one on the test's own topic and group (from TEST_CONSUMER_* variables) with short timeouts so kill -9 tests
 * fail over in seconds. Without TEST_CONSUMER_TOPIC: the shipped consumers only.
 */
const e = process.env;
export const consumers: ConsumerDefinition[] = [
  ...builtinConsumers,
  ...(e['TEST_CONSUMER_TOPIC']
    ? [
        defineConsumer({
          name: e['TEST_CONSUMER_NAME'] ?? 'test_consumer',
          description: 'the curated-program consumer on a test topic and group',
          topics: [e['TEST_CONSUMER_TOPIC']],
          groupId: e['TEST_CONSUMER_GROUP'] ?? `${e['TEST_CONSUMER_TOPIC']}.group`,
          handler: 'curated_program_events',
          wireFormat: e['TEST_CONSUMER_WIRE_FORMAT'] === 'confluent' ? 'confluent' : 'avro-raw',
          schema: 'CuratedProgramEvent.avsc',
          batchSize: Number(e['TEST_CONSUMER_BATCH_SIZE'] ?? 50),
          ...(e['TEST_CONSUMER_RANGE_MAX'] ? { rangeMaxMessages: Number(e['TEST_CONSUMER_RANGE_MAX']) } : {}),
          ...(e['TEST_CONSUMER_MAX_LEAD'] ? { maxLead: Number(e['TEST_CONSUMER_MAX_LEAD']) } : {}),
          ingestContinueAsNewAfter: Number(e['TEST_CONSUMER_INGEST_CAN_AFTER'] ?? 100),
          continueAsNewAfterReports: Number(e['TEST_CONSUMER_CAN_AFTER_REPORTS'] ?? 1000),
          timeouts: { heartbeat: '5s', kafkaSession: '6s', report: '1s' },
          retry: { initialInterval: '200ms', maximumInterval: '2s' },
        }),
      ]
    : []),
];
