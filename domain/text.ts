/**
 * Cuts `s` to at most `max` UTF-16 code units without leaving half of a surrogate pair at the end,
 * because a lone surrogate turns into U+FFFD (or an encoding error) once the text reaches Postgres.
 */
export function truncateChars(s: string, max: number): string {
  if (s.length <= max) return s;
  let end = max;
  const last = s.charCodeAt(end - 1);
  if (last >= 0xd800 && last <= 0xdbff) end -= 1;
  return s.slice(0, end);
}

/** Postgres `text` cannot hold U+0000, so raw text that is stored for humans gets it replaced. */
export function withoutNul(s: string): string {
  return s.includes('\u0000') ? s.replaceAll('\u0000', '\uFFFD') : s;
}
