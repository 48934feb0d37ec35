/** How the console writes values: every time in UTC (the days of a job are UTC days), durations short. */
export const fmt = {
  time(iso: string | null | undefined): string {
    return iso ? iso.replace('T', ' ').replace(/\.\d+Z$|Z$/, ' UTC') : '';
  },
  duration(fromIso: string | null | undefined, toIso: string | null | undefined): string {
    if (!fromIso) return '';
    const ms = (toIso ? Date.parse(toIso) : Date.now()) - Date.parse(fromIso);
    if (!Number.isFinite(ms) || ms < 0) return '';
    if (ms < 1000) return `${ms} ms`;
    const s = Math.round(ms / 1000);
    if (s < 120) return `${s} s`;
    const m = Math.floor(s / 60);
    return m < 120 ? `${m} min ${s % 60} s` : `${Math.floor(m / 60)} h ${m % 60} min`;
  },
  json(v: unknown): string {
    return JSON.stringify(v, null, 2);
  },
  percent(part: number, whole: number): string {
    return whole === 0 ? '–' : `${((100 * part) / whole).toFixed(part === whole ? 0 : 1)}%`;
  },
  number(n: number): string {
    return n.toLocaleString('en-US');
  },
  /** Bytes (as hex) a person can read: printable ASCII as itself, any other byte (and the backslash) as \xNN. */
  bytes(hex: string): string {
    let out = '';
    for (let i = 0; i + 1 < hex.length; i += 2) {
      const b = parseInt(hex.slice(i, i + 2), 16);
      out += b >= 0x20 && b < 0x7f && b !== 0x5c ? String.fromCharCode(b) : `\\x${hex.slice(i, i + 2)}`;
    }
    return out;
  },
};
export type Fmt = typeof fmt;
