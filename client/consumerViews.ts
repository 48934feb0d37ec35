import { z } from 'zod';

// What an operator sees of a consumer, as the CLI prints it, the HTTP API answers it (these schemas check the replies
// and make its OpenAPI document) and the console renders it. The types are inferred from the schemas: one definition.

export const CONSUMER_STATES = ['running', 'paused', 'backing_off', 'stale', 'starting', 'stopped'] as const;

export const Totals = z
  .object({
    messages: z.number().int().describe('messages applied: rows given to the writer plus dead letters (transaction markers are offsets, not messages)'),
    rows: z.number().int().describe('new rows written'),
    duplicates: z.number().int().describe('valid messages whose row was there already (repeats of an event)'),
    deadLetters: z.number().int().describe('messages that did not decode'),
    lostOffsets: z.number().int().describe("offsets Kafka's retention deleted before they were applied (one `retention` dead letter per stretch)"),
  })
  .meta({ id: 'ConsumerTotals' });
export type Totals = z.infer<typeof Totals>;

export const PartitionView = z
  .object({
    topic: z.string(),
    partition: z.number().int(),
    endOffset: z.string().describe("Kafka's end offset (high watermark): the offset the next message gets"),
    startOffset: z.string().describe('the first offset Kafka still holds'),
    committed: z.string().nullable().describe("the group's committed offset: what the consumer has handed to the ingest side"),
    applied: z.string().nullable().describe('Postgres: every offset below it is written (null before the first write)'),
    lag: z.number().int().describe('endOffset - applied: offsets not yet written'),
    lead: z.number().int().describe('committed - applied: handed over and not yet written'),
    totals: Totals,
    countedFrom: z.string().nullable().describe('the first offset the totals count, for partitions written before they existed'),
    ingestError: z.string().nullable().optional().describe("the ingest workflow's write being retried, and why (detail only)"),
  })
  .meta({ id: 'ConsumerPartition' });
export type PartitionView = z.infer<typeof PartitionView>;

export const ConsumerView = z
  .object({
    name: z.string(),
    topics: z.array(z.string()),
    groupId: z.string(),
    handler: z.string(),
    state: z.enum(CONSUMER_STATES).describe('stale: the activity hosting the consumer has not reported for staleAfterSeconds'),
    paused: z.boolean(),
    pausedAt: z.string().nullable(),
    pausedBy: z.string().nullable(),
    host: z.object({ hostname: z.string(), pid: z.number().int(), attempt: z.number().int(), since: z.string() }).nullable(),
    reportedAt: z.string().nullable().describe('when the hosting activity last reported that it is alive'),
    reportAgeSeconds: z.number().nullable(),
    staleAfterSeconds: z.number(),
    lag: z.number().int(),
    lead: z.number().int(),
    maxLead: z.number().int().describe('the bound of the lead, per partition'),
    messagesPerSecond: z.number().nullable().describe('over the last minute; null while stale'),
    deadLetters: z.number().int().describe('dead letters in kafka_dead_letters now'),
    totals: Totals.describe('since the consumer was first started'),
    lastError: z.string().nullable(),
    lastErrorAt: z.string().nullable(),
    waiting: z
      .array(z.object({ topic: z.string(), partition: z.number().int(), reason: z.string(), since: z.string() }))
      .describe("partitions whose ingest waits on a dependency it needs to decode (the schema registry), why and since when; empty when none (as the workflow's status says)"),
    workflow: z
      .object({ workflowId: z.string(), runId: z.string(), status: z.string(), taskQueue: z.string(), generation: z.number().int().nullable() })
      .nullable(),
    partitions: z.array(PartitionView),
  })
  .meta({ id: 'Consumer' });
export type ConsumerView = z.infer<typeof ConsumerView>;
export type ConsumerState = ConsumerView['state'];

export const PauseResult = z
  .object({
    consumer: z.string(),
    paused: z.boolean(),
    changedAt: z.string(),
    changedBy: z.string().nullable(),
    signalled: z.boolean().describe('whether the consumer workflow took the signal too; the pause holds in Postgres either way'),
  })
  .meta({ id: 'ConsumerPause' });
export type PauseResult = z.infer<typeof PauseResult>;

export const DeadLetterGroup = z
  .object({
    reasonClass: z.string().describe('the reason with its numbers as <n>: what the group has in common'),
    count: z.number().int(),
    firstAt: z.string(),
    lastAt: z.string(),
    partitions: z.array(
      z.object({ topic: z.string(), partition: z.number().int(), count: z.number().int(), firstOffset: z.string(), lastOffset: z.string() }),
    ),
    sample: z.object({
      topic: z.string(),
      partition: z.number().int(),
      offset: z.string(),
      reason: z.string(),
      bytes: z.number().int().nullable(),
      hex: z.string().nullable().describe('the first 32 bytes'),
    }),
    replay: z.string().nullable().describe('the command that replays the group after a fix; null when the messages are gone'),
  })
  .meta({ id: 'DeadLetterGroup' });
export type DeadLetterGroup = z.infer<typeof DeadLetterGroup>;

export const DeadLetterReport = z
  .object({
    consumer: z.string(),
    total: z.number().int(),
    groups: z.array(DeadLetterGroup),
    moreGroups: z.number().int().describe('groups left out by the limit'),
  })
  .meta({ id: 'DeadLetters' });
export type DeadLetterReport = z.infer<typeof DeadLetterReport>;
