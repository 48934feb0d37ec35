import type { ConsumerHandler } from '../consumers/handler';
import { curatedProgramEventsHandler } from '../features/curatedPrograms/handler';

/** The handlers this service ships, which a consumer definition may name by `handler: '<name>'`. */
export const consumerHandlers: readonly ConsumerHandler[] = [curatedProgramEventsHandler];
