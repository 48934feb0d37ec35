import { defineConsumerHandler } from '../../consumers/handler';
import { createCuratedProgramDecoder, type CuratedProgramEvent } from './parse';
import { writeCuratedProgramEvents } from './store';

export const curatedProgramEventsHandler = defineConsumerHandler<CuratedProgramEvent>({
  name: 'curated_program_events',
  description: 'CuratedProgramEvent Avro records into curated_program_events, one row per event_id',
  readerSchema: 'CuratedProgramEvent.avsc',
  createDecoder: createCuratedProgramDecoder,
  write: writeCuratedProgramEvents,
});
