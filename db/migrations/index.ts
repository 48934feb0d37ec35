import { CreateJobRuns1700000000001 } from './1700000000001-CreateJobRuns';
import { CreateNotificationViews1700000000002 } from './1700000000002-CreateNotificationViews';
import { CreateCuratedProgramEvents1700000000003 } from './1700000000003-CreateCuratedProgramEvents';
import { CreateIngestObjects1700000000004 } from './1700000000004-CreateIngestObjects';
import { CreateIngestRole1700000000005 } from './1700000000005-CreateIngestRole';
import { AddRetentionIndexes1700000000006 } from './1700000000006-AddRetentionIndexes';
import { CreateKafkaAppliedOffsets1700000000007 } from './1700000000007-CreateKafkaAppliedOffsets';
import { AddJobRunPartitionKey1700000000008 } from './1700000000008-AddJobRunPartitionKey';
import { CreateScheduleTicks1700000000009 } from './1700000000009-CreateScheduleTicks';
import { AddConsumerTotalsAndControls1700000000010 } from './1700000000010-AddConsumerTotalsAndControls';
import { AddJobRunQueue1700000000016 } from './1700000000016-AddJobRunQueue';
import { CreateAlertEvents1700000000017 } from './1700000000017-CreateAlertEvents';

// Numbered and append-only: a shipped migration is never edited, a change is a new file.
export const migrations = [
  CreateJobRuns1700000000001,
  CreateNotificationViews1700000000002,
  CreateCuratedProgramEvents1700000000003,
  CreateIngestObjects1700000000004,
  CreateIngestRole1700000000005,
  AddRetentionIndexes1700000000006,
  CreateKafkaAppliedOffsets1700000000007,
  AddJobRunPartitionKey1700000000008,
  CreateScheduleTicks1700000000009,
  AddConsumerTotalsAndControls1700000000010,
  AddJobRunQueue1700000000016,
  CreateAlertEvents1700000000017,
];
