import type { ProcessTable } from './processes';

/**
 * Every HTTP request the soak's clients make goes through here and is judged: the answer must be one the request
 * allows (202/409 for a trigger, 200 for a read, the 4xx a bad request asks for), or 503 where the request needs a
 * dependency; never a 500, never no answer within 10 s. A refused or cut connection counts only while the API is
 * down because the nemesis killed it (killed, not yet answering again); at any other time it is a violation.
 */
export const HANG_MS = 10_000;

export type Verdict = 'expected' | 'unavailable' | 'api-down' | 'violation';

export interface Answer<T = unknown> {
  status?: number;
  body?: T;
  verdict: Verdict;
  ms: number;
}

export interface Violation {
  at: number;
  request: string;
  what: string;
}

export interface RequestSpec {
  method: 'GET' | 'POST';
  path: string;
  body?: unknown;
  /** Statuses this request must get when every dependency answers. */
  expect: number[];
  /** Whether the route needs Postgres or Temporal (a 503 is then an honest answer during an outage). */
  needsDependency: boolean;
  /** Send no token (to check the 401). */
  noToken?: boolean;
  /** A label for the tables (the route pattern rather than the path). */
  label: string;
}

export class HttpLedger {
  readonly counts = new Map<string, number>();
  readonly violations: Violation[] = [];
  slowestMs = 0;
  requests = 0;

  constructor(
    private readonly base: string,
    private readonly token: string,
    private readonly processes: ProcessTable,
  ) {}

  private count(key: string): void {
    this.counts.set(key, (this.counts.get(key) ?? 0) + 1);
  }

  async request<T = unknown>(spec: RequestSpec): Promise<Answer<T>> {
    const api = this.processes.get('api');
    const apiReadyAtStart = api !== undefined && api.alive() && api.readyAt !== undefined;
    const t0 = Date.now();
    this.requests++;
    const headers: Record<string, string> = {};
    if (!spec.noToken) headers['authorization'] = `Bearer ${this.token}`;
    if (spec.body !== undefined) headers['content-type'] = 'application/json';
    const request = `${spec.method} ${spec.path}`;
    try {
      const res = await fetch(`${this.base}${spec.path}`, {
        method: spec.method,
        headers,
        ...(spec.body !== undefined ? { body: JSON.stringify(spec.body) } : {}),
        signal: AbortSignal.timeout(HANG_MS),
      });
      const text = await res.text();
      const ms = Date.now() - t0;
      this.slowestMs = Math.max(this.slowestMs, ms);
      let body: T | undefined;
      try {
        body = JSON.parse(text) as T;
      } catch {
        body = undefined;
      }
      this.count(`${spec.label} ${res.status}`);
      if (spec.expect.includes(res.status)) return { status: res.status, body, verdict: 'expected', ms };
      if (res.status === 503 && spec.needsDependency) return { status: res.status, body, verdict: 'unavailable', ms };
      this.violations.push({ at: t0, request, what: `${res.status} ${text.slice(0, 300)} (expected ${spec.expect.join('/')})` });
      return { status: res.status, body, verdict: 'violation', ms };
    } catch (err) {
      const ms = Date.now() - t0;
      const e = err as Error & { cause?: { code?: string } };
      if (e.name === 'TimeoutError' || e.name === 'AbortError') {
        this.count(`${spec.label} hang`);
        this.violations.push({ at: t0, request, what: `no answer within ${HANG_MS / 1000} s` });
        return { verdict: 'violation', ms };
      }
      // Allowed only if the API the request went to was killed by the nemesis (announced before the signal, so a
      // request cut at that moment counts too) or was a replacement not answering yet.
      const why = e.cause?.code ?? e.message;
      const killed = api?.expectDeath !== undefined;
      const starting = !apiReadyAtStart && api !== undefined && api.exit === undefined;
      if (killed || starting) {
        this.count(`${spec.label} api-down`);
        return { verdict: 'api-down', ms };
      }
      this.count(`${spec.label} error`);
      this.violations.push({ at: t0, request, what: `connection error ${why} while the API was up` });
      return { verdict: 'violation', ms };
    }
  }

  /** `<route> <status>` counts, grouped per route, for the closing table. */
  summary(): string[] {
    const byLabel = new Map<string, string[]>();
    for (const [k, n] of [...this.counts].sort()) {
      const i = k.lastIndexOf(' ');
      const label = k.slice(0, i);
      (byLabel.get(label) ?? byLabel.set(label, []).get(label)!).push(`${k.slice(i + 1)}: ${n}`);
    }
    return [...byLabel].map(([label, parts]) => `${label.padEnd(46)} ${parts.join(', ')}`);
  }
}
