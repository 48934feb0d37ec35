import { Rng } from '../../scripts/rng';

/**
 * The nemesis's plan: which fault, on what, for how long, and when, drawn from the seed alone before anything runs,
 * so a failing seed replays the same faults in the same order. Kinds come from shuffled decks of every kind, so each
 * run of as many faults as there are kinds covers every kind once.
 */
export const FAULT_KINDS = [
  'kill-worker',
  'kill-api',
  'stop-worker',
  'restart-postgres',
  'outage-postgres',
  'restart-kafka',
  'outage-kafka',
  'restart-temporal',
  'outage-temporal',
  'restart-s3',
  'outage-s3',
  'terminate-backends',
] as const;
export type FaultKind = (typeof FAULT_KINDS)[number];
export type Service = 'postgres' | 'kafka' | 'temporal' | 's3';

export const FAULT_LABELS: Record<FaultKind, string> = {
  'kill-worker': 'kill -9 of a worker',
  'kill-api': 'kill -9 of the API',
  'stop-worker': 'SIGSTOP of a worker, SIGCONT 30 s later',
  'restart-postgres': 'restart of Postgres',
  'outage-postgres': 'outage of Postgres',
  'restart-kafka': 'restart of Kafka',
  'outage-kafka': 'outage of Kafka',
  'restart-temporal': 'restart of Temporal',
  'outage-temporal': 'outage of Temporal',
  'restart-s3': 'restart of S3',
  'outage-s3': 'outage of S3',
  'terminate-backends': 'pg_terminate_backend of every connection',
};

export interface PlannedFault {
  /** 1-based, in order. */
  n: number;
  kind: FaultKind;
  /** When it is due, from the start of the soak's load. */
  atMs: number;
  /** The worker slot (0-based) for worker faults. */
  worker?: number;
  /** The service for restarts and outages. */
  service?: Service;
  /** How long an outage or a SIGSTOP lasts. */
  durationMs?: number;
  /** How long after a kill -9 was recorded its replacement starts (an orchestrator's reaction time). */
  restartDelayMs?: number;
}

export interface PlanOptions {
  seed: number;
  /** Length of the fault phase. */
  minutes: number;
  workers: number;
  /** No fault before this (the processes start and the load begins). */
  warmupMs?: number;
  /** Gaps between faults. */
  gapMs?: [number, number];
  outageMs?: [number, number];
  stopMs?: number;
}

/** How long a fault keeps its target busy, as the plan estimates it; the nemesis waits for the real end anyway. */
function busyFor(f: PlannedFault): number {
  switch (f.kind) {
    case 'kill-worker':
      return f.restartDelayMs! + 30_000; // a worker bundles its workflows at start-up
    case 'kill-api':
      return f.restartDelayMs! + 10_000;
    case 'stop-worker':
      return f.durationMs! + 2_000;
    case 'terminate-backends':
      return 2_000;
    default:
      return f.kind.startsWith('outage-') ? f.durationMs! + 20_000 : 20_000;
  }
}

function resourceOf(f: Pick<PlannedFault, 'kind' | 'worker' | 'service'>): string {
  if (f.worker !== undefined) return `worker${f.worker}`;
  if (f.kind === 'kill-api') return 'api';
  if (f.kind === 'terminate-backends') return 'postgres';
  return f.service!;
}

export function planFaults(o: PlanOptions): PlannedFault[] {
  const rng = new Rng(o.seed);
  const [gapMin, gapMax] = o.gapMs ?? [5_000, 20_000];
  const [outMin, outMax] = o.outageMs ?? [10_000, 30_000];
  const endMs = o.minutes * 60_000;
  const freeAt = new Map<string, number>();
  const isFree = (r: string, t: number) => (freeAt.get(r) ?? 0) <= t;
  const plan: PlannedFault[] = [];
  let deck: FaultKind[] = [];
  let t = o.warmupMs ?? 20_000;
  while (t < endMs) {
    if (deck.length === 0) deck = rng.shuffle([...FAULT_KINDS]);
    // The first kind of the deck whose target is free now; a worker fault takes any free worker slot.
    let chosen: PlannedFault | undefined;
    for (const kind of deck) {
      const draft: PlannedFault = { n: plan.length + 1, kind, atMs: Math.round(t) };
      if (kind === 'kill-worker' || kind === 'stop-worker') {
        const slots = [...Array(o.workers).keys()].filter((w) => isFree(`worker${w}`, t));
        if (slots.length === 0) continue;
        draft.worker = rng.pick(slots);
      } else if (kind.startsWith('restart-') || kind.startsWith('outage-')) {
        draft.service = kind.split('-')[1] as Service;
      }
      if (!isFree(resourceOf(draft), t)) continue;
      if (kind.startsWith('outage-')) draft.durationMs = Math.round(outMin + rng.next() * (outMax - outMin));
      if (kind === 'stop-worker') draft.durationMs = o.stopMs ?? 30_000;
      if (kind.startsWith('kill-')) draft.restartDelayMs = Math.round(1_000 + rng.next() * 4_000);
      chosen = draft;
      break;
    }
    if (!chosen) {
      t += 1_000;
      continue;
    }
    deck.splice(deck.indexOf(chosen.kind), 1);
    freeAt.set(resourceOf(chosen), t + busyFor(chosen));
    plan.push(chosen);
    t += gapMin + rng.next() * (gapMax - gapMin);
  }
  return plan;
}

/** One line per fault, for the log: the schedule a seed gives. */
export function describeFault(f: PlannedFault): string {
  const target = f.worker !== undefined ? ` worker ${f.worker}` : '';
  const extra = f.durationMs ? ` for ${(f.durationMs / 1000).toFixed(0)} s` : f.restartDelayMs ? `, replaced ${(f.restartDelayMs / 1000).toFixed(1)} s after` : '';
  return `#${f.n} at ${(f.atMs / 1000).toFixed(1)} s: ${f.kind}${target}${extra}`;
}

export { resourceOf };
