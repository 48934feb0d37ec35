import { defineConsumer } from '../../consumers/definition';
import { curatedProgramEventsHandler } from './handler';

/**
 * Curated-program events from their topic into `curated_program_events`. The topic carries the Confluent wire format,
 * as production Avro topics do: each message names its writer schema by the registry's id, and messages written with
 * newer or older versions of the schema decode to this consumer's reader schema (defaults filled in).
 */
export const curatedProgramConsumer = defineConsumer({
  name: 'curated_program',
  description: 'Curated-program events from Kafka into curated_program_events',
  topics: ['curated-program-events'],
  groupId: 'creator-notifications.curated-program',
  handler: curatedProgramEventsHandler,
  wireFormat: 'confluent',
  schema: 'CuratedProgramEvent.avsc',
  fromBeginning: true,
  partitionsPerIngestWorkflow: 1,
});
