import { describe, reportDown, reportUp, type Dependency } from '../observability/dependencies';

const FIRST_WAIT_MS = 500;
const MAX_WAIT_MS = 5_000;

/**
 * Start-up against a dependency that may be down or restarting: retries `open` with backoff until it succeeds, with
 * one line when the wait starts and one when it ends (`reachable again`), instead of exiting on the first refused
 * socket. Errors that waiting cannot mend (a wrong password, a missing database, a failed migration) are thrown.
 */
export async function untilReachable<T>(
  dependency: Dependency,
  address: string,
  open: () => Promise<T>,
  isTransient: (err: unknown) => boolean = () => true,
): Promise<T> {
  let waited = false;
  for (let wait = FIRST_WAIT_MS; ; wait = Math.min(MAX_WAIT_MS, wait * 2)) {
    try {
      const out = await open();
      reportUp(dependency); // logs the end of the wait, if there was one
      return out;
    } catch (err) {
      if (!isTransient(err)) throw err;
      if (!waited) {
        reportDown(dependency, err, 'start-up', `waiting for ${dependency} at ${address} (${describe(err)}); retrying until it answers`);
      }
      waited = true;
      await new Promise((r) => setTimeout(r, wait));
    }
  }
}

// SQLSTATEs of a server that is shutting down, starting up, or full, and class 08 (connection exceptions).
const TRANSIENT_SQLSTATES = new Set(['57P01', '57P02', '57P03', '53300']);

/**
 * Whether a Postgres error is the server being away rather than a mistake: socket errors (ECONNREFUSED,
 * ECONNRESET, ...), pg's "Connection terminated" (no code), and the SQLSTATEs above.
 */
export function isTransientPgError(err: unknown): boolean {
  if (err instanceof AggregateError) return err.errors.some(isTransientPgError);
  const code = (err as { code?: unknown } | undefined)?.code;
  if (code === undefined) return /connection|terminat|timeout/i.test(String((err as Error | undefined)?.message));
  if (typeof code !== 'string') return false;
  return /^E[A-Z]+$/.test(code) || TRANSIENT_SQLSTATES.has(code) || code.startsWith('08');
}

// gRPC UNAVAILABLE and DEADLINE_EXCEEDED: the server is restarting or unreachable.
const TEMPORAL_TRANSIENT_CODES = new Set([14, 4]);

/** Whether a Temporal client error is the server being away (the SDK wraps the gRPC error as `cause`). */
export function isTemporalUnavailable(err: unknown): boolean {
  for (let e = err as { code?: unknown; cause?: unknown } | undefined, depth = 0; e && depth < 4; e = e.cause as typeof e, depth++) {
    if (typeof e.code === 'number' && TEMPORAL_TRANSIENT_CODES.has(e.code)) return true;
  }
  return false;
}

/** host:port of a postgres:// URL, for the waiting line (never the password). */
export function pgAddress(url: string): string {
  try {
    const u = new URL(url);
    return `${u.hostname}:${u.port || '5432'}${u.pathname}`;
  } catch {
    return 'DATABASE_URL';
  }
}

/**
 * Whether a failure is Postgres or Temporal being away. Background work in the worker (the reconciler, start-up
 * calls retried later) stays quiet about those: the worker's probes report each outage once, and a retry that fails
 * just after the probe saw the server again would otherwise flap the state.
 */
export function isDependencyOutage(err: unknown): boolean {
  return isTemporalUnavailable(err) || isTransientPgError(err);
}
