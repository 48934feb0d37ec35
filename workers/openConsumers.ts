import { consumerHandlers } from '../app/consumerHandlers';
import { builtinConsumers } from '../app/consumers';
import { ConsumersClient } from '../client/consumersClient';
import type { Client } from '@temporalio/client';
import type { Env } from '../config/env';
import type { KafkaTools } from '../connections/kafkaTools';
import { loadConsumerRegistry } from '../consumers/load';
import type { Queryable } from '../db/jobRuns';

/**
 * The consumers of this deployment (CONSUMERS_MODULE, as the workers load it) behind the client the CLI and the API
 * share. The Kafka client loads on first use (most of a second: pause, resume and dead letters do without it) and
 * closes with `close`.
 */
export function openConsumers(rt: { env: Env; temporal: Client; ds: Queryable }, clientId: string): { client: ConsumersClient; close(): Promise<void> } {
  const registry = loadConsumerRegistry(rt.env.CONSUMERS_MODULE, { consumers: builtinConsumers, handlers: consumerHandlers });
  let kafka: KafkaTools | undefined;
  const tools = () => (kafka ??= new (require('../connections/kafkaTools') as typeof import('../connections/kafkaTools')).KafkaTools(rt.env, clientId));
  return { client: new ConsumersClient(rt.temporal, rt.ds, tools, registry), close: async () => kafka?.close() };
}
