import { curatedProgramConsumer } from './curatedProgram';
import type { ConsumerDefinition } from './definition';

/** The consumers a worker runs unless CONSUMERS_MODULE names others. */
export const builtinConsumers: ConsumerDefinition[] = [curatedProgramConsumer];
