// No metrics library and no logger at load: every CLI call reaches this module (through untilReachable), and
// prom-client, pino and OpenTelemetry's API were a fifth of a `status` call's start-up. The gauge reads the state
// below at each scrape (observability/metrics.ts); the logger is required for the first line to write.
const log = () => (require('./logger') as typeof import('./logger')).logger;

/** What /readyz and the worker's probes ask about. */
export type ProbedDependency = 'postgres' | 'temporal';
/** The schema registry is reported by the ingest side that uses it (a consumer with the Confluent format), not probed. */
export type Dependency = ProbedDependency | 'schema-registry';

interface State {
  up: boolean;
  since: number;
  /** Failures seen during the current outage (connections lost, probes failed), told in the recovery line. */
  failures: number;
}

const states = new Map<Dependency, State>();
let serviceName = 'scheduled-job';

/** Names this process (worker, api, cli) in the outage lines, so a shared log says who lost what. */
export function setServiceName(name: string): void {
  serviceName = name;
}

/**
 * Marks a dependency unreachable. Only the first failure of an outage is logged: a restart of Postgres ends every
 * pooled connection at once and every activity retries, and one line per failure would bury the news.
 */
export function reportDown(dependency: Dependency, err: unknown, where?: string, message?: string): void {
  const s = states.get(dependency);
  if (s && !s.up) {
    s.failures++;
    return;
  }
  states.set(dependency, { up: false, since: Date.now(), failures: 1 });
  log().warn(
    { dependency, process: serviceName, where, err: describe(err) },
    message ?? `${dependency} unreachable or closed a connection; retrying in the background (logged once per outage)`,
  );
}

/** Each dependency this process has reported on, and whether it is reachable now (the dependency gauge). */
export function dependenciesUp(): [Dependency, boolean][] {
  return [...states].map(([d, s]) => [d, s.up]);
}

/** Marks a dependency reachable; logs one line if it ends an outage. */
export function reportUp(dependency: Dependency): void {
  const s = states.get(dependency);
  if (s?.up) return;
  states.set(dependency, { up: true, since: Date.now(), failures: 0 });
  if (s) {
    log().info(
      { dependency, process: serviceName, downMs: Date.now() - s.since, failures: s.failures },
      `${dependency} reachable again`,
    );
  }
}

/** A short reason for logs and /readyz: the code and message, without the stack. */
export function describe(err: unknown): string {
  if (err instanceof AggregateError && err.errors.length > 0) return describe(err.errors[0]);
  const e = err as { code?: unknown; message?: unknown } | undefined;
  const message = typeof e?.message === 'string' && e.message ? e.message : String(err);
  return typeof e?.code === 'string' && !message.includes(e.code) ? `${e.code}: ${message}` : message;
}

/** A cheap round trip to one dependency; rejects when it does not answer. */
export type Probe = () => Promise<unknown>;
export type Probes = Record<ProbedDependency, Probe>;

/** Runs every probe at once, each bounded by `timeoutMs`: the reason per unreachable dependency, undefined if up. */
export async function checkDependencies(probes: Probes, timeoutMs = 3_000): Promise<Record<ProbedDependency, string | undefined>> {
  const names = Object.keys(probes) as ProbedDependency[];
  const results = await Promise.all(
    names.map(async (name) => {
      try {
        await withTimeout(probes[name](), timeoutMs, `no answer in ${timeoutMs} ms`);
        reportUp(name);
        return undefined;
      } catch (err) {
        reportDown(name, err, 'probe');
        return describe(err);
      }
    }),
  );
  return Object.fromEntries(names.map((n, i) => [n, results[i]])) as Record<ProbedDependency, string | undefined>;
}

/**
 * Probes each dependency on its own interval so the gauge and the outage lines follow it even while no work touches
 * it. Temporal is asked often (a cheap call on the open channel; a dev server restarts in about a second), Postgres
 * less (each probe opens a connection).
 */
export function watchDependencies(probes: Probes, everyMs: Record<ProbedDependency, number>): () => void {
  const timers = (Object.keys(probes) as ProbedDependency[]).map((name) => {
    let running = false;
    const tick = () => {
      if (running) return;
      running = true;
      void checkDependencies({ [name]: probes[name] } as Probes).finally(() => (running = false));
    };
    tick();
    const timer = setInterval(tick, everyMs[name]);
    timer.unref();
    return timer;
  });
  return () => timers.forEach((t) => clearInterval(t));
}

function withTimeout<T>(p: Promise<T>, ms: number, why: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(why)), ms)));
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}
