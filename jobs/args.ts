import { z } from 'zod';
import { parseDay } from '../domain/day';

const DAY_MESSAGE = 'must be a calendar day as YYYY-MM-DD';

/**
 * A job argument that must be a real calendar day (2026-02-30 is refused), checked by the same parser as ingest. The
 * pattern comes first because the published JSON Schema carries it to starters that cannot run the refinement.
 */
export const dayArg = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}$/, { message: DAY_MESSAGE, abort: true })
  .refine(
    (d) => {
      try {
        parseDay(d);
        return true;
      } catch {
        return false;
      }
    },
    { message: DAY_MESSAGE },
  );
