/**
 * CPU seconds per process of the local stack over a stretch of a benchmark, read from /proc: where a path's time
 * goes (the worker, Postgres, Temporal, the S3 server) and how much of the machine other processes took meanwhile.
 * On this shared 2-core machine a ratio means little without the second figure.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { REPO } from '../test/support/stack';

const TICKS_PER_S = 100;

/** utime + stime (+ the reaped children's, when asked) of one process in seconds; 0 when it is gone. */
function processCpu(pid: number, withReaped = false): number {
  try {
    // Fields after the command name, which may hold spaces: state is [0], utime [11], stime [12], cutime [13], cstime [14].
    const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    const own = Number(f[11]) + Number(f[12]);
    return (withReaped ? own + Number(f[13]) + Number(f[14]) : own) / TICKS_PER_S;
  } catch {
    return 0;
  }
}

function firstLine(file: string): string | undefined {
  try {
    return readFileSync(file, 'utf8').split('\n')[0] || undefined;
  } catch {
    return undefined;
  }
}

function pidFile(file: string): number | undefined {
  return Number(firstLine(file)) || undefined;
}

/** Postgres: the postmaster, its live children (backends, WAL writer...) and those it has reaped. */
function postgresCpu(postmaster: number): number {
  let sum = processCpu(postmaster, true);
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const f = readFileSync(`/proc/${entry}/stat`, 'utf8').split(') ')[1]!.split(' ');
      if (Number(f[1]) === postmaster) sum += (Number(f[11]) + Number(f[12])) / TICKS_PER_S;
    } catch {
      // gone between the listing and the read
    }
  }
  return sum;
}

/** Busy seconds of the whole machine (all cores) from /proc/stat. */
function machineBusy(): number {
  const cpu = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
  // user nice system idle iowait irq softirq steal: idle and iowait are not busy
  return (cpu.reduce((a, b) => a + b, 0) - cpu[3]! - cpu[4]!) / TICKS_PER_S;
}

export type CpuSeconds = Record<'wall' | 'worker' | 'postgres' | 'temporal' | 's3' | 'bench' | 'others', number>;

/** Starts a measurement; `stop()` gives each process group's CPU seconds since, and the machine's rest. */
export function measureCpu(workerPid: number): { stop(): CpuSeconds } {
  const stack = path.join(REPO, '.stack');
  // Where the stack put Postgres's data: in the state dir, or under /var/lib when the postgres user cannot reach that
  // (a clone under /tmp, as CI's); stack/postgres.sh records the choice.
  const pgBase = firstLine(path.join(stack, 'postgres.location')) ?? path.join(stack, 'postgres');
  const postmaster = pidFile(path.join(pgBase, 'pgdata', 'postmaster.pid'));
  const temporal = pidFile(path.join(stack, 'run', 'temporal.pid'));
  const s3 = pidFile(path.join(stack, 'run', 's3.pid'));
  const read = () => {
    const own = process.cpuUsage();
    return {
      wall: Number(process.hrtime.bigint()) / 1e9,
      worker: processCpu(workerPid),
      postgres: postmaster ? postgresCpu(postmaster) : NaN,
      temporal: temporal ? processCpu(temporal, true) : NaN,
      s3: s3 ? processCpu(s3, true) : NaN,
      // this process and the psql it runs (reaped into its children's time)
      bench: (own.user + own.system) / 1e6 + processCpu(process.pid, true) - processCpu(process.pid),
      machine: machineBusy(),
    };
  };
  const before = read();
  return {
    stop() {
      const after = read();
      const d = (k: keyof typeof before) => after[k] - before[k];
      const ours = d('worker') + d('postgres') + d('temporal') + d('s3') + d('bench');
      return {
        wall: d('wall'),
        worker: d('worker'),
        postgres: d('postgres'),
        temporal: d('temporal'),
        s3: d('s3'),
        bench: d('bench'),
        others: Math.max(0, d('machine') - ours),
      };
    },
  };
}

/** `worker 3.1 s, postgres 3.6 s, ...` for the bench's output. */
export function describeCpu(c: CpuSeconds): string {
  return Object.entries(c)
    .map(([k, v]) => `${k} ${v.toFixed(1)} s`)
    .join(', ');
}
