import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { Client as PgClient } from 'pg';
import { REPO } from '../support/stack';
import type { ProcessTable } from './processes';
import { describeFault, resourceOf, type PlannedFault } from './schedule';

/**
 * Runs the plan: each fault at its time, once its target is free again (the previous fault on it has healed), so the
 * order of faults is the seed's whatever the machine's speed. It restarts only what it killed, and only once the
 * process table has recorded the death; it starts again only what it stopped. Every fault gets its moments: injected,
 * ended (the dependency back, the replacement started, SIGCONT sent), and later recovered (from the probes).
 */
export interface FaultRecord {
  plan: PlannedFault;
  injectedAt?: number;
  endedAt?: number;
  recoveredAt?: number;
  note: string;
  error?: string;
}

const run = promisify(execFile);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export class Nemesis {
  readonly records: FaultRecord[] = [];
  private readonly busy = new Map<string, Promise<void>>();
  private stopped = false;
  private loop: Promise<void> | undefined;

  constructor(
    private readonly plan: PlannedFault[],
    private readonly processes: ProcessTable,
    private readonly env: Record<string, string>,
    private readonly log: (line: string) => void,
  ) {}

  start(loadStart: number, until: number): void {
    this.loop = this.runPlan(loadStart, until);
  }

  /** Stops scheduling new faults and waits until every injected one has healed. */
  async finish(): Promise<void> {
    this.stopped = true;
    await this.loop;
    await Promise.all(this.busy.values());
  }

  lastEndedAt(): number | undefined {
    return Math.max(0, ...this.records.map((r) => r.endedAt ?? 0)) || undefined;
  }

  private async runPlan(loadStart: number, until: number): Promise<void> {
    for (const f of this.plan) {
      while (!this.stopped && Date.now() < loadStart + f.atMs) await sleep(Math.min(500, loadStart + f.atMs - Date.now()));
      if (this.stopped || Date.now() >= until) return;
      const resource = resourceOf(f);
      await this.busy.get(resource); // the previous fault on this target has healed
      if (this.stopped) return;
      const rec: FaultRecord = { plan: f, note: '' };
      this.records.push(rec);
      const done = this.inject(rec).catch((err: unknown) => {
        rec.error = (err as Error).message.slice(0, 500);
        this.log(`fault ${describeFault(f)} failed: ${rec.error}`);
      });
      this.busy.set(resource, done);
      await sleep(50); // an injection begins before the next fault is looked at
    }
  }

  /**
   * One service's stop or start step of stack.sh (what `stack.sh stop|start <service>` runs under the stack's state
   * lock). Called without that lock, as `stack.sh up` runs the steps of all services side by side: through the lock,
   * an outage of one service would last as long as another service's restart held it, not as the plan says.
   */
  private stack(step: 'down' | 'up', service: string): Promise<unknown> {
    return run('bash', [path.join(REPO, 'stack', 'stack.sh'), `__${step}`, service], { env: this.env, maxBuffer: 16 * 1024 * 1024 });
  }

  /** A stack step that must work: tried again a few times (the fault is the outage, not a failed start). */
  private async stackSure(cmd: 'down' | 'up', service: string): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        await this.stack(cmd, service);
        return;
      } catch (err) {
        if (attempt >= 3) throw err;
        this.log(`stack.sh ${cmd} ${service} failed (${(err as Error).message.split('\n')[0]}); trying again`);
        await sleep(3_000);
      }
    }
  }

  private async inject(rec: FaultRecord): Promise<void> {
    const f = rec.plan;
    this.log(`fault ${describeFault(f)}`);
    switch (f.kind) {
      case 'kill-worker':
      case 'kill-api': {
        const role = f.kind === 'kill-worker' ? 'worker' : 'api';
        const victim = this.processes.get(role, f.worker ?? 0);
        if (!victim?.alive()) {
          rec.note = `no live ${role} in slot ${f.worker ?? 0} (it died unexpectedly): not killed, not replaced`;
          return;
        }
        rec.injectedAt = Date.now();
        // Resolves once the process table has recorded the exit as this fault's.
        const death = await victim.kill9(`fault #${f.n} ${f.kind}`);
        await sleep(f.restartDelayMs!);
        const replacement = this.processes.start(role, f.worker ?? 0);
        rec.endedAt = Date.now();
        rec.note = `pid ${victim.pid} killed (${death.signal}), replaced by pid ${replacement.pid}`;
        await this.processes.ready(replacement).catch((err: unknown) => {
          rec.error = `replacement not ready: ${(err as Error).message.slice(0, 300)}`;
        });
        return;
      }
      case 'stop-worker': {
        const victim = this.processes.get('worker', f.worker!);
        if (!victim?.alive()) {
          rec.note = `no live worker in slot ${f.worker} (it died unexpectedly)`;
          return;
        }
        rec.injectedAt = Date.now();
        victim.signal('SIGSTOP');
        await sleep(f.durationMs!);
        victim.signal('SIGCONT');
        rec.endedAt = Date.now();
        rec.note = `pid ${victim.pid} stopped for ${(f.durationMs! / 1000).toFixed(0)} s`;
        return;
      }
      case 'terminate-backends': {
        const su = new PgClient({ connectionString: this.env['DATABASE_URL']!.replace(/\/\/[^@]*@/, '//postgres@') });
        su.on('error', () => undefined);
        rec.injectedAt = Date.now();
        try {
          await su.connect();
          const res = await su.query<{ n: number }>(
            `SELECT count(*) FILTER (WHERE pg_terminate_backend(pid))::int AS n FROM pg_stat_activity
              WHERE pid <> pg_backend_pid() AND backend_type = 'client backend'`,
          );
          rec.note = `${res.rows[0]!.n} backends terminated`;
        } finally {
          await su.end().catch(() => undefined);
        }
        rec.endedAt = Date.now();
        return;
      }
      default: {
        const service = f.service!;
        rec.injectedAt = Date.now();
        if (f.kind.startsWith('restart-')) {
          await this.stackSure('down', service);
          await this.stackSure('up', service);
          rec.endedAt = Date.now();
          rec.note = `back in ${((rec.endedAt - rec.injectedAt) / 1000).toFixed(1)} s`;
        } else {
          await this.stackSure('down', service);
          await sleep(f.durationMs!);
          await this.stackSure('up', service);
          rec.endedAt = Date.now();
          rec.note = `down ${((rec.endedAt - rec.injectedAt) / 1000).toFixed(1)} s`;
        }
      }
    }
  }
}
