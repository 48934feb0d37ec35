import type { QueryRunner } from 'typeorm';
import type { AvroDecoderOptions, Decoded } from './avro';

/** Decoded rows of one partition as the ingest side hands them to a writer, each with its Kafka offset. */
export interface PartitionRows<Row> {
  topic: string;
  partition: number;
  rows: readonly (Row & { offset: string })[];
}

/**
 * What a consumer does with its messages: how a value decodes into a row, and how rows are stored. One object, so
 * the writer is typed by what the decoder gives; a consumer definition names it (or a shipped one by `name`).
 */
export interface ConsumerHandler<Row extends object = object> {
  /** lower_snake_case; the name definitions and workflow inputs refer to it by. */
  name: string;
  description: string;
  /** The schema this handler's code reads: a file in `consumers/schemas/`, or a path. */
  readerSchema: string;
  /** Pure: a message value to a row, or the reason it is dead-lettered with. */
  createDecoder(opts: AvroDecoderOptions): (value: Buffer | null) => Decoded<Row>;
  /**
   * Stores the rows idempotently (a redelivered offset or a repeated key inserts nothing) inside the caller's
   * transaction, and returns how many were new.
   */
  write(qr: QueryRunner, batches: readonly PartitionRows<Row>[]): Promise<number>;
}

export function defineConsumerHandler<Row extends object>(handler: ConsumerHandler<Row>): ConsumerHandler<Row> {
  return handler;
}
