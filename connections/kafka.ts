import type { Env } from '../config/env';
import type { BaseOptions, SASLMechanismValue } from '@platformatic/kafka';

/**
 * Connection options of a @platformatic/kafka client (Admin, Consumer, Producer) from the environment. The stream
 * ingest reads offset ranges with it: it can fetch a partition at an offset without joining a consumer group.
 */
export function kafkaClientOptions(e: Env, clientId: string): BaseOptions {
  const options: BaseOptions = {
    clientId,
    bootstrapBrokers: e.KAFKA_BROKERS.split(','),
    // Few quick retries: callers that must outlast an outage (the consumer loop, the ingest activity) retry themselves.
    retries: 3,
    retryDelay: 300,
    // The client's default of 5 s is short for a loaded broker: the request is retried while the broker still works
    // on the first, which for a produce writes the messages twice unless the producer is idempotent.
    timeout: 30_000,
  };
  if (e.KAFKA_SSL === 'true') options.tls = {};
  if (e.KAFKA_SASL_MECHANISM) {
    options.sasl = {
      mechanism: e.KAFKA_SASL_MECHANISM.toUpperCase() as SASLMechanismValue,
      username: e.KAFKA_SASL_USERNAME ?? '',
      password: e.KAFKA_SASL_PASSWORD ?? '',
    };
  }
  return options;
}

/**
 * The message of a Kafka client error with its nested causes: @platformatic/kafka wraps the reason (a refused
 * connection, a broker error code) in errors of its own, whose top message alone says only what failed.
 */
export function kafkaErrorText(err: unknown, depth = 0): string {
  if (!(err instanceof Error) || depth > 4) return String(err);
  const nested = [...((err as { errors?: unknown[] }).errors ?? []), ...(err.cause === undefined ? [] : [err.cause])];
  const inner = [...new Set(nested.map((e) => kafkaErrorText(e, depth + 1)))].join('; ');
  return inner ? `${err.message} (${inner})` : err.message;
}
