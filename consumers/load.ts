import path from 'node:path';
import { requireModule } from '../config/requireModule';
import type { ConsumerDefinition } from './definition';
import { builtinConsumers } from './index';
import { ConsumerDefinitionError, ConsumerRegistry } from './registry';

/**
 * The consumers of this process: the built-in ones, or those exported as `consumers` by CONSUMERS_MODULE (a
 * deployment's own config, or a test's consumer on its own topic), as JOBS_MODULE does for jobs.
 */
export function loadConsumerRegistry(consumersModule?: string): ConsumerRegistry {
  if (!consumersModule) return new ConsumerRegistry(builtinConsumers);
  const resolved = path.resolve(consumersModule);
  const mod = requireModule(resolved) as { consumers?: ConsumerDefinition[] };
  if (!Array.isArray(mod.consumers)) {
    throw new ConsumerDefinitionError(`CONSUMERS_MODULE ${resolved} must export \`consumers\`, an array of consumer definitions`);
  }
  return new ConsumerRegistry(mod.consumers);
}
