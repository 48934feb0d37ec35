import { z } from 'zod';
import { parseDay } from '../domain/day';

const DAY_MESSAGE = 'must be a calendar day as YYYY-MM-DD';

/**
 * The calendar days YYYY-MM-DD from 0001-01-01 to 9999-12-31, leap years included: the grammar the published JSON
 * Schema carries, so a starter or a fuzzer that reads the document sends only days the API takes. parseDay stays the
 * authority (a unit test checks that the two agree).
 */
const YEAR = String.raw`(?:[1-9]\d{3}|0[1-9]\d{2}|00[1-9]\d|000[1-9])`;
const LEAP_YEAR = String.raw`(?:\d\d[2468][048]|\d\d[13579][26]|\d\d0[48]|[2468][048]00|[13579][26]00|0[48]00)`;
export const DAY_PATTERN = new RegExp(
  String.raw`^(?:${LEAP_YEAR}-02-29|${YEAR}-(?:(?:0[13578]|1[02])-(?:0[1-9]|[12]\d|3[01])|(?:0[469]|11)-(?:0[1-9]|[12]\d|30)|02-(?:0[1-9]|1\d|2[0-8])))$`,
);

/** A job argument that must be a real calendar day (2026-02-30 is refused), checked by the same parser as ingest. */
export const dayArg = z
  .string()
  .regex(DAY_PATTERN, { message: DAY_MESSAGE, abort: true })
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
