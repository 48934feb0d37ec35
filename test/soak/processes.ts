import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, readFileSync, type WriteStream } from 'node:fs';
import path from 'node:path';
import { REPO } from '../support/stack';

/**
 * The soak's own processes, started as the README starts them (`scheduled-job worker`, `scheduled-job api`) with the
 * stack's variables and nothing else: the shipped jobs and consumers, no test modules, no prebuilt bundle. Every exit
 * is recorded; an exit nobody asked for (a kill -9 the nemesis announced, or the shutdown at the end) is an unexpected
 * death, and nothing restarts such a process.
 */
export type Role = 'worker' | 'api';

export interface Death {
  role: Role;
  slot: number;
  pid: number;
  at: number;
  code: number | null;
  signal: NodeJS.Signals | null;
  /** Why it was expected (the fault that killed it, or the shutdown), or undefined: an unexpected death. */
  expected?: string;
  tail: string;
}

export class SoakProcess {
  readonly child: ChildProcess;
  readonly pid: number;
  readonly startedAt = Date.now();
  readyAt: number | undefined;
  exit: Death | undefined;
  expectDeath: string | undefined;
  peakRssKb = 0;
  private tail = '';
  private readonly log: WriteStream;
  private readonly exited: Promise<Death>;

  constructor(
    readonly role: Role,
    readonly slot: number,
    env: Record<string, string>,
    logDir: string,
    onExit: (d: Death) => void,
  ) {
    // Through the launcher, with the memory flags a user's `scheduled-job` gets (exec: the pid is node's own).
    this.child = spawn(path.join(REPO, 'bin', 'scheduled-job'), [role], {
      cwd: REPO,
      env: { ...env, LOG_LEVEL: 'info' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.pid = this.child.pid!;
    this.log = createWriteStream(path.join(logDir, `${role}${role === 'worker' ? slot : ''}-${this.pid}.log`));
    const collect = (d: Buffer) => {
      this.log.write(d);
      this.tail = (this.tail + d.toString()).slice(-8_000);
      if (this.readyAt === undefined && this.role === 'worker' && this.tail.includes('"msg":"worker started"')) this.readyAt = Date.now();
    };
    this.child.stdout!.on('data', collect);
    this.child.stderr!.on('data', collect);
    this.exited = new Promise((resolve) =>
      this.child.once('exit', (code, signal) => {
        this.exit = { role, slot, pid: this.pid, at: Date.now(), code, signal, expected: this.expectDeath, tail: this.tail };
        this.log.end();
        onExit(this.exit);
        resolve(this.exit);
      }),
    );
  }

  alive(): boolean {
    return this.exit === undefined;
  }

  output(): string {
    return this.tail;
  }

  /** Resident set size now, from /proc; keeps the peak. */
  sampleRss(): void {
    try {
      const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${this.pid}/status`, 'utf8'));
      if (m) this.peakRssKb = Math.max(this.peakRssKb, Number(m[1]));
    } catch {
      // gone between samples
    }
  }

  /** kill -9, announced first so the exit is recorded as the fault's. Resolves once the exit is recorded. */
  async kill9(reason: string): Promise<Death> {
    this.expectDeath = reason;
    this.child.kill('SIGKILL');
    return this.exited;
  }

  signal(sig: 'SIGSTOP' | 'SIGCONT'): void {
    if (this.alive()) process.kill(this.pid, sig);
  }

  async stop(): Promise<void> {
    if (!this.alive()) return;
    this.expectDeath ??= 'shutdown at the end of the soak';
    this.child.kill('SIGCONT');
    this.child.kill('SIGTERM');
    const t = setTimeout(() => this.child.kill('SIGKILL'), 30_000);
    await this.exited;
    clearTimeout(t);
  }
}

/** The workers' slots and the API: who runs now, every process ever started, and every death. */
export class ProcessTable {
  readonly all: SoakProcess[] = [];
  readonly deaths: Death[] = [];
  private readonly current = new Map<string, SoakProcess>();
  private readonly sampler: NodeJS.Timeout;

  constructor(
    private readonly env: Record<string, string>,
    private readonly logDir: string,
    private readonly apiBase: string,
    private readonly onDeath: (d: Death) => void = () => undefined,
  ) {
    this.sampler = setInterval(() => this.all.forEach((p) => p.alive() && p.sampleRss()), 1_000);
  }

  get(role: Role, slot = 0): SoakProcess | undefined {
    return this.current.get(`${role}${slot}`);
  }

  workers(): SoakProcess[] {
    return [...this.current.values()].filter((p) => p.role === 'worker');
  }

  /** Starts a process in a slot; does not wait for it to be ready (a worker waits for its dependencies itself). */
  start(role: Role, slot = 0): SoakProcess {
    const p = new SoakProcess(role, slot, this.env, this.logDir, (d) => {
      this.deaths.push(d);
      this.onDeath(d);
    });
    this.all.push(p);
    this.current.set(`${role}${slot}`, p);
    if (role === 'api') void this.watchApiReady(p);
    return p;
  }

  private async watchApiReady(p: SoakProcess): Promise<void> {
    while (p.alive() && p.readyAt === undefined) {
      const ok = await fetch(`${this.apiBase}/healthz`, { signal: AbortSignal.timeout(2_000) }).then((r) => r.ok, () => false);
      if (ok) p.readyAt = Date.now();
      else await new Promise((r) => setTimeout(r, 200));
    }
  }

  /** Waits until the process says it is ready (the worker's start-up line, the API's /healthz); fails if it exits. */
  async ready(p: SoakProcess, timeoutMs = 300_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (p.readyAt === undefined) {
      if (!p.alive()) throw new Error(`${p.role} ${p.pid} exited before it was ready:\n${p.output().slice(-3000)}`);
      if (Date.now() > deadline) throw new Error(`${p.role} ${p.pid} not ready after ${timeoutMs} ms:\n${p.output().slice(-3000)}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }

  unexpectedDeaths(): Death[] {
    return this.deaths.filter((d) => d.expected === undefined);
  }

  async stopAll(): Promise<void> {
    clearInterval(this.sampler);
    await Promise.all(this.all.map((p) => p.stop()));
  }
}
