import { Kafka, logLevel, type KafkaConfig, type SASLOptions } from 'kafkajs';
import type { Env } from '../config/env';

/** A kafkajs client from the environment; SASL and SSL pass through for real clusters. */
export function createKafka(e: Env, clientId: string): Kafka {
  const config: KafkaConfig = {
    clientId,
    brokers: e.KAFKA_BROKERS.split(','),
    logLevel: logLevel.WARN,
    ssl: e.KAFKA_SSL === 'true',
    retry: { retries: 8, initialRetryTime: 300 },
  };
  if (e.KAFKA_SASL_MECHANISM) {
    config.sasl = {
      mechanism: e.KAFKA_SASL_MECHANISM,
      username: e.KAFKA_SASL_USERNAME ?? '',
      password: e.KAFKA_SASL_PASSWORD ?? '',
    } as SASLOptions;
  }
  return new Kafka(config);
}
