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
    out += v === null ? 'NULL' : `"${pgQuotedContent(v)}"`;
  }
  return out + '}';
}

/**
 * What goes between the double quotes of an element (for callers that quote a whole column at once): `v` itself
 * unless it holds a backslash or a double quote.
 */
export function pgQuotedContent(v: string): string {
  return v.indexOf('\\') === -1 && v.indexOf('"') === -1 ? v : v.replace(/[\\"]/g, '\\$&');
}
