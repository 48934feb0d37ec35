import type { Pool } from 'pg';
import type { HttpLedger } from './http';
import type { StreamLoad } from './streamLoad';

/**
 * End-to-end probes, for recovery times: every 2 s a batch probe (a trigger of example_flaky with nothing to fail,
 * through the API, polled until it succeeded: API, Temporal, a worker and Postgres all working) and, from the stream
 * load, one event of each acknowledged send (polled in Postgres until its row is there: Kafka, the consumer, its
 * ingest workflow and Postgres). A fault has recovered when a probe of each kind begun after the fault ended has
 * come through.
 */
export interface BatchProbe {
  startedAt: number;
  doneAt?: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export class Probes {
  readonly batch: BatchProbe[] = [];
  private running = false;
  private loops: Promise<void>[] = [];
  private n = 0;

  constructor(
    private readonly http: HttpLedger,
    private readonly pg: Pool,
    private readonly stream: StreamLoad,
    private readonly runTag: string,
  ) {}

  start(): void {
    this.running = true;
    this.loops = [this.batchLoop(), this.streamLoop()];
  }

  private gaveUp = false;

  /** No new probe; resolves once every stream probe already sent is stored, or `giveUp` was called. */
  async stop(): Promise<void> {
    this.running = false;
    await Promise.all(this.loops);
  }

  private async batchLoop(): Promise<void> {
    const inFlight = new Set<Promise<void>>();
    while (this.running) {
      if (inFlight.size < 8) {
        const p = this.oneBatchProbe().finally(() => inFlight.delete(p));
        inFlight.add(p);
      }
      await sleep(2_000);
    }
    await Promise.all(inFlight);
  }

  private async oneBatchProbe(): Promise<void> {
    const probe: BatchProbe = { startedAt: Date.now() };
    this.batch.push(probe);
    const tag = `${this.runTag}-probe-${++this.n}`;
    let runId: string | undefined;
    while (!runId) {
      const a = await this.http.request<{ runId: string }>({
        method: 'POST',
        path: '/jobs/example_flaky/runs',
        body: { args: { failAttempts: 0, tag } },
        expect: [202, 409],
        needsDependency: true,
        label: 'POST /jobs/example_flaky/runs (probe)',
      });
      runId = a.body?.runId;
      if (!runId) {
        if (!this.running) return;
        await sleep(1_000);
      }
    }
    for (;;) {
      const a = await this.http.request<{ status: string }>({
        method: 'GET',
        path: `/jobs/example_flaky/runs/${runId}`,
        expect: [200],
        needsDependency: true,
        label: 'GET /jobs/:job/runs/:runId (probe)',
      });
      if (a.body?.status === 'succeeded') {
        probe.doneAt = Date.now();
        return;
      }
      if (a.body?.status && a.body.status !== 'running') return; // never done: the checker sees the run's status
      await sleep(500);
    }
  }

  private async streamLoop(): Promise<void> {
    let from = 0;
    for (;;) {
      const pending = this.stream.probes.slice(from).filter((p) => p.storedAt === undefined);
      if (pending.length > 0) {
        try {
          const res = await this.pg.query<{ event_id: string }>(`SELECT event_id FROM curated_program_events WHERE event_id = ANY($1::text[])`, [
            pending.map((p) => p.eventId),
          ]);
          const seen = new Set(res.rows.map((r) => r.event_id));
          const now = Date.now();
          for (const p of pending) if (seen.has(p.eventId)) p.storedAt = now;
        } catch {
          // Postgres away: asked again next round
        }
      }
      while (from < this.stream.probes.length && this.stream.probes[from]!.storedAt !== undefined) from++;
      // After stop, until the events already sent are stored (the checker's convergence wait bounds it anyway).
      if (!this.running && (pending.length === 0 || this.gaveUp)) return;
      await sleep(500);
    }
  }

  giveUp(): void {
    this.gaveUp = true;
  }

  /**
   * Probe latencies per `bucketMs` of start time, from `t0`: for each bucket the slowest batch probe and the slowest
   * stream probe begun in it (seconds; `-` when one never came through). Where a recovery was slow, this says which
   * path stalled and when.
   */
  timeline(t0: number, bucketMs = 10_000): string[] {
    const rows = new Map<number, { batch: number[]; stream: number[]; stuckBatch: number; stuckStream: number }>();
    const row = (t: number) => {
      const k = Math.floor((t - t0) / bucketMs);
      return rows.get(k) ?? rows.set(k, { batch: [], stream: [], stuckBatch: 0, stuckStream: 0 }).get(k)!;
    };
    for (const p of this.batch) {
      if (p.doneAt === undefined) row(p.startedAt).stuckBatch++;
      else row(p.startedAt).batch.push((p.doneAt - p.startedAt) / 1000);
    }
    for (const p of this.stream.probes) {
      if (p.storedAt === undefined) row(p.ackedAt).stuckStream++;
      else row(p.ackedAt).stream.push((p.storedAt - p.ackedAt) / 1000);
    }
    const max = (xs: number[]) => (xs.length ? Math.max(...xs).toFixed(1) : '-');
    return [...rows]
      .sort(([a], [b]) => a - b)
      .map(([k, r]) => `+${String((k * bucketMs) / 1000).padStart(4)} s  batch ${max(r.batch).padStart(6)} s${r.stuckBatch ? ` (${r.stuckBatch} never)` : ''}  stream ${max(r.stream).padStart(6)} s${r.stuckStream ? ` (${r.stuckStream} never)` : ''}`);
  }

  /** When both kinds of probe begun at or after `t` had come through, or undefined if none did. */
  recoveredAt(t: number): number | undefined {
    const first = (times: (number | undefined)[]) => {
      const done = times.filter((x): x is number => x !== undefined);
      return done.length ? Math.min(...done) : undefined;
    };
    const b = first(this.batch.filter((p) => p.startedAt >= t).map((p) => p.doneAt));
    const s = first(this.stream.probes.filter((p) => p.ackedAt >= t).map((p) => p.storedAt));
    return b === undefined || s === undefined ? undefined : Math.max(b, s);
  }
}
