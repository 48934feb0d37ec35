/**
 * Postgres array literals for bulk `unnest($1::text[], ...)` parameters. pg's generic serializer checks the type of
 * and regex-escapes every element; for 1000-row chunks that was a tenth of the ingest worker's CPU (see
 * BENCHMARKS.md). Every string is quoted, so commas, braces, spaces and the word NULL stay data; only `null` is NULL.
 */
export function pgArrayLiteral(values: readonly (string | null)[]): string {
  let out = '{';
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (i > 0) out += ',';
    out += v === null ? 'NULL' : pgArrayElement(v);
  }
  return out + '}';
}

/** One quoted element of an array literal, for callers that build several literals in one pass over their rows. */
export function pgArrayElement(v: string): string {
  return v.indexOf('\\') === -1 && v.indexOf('"') === -1 ? `"${v}"` : `"${v.replace(/[\\"]/g, '\\$&')}"`;
}
