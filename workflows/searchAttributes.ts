import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';

// Registered on the Temporal server by `scheduled-job stack up` (and by operators in real deployments).
export const JOB_NAME = defineSearchAttributeKey('JobName', SearchAttributeType.KEYWORD);
export const DAY = defineSearchAttributeKey('Day', SearchAttributeType.KEYWORD);
