import { msToNumber } from '@temporalio/common/lib/time';
import { z } from 'zod';

// The fields job and consumer definitions (and the arguments that name them) share, so both say the same thing
// about the same mistake.

/** Job and consumer names: they become workflow IDs and metric labels. */
export const LOWER_SNAKE_NAME = /^[a-z][a-z0-9_]{0,62}$/;
export const LOWER_SNAKE_NAME_RULE = 'must be lower_snake_case, at most 63 characters';

/** Kafka's own rule for topic names (kafka.common.Topic): at most 249 of these characters, and not "." or "..". */
export const KAFKA_TOPIC = /^[a-zA-Z0-9._-]{1,249}$/;
export const KAFKA_TOPIC_RULE = 'must be a Kafka topic name: 1-249 of a-z A-Z 0-9 . _ -';

/** A Temporal duration (`'30s'`, `'5m'`) or milliseconds; optional, positive. */
export const durationField = z
  .union([z.number().positive(), z.string()])
  .optional()
  .superRefine((v, ctx) => {
    if (typeof v !== 'string') return;
    try {
      if (!(msToNumber(v as never) > 0)) ctx.addIssue({ code: 'custom', message: `must be a positive duration, got ${v}` });
    } catch {
      ctx.addIssue({ code: 'custom', message: `must be a duration such as "30s" or "5m", got ${JSON.stringify(v)}` });
    }
  });
