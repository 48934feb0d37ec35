/** Ids end up in btree indexes (primary keys), whose entries must stay well under ~2.7 kB: longer ones are refused. */
export const MAX_ID_CHARS = 256;

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

/**
 * Why `s` cannot be stored as Postgres text unchanged, or undefined: a NUL (refused outright) or an unpaired UTF-16
 * surrogate (from a JSON escape such as "\ud800"; the driver would silently store U+FFFD instead).
 */
export function unstorableText(s: string): string | undefined {
  if (s.includes('\u0000')) return 'contains a NUL character, which Postgres text cannot store';
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0xd800 || c > 0xdfff) continue;
    const next = s.charCodeAt(i + 1);
    if (c <= 0xdbff && next >= 0xdc00 && next <= 0xdfff) {
      i++;
      continue;
    }
    return `contains an unpaired UTF-16 surrogate (\\u${c.toString(16)}), which is not valid Unicode text`;
  }
  return undefined;
}

/** `s` made storable as Postgres text for humans to read: NULs and unpaired surrogates become U+FFFD. */
export function storableText(s: string): string {
  return unstorableText(s) === undefined ? s : (withoutNul(s) as string & { toWellFormed(): string }).toWellFormed();
}
