import { Rng } from '../../scripts/rng';
import type { HttpLedger } from './http';

/**
 * Several HTTP clients at once, as dashboards, scripts and sensors use the API: triggers of the example jobs (the
 * lock-by-name one answers 409 while it runs), status polls of the runs they started, listings, readiness, the read
 * API, and requests that must be refused (unknown job, invalid arguments, unknown run, no token). Each run they start
 * has an outcome known in advance: example_flaky fails its first `failAttempts` attempts and has 2 retries, so 0-2
 * end succeeded after failAttempts + 1 attempts and 3 ends failed after 3; example_steps succeeds.
 */
export interface TrackedRun {
  job: string;
  runId: string;
  expectStatus: 'succeeded' | 'failed';
  expectAttempt?: number;
  startedAt: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export class HttpClients {
  readonly runs: TrackedRun[] = [];
  private running = false;
  private loops: Promise<void>[] = [];
  private n = 0;

  constructor(
    private readonly http: HttpLedger,
    private readonly seed: number,
    private readonly runTag: string,
    private readonly readDays: () => { day: string; notification: string }[],
  ) {}

  start(clients: number): void {
    this.running = true;
    this.loops = Array.from({ length: clients }, (_, i) => this.loop(i));
  }

  async stop(): Promise<void> {
    this.running = false;
    await Promise.all(this.loops);
  }

  private async loop(i: number): Promise<void> {
    const rng = new Rng(this.seed * 31 + i);
    while (this.running) {
      const action = rng.weighted({ flaky: 3, steps: 2, status: 6, list: 2, jobs: 1, ready: 1, views: 2, refused: 2 });
      await this.act(action, rng, i);
      await sleep(300 + rng.int(1200));
    }
  }

  private async act(action: string, rng: Rng, client: number): Promise<void> {
    const h = this.http;
    switch (action) {
      case 'flaky': {
        const failAttempts = rng.pick([0, 0, 1, 2, 3]);
        const tag = `${this.runTag}-c${client}-${++this.n}`;
        const a = await h.request<{ runId: string }>({
          method: 'POST',
          path: '/jobs/example_flaky/runs',
          body: { args: { failAttempts, tag } },
          expect: [202],
          needsDependency: true,
          label: 'POST /jobs/example_flaky/runs',
        });
        if (a.status === 202 && a.body?.runId) {
          this.runs.push({
            job: 'example_flaky',
            runId: a.body.runId,
            expectStatus: failAttempts <= 2 ? 'succeeded' : 'failed',
            expectAttempt: Math.min(failAttempts, 2) + 1,
            startedAt: Date.now(),
          });
        }
        return;
      }
      case 'steps': {
        const a = await h.request<{ runId: string }>({
          method: 'POST',
          path: '/jobs/example_steps/runs',
          body: { args: { steps: 2, stepMs: 300 } },
          expect: [202, 409],
          needsDependency: true,
          label: 'POST /jobs/example_steps/runs',
        });
        if (a.status === 202 && a.body?.runId) this.runs.push({ job: 'example_steps', runId: a.body.runId, expectStatus: 'succeeded', startedAt: Date.now() });
        return;
      }
      case 'status': {
        if (this.runs.length === 0) return;
        // Mostly recent runs (a sensor polls what it started), sometimes an old one.
        const r = rng.chance(0.7) ? this.runs[Math.max(0, this.runs.length - 1 - rng.int(5))]! : rng.pick(this.runs);
        await h.request({ method: 'GET', path: `/jobs/${r.job}/runs/${r.runId}`, expect: [200], needsDependency: true, label: 'GET /jobs/:job/runs/:runId' });
        return;
      }
      case 'list':
        await h.request({ method: 'GET', path: `/jobs/${rng.pick(['example_flaky', 'ingest_notification_views'])}/runs?limit=10`, expect: [200], needsDependency: true, label: 'GET /jobs/:job/runs' });
        return;
      case 'jobs':
        // The list counts each job's running and queued runs in Postgres: a 503 while it is away.
        await h.request({ method: 'GET', path: '/jobs', expect: [200], needsDependency: true, label: 'GET /jobs' });
        return;
      case 'ready':
        // 503 is /readyz's own answer while a dependency is away.
        await h.request({ method: 'GET', path: '/readyz', expect: [200, 503], needsDependency: false, label: 'GET /readyz' });
        await h.request({ method: 'GET', path: '/healthz', expect: [200], needsDependency: false, label: 'GET /healthz' });
        return;
      case 'views': {
        const days = this.readDays();
        if (days.length === 0) return;
        const d = rng.pick(days);
        await h.request({
          method: 'GET',
          path: `/notifications/${encodeURIComponent(d.notification)}/views?day=${d.day}`,
          expect: [200],
          needsDependency: true,
          label: 'GET /notifications/:id/views',
        });
        return;
      }
      default: {
        const bad = rng.int(4);
        if (bad === 0) {
          await h.request({ method: 'POST', path: '/jobs/no_such_job/runs', body: {}, expect: [404], needsDependency: false, label: 'POST /jobs/<unknown>/runs' });
        } else if (bad === 1) {
          await h.request({
            method: 'POST',
            path: '/jobs/example_steps/runs',
            body: { args: { steps: 'three' } },
            expect: [400],
            needsDependency: false,
            label: 'POST /jobs/example_steps/runs (invalid args)',
          });
        } else if (bad === 2) {
          await h.request({ method: 'GET', path: `/jobs/example_flaky/runs/no-such-run-${rng.int(1e9)}`, expect: [404], needsDependency: true, label: 'GET /jobs/:job/runs/<unknown>' });
        } else {
          await h.request({ method: 'GET', path: '/jobs', expect: [401], needsDependency: false, noToken: true, label: 'GET /jobs (no token)' });
        }
      }
    }
  }
}
