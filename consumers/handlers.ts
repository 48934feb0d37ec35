import { createCuratedProgramDecoder, type AvroDecoderOptions, type Decoded } from '../domain/curatedProgramEvents';

/** Turns a message value into a row for the handler's batch writer, or a reason for the dead-letter table. */
export type MessageDecoder = (value: Buffer | null) => Decoded<object>;

/**
 * What a consumer's `handler` names: how to decode its messages (pure, here) and, by the same name, the batch writer
 * in `activities/curatedProgramWrites.ts` that stores them idempotently.
 */
export interface ConsumerHandlerSpec {
  description: string;
  /** The schema this handler's code reads: a file in `consumers/schemas/`. */
  readerSchema: string;
  createDecoder(opts: AvroDecoderOptions): MessageDecoder;
}

export const consumerHandlers: Record<string, ConsumerHandlerSpec | undefined> = {
  curated_program_events: {
    description: 'CuratedProgramEvent Avro records into curated_program_events, one row per event_id',
    readerSchema: 'CuratedProgramEvent.avsc',
    createDecoder: createCuratedProgramDecoder,
  },
};
