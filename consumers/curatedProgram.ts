import { defineConsumer } from './definition';

/** The talk's `CreatorNotifications.CuratedProgram.Consumer`. */
export const curatedProgramConsumer = defineConsumer({
  name: 'curated_program',
  description: 'Curated-program events from Kafka into curated_program_events',
  topics: ['curated-program-events'],
  groupId: 'creator-notifications.curated-program',
  handler: 'curated_program_events',
  wireFormat: 'avro-raw',
  schema: 'CuratedProgramEvent.avsc',
  fromBeginning: true,
  partitionsPerIngestWorkflow: 1,
});
