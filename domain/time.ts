/**
 * The instants both Postgres `timestamptz` and four-digit ISO-8601 years can hold (0001-01-01 to 9999-12-31, in ms
 * since the epoch): a parser refuses a time outside them with a reason instead of failing the write.
 */
export const MIN_TIME_MS = -62_135_596_800_000;
export const MAX_TIME_MS = 253_402_300_799_999;
