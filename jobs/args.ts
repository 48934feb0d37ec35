import { z } from 'zod';
import { parseDay } from '../domain/day';

/** A job argument that must be a real calendar day (2026-02-30 is refused), checked by the same parser as ingest. */
export const dayArg = z.string().refine(
  (d) => {
    try {
      parseDay(d);
      return true;
    } catch {
      return false;
    }
  },
  { message: 'must be a calendar day as YYYY-MM-DD' },
);
