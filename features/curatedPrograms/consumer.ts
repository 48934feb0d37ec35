import { defineConsumer } from '../../consumers/definition';
import { curatedProgramEventsHandler } from './handler';

/** Curated-program events from their topic into `curated_program_events`. */
export const curatedProgramConsumer = defineConsumer({
  name: 'curated_program',
  description: 'Curated-program events from Kafka into curated_program_events',
  topics: ['curated-program-events'],
  groupId: 'creator-notifications.curated-program',
  handler: curatedProgramEventsHandler,
  wireFormat: 'avro-raw',
  schema: 'CuratedProgramEvent.avsc',
  fromBeginning: true,
  partitionsPerIngestWorkflow: 1,
});
