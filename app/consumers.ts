import { curatedProgramConsumer } from '../features/curatedPrograms/consumer';
import type { ConsumerDefinition } from '../consumers/definition';

/** The consumers a worker runs unless CONSUMERS_MODULE names others. */
export const builtinConsumers: ConsumerDefinition[] = [curatedProgramConsumer];
