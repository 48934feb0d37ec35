/** Rows as aligned columns under a header, for a terminal: numbers right-aligned, long cells cut with an ellipsis. */
export function formatTable(header: string[], rows: (string | number | null)[][], maxWidth = 48): string {
  const cells = rows.map((r) => r.map((c) => cut(c === null ? '-' : String(c), maxWidth)));
  const widths = header.map((h, i) => Math.max(h.length, ...cells.map((r) => r[i]!.length)));
  const numeric = header.map((_, i) => rows.length > 0 && rows.every((r) => typeof r[i] === 'number' || r[i] === null));
  const line = (r: string[]) =>
    r
      .map((c, i) => (numeric[i] ? c.padStart(widths[i]!) : c.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  return [line(header), ...cells.map(line)].join('\n');
}

function cut(s: string, max: number): string {
  const one = s.replace(/\s+/g, ' ');
  return one.length <= max ? one : `${one.slice(0, max - 1)}…`;
}
