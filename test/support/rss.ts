import { readFileSync } from 'node:fs';

/** Samples a process's resident set size (from /proc) until stopped; returns the peak in MiB. */
export function sampleRss(pid: number, everyMs = 200): { stop(): number; peakMiB(): number } {
  let peakKb = 0;
  const read = () => {
    try {
      const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
      if (m) peakKb = Math.max(peakKb, Number(m[1]));
    } catch {
      // the process may be gone between samples
    }
  };
  read();
  const timer = setInterval(read, everyMs);
  return {
    stop() {
      clearInterval(timer);
      read();
      return peakKb / 1024;
    },
    peakMiB: () => peakKb / 1024,
  };
}
