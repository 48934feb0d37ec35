import path from 'node:path';
import { requireModule } from '../config/requireModule';
import type { WriterSchemaSource } from './confluentDecoders';
import type { ConsumerDefinition } from './definition';
import type { ConsumerHandler } from './handler';
import { ConsumerDefinitionError, ConsumerRegistry } from './registry';

/**
 * The consumers of this process: the built-in ones, or those exported as `consumers` by CONSUMERS_MODULE (a
 * deployment's own config, or a test's consumer on its own topic), as JOBS_MODULE does for jobs; either may name the
 * shipped handlers. `writerSchemas` (the schema registry) serves the consumers that read the Confluent wire format.
 */
export function loadConsumerRegistry(
  consumersModule: string | undefined,
  shipped: { consumers: ConsumerDefinition[]; handlers: readonly ConsumerHandler[] },
  writerSchemas?: WriterSchemaSource,
): ConsumerRegistry {
  const opts = { handlers: shipped.handlers, ...(writerSchemas ? { writerSchemas } : {}) };
  if (!consumersModule) return new ConsumerRegistry(shipped.consumers, opts);
  const resolved = path.resolve(consumersModule);
  const mod = requireModule(resolved) as { consumers?: ConsumerDefinition[] };
  if (!Array.isArray(mod.consumers)) {
    throw new ConsumerDefinitionError(`CONSUMERS_MODULE ${resolved} must export \`consumers\`, an array of consumer definitions`);
  }
  return new ConsumerRegistry(mod.consumers, opts);
}
