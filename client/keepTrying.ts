import { isDependencyOutage } from '../connections/untilReachable';
import { backoffMs } from '../domain/backoff';
import type { Logger } from '../observability/logger';

/**
 * Runs `attempt` until it succeeds, in the background, with capped exponential backoff: start-up calls to Temporal
 * that must happen eventually but must never stop a worker from running jobs while the server is away.
 * Returns a stop function.
 */
export function keepTrying(what: string, attempt: () => Promise<void>, log: Logger): () => void {
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  const run = (n: number) => {
    if (stopped) return;
    attempt().catch((err: unknown) => {
      const waitMs = backoffMs({ initialMs: 1_000, maxMs: 30_000 }, n + 1);
      if (!isDependencyOutage(err)) log.warn({ err: (err as Error)?.message ?? err, waitMs }, `could not ${what}; retrying`);
      timer = setTimeout(() => run(n + 1), waitMs);
    });
  };
  run(0);
  return () => {
    stopped = true;
    if (timer) clearTimeout(timer);
  };
}
