import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import type { S3Client } from '@aws-sdk/client-s3';
import { generateDay, type ExpectedOutcome } from '../../scripts/generate-day';
import { Rng } from '../../scripts/rng';
import { uploadGeneratedFiles } from '../../scripts/upload-day';
import { REPO } from '../support/stack';
import type { HttpLedger } from './http';

/**
 * The batch half of the load, as Airflow and an operator drive it through the HTTP API: a new day every ~30 s,
 * generated (scripts/generate-day.ts writes what one clean run must leave, expected-<day>.json) and uploaded with its
 * _SUCCESS marker last, then triggered. Some days are triggered twice at once (exactly one run: one 202, one 409
 * naming that run), some are triggered again after they succeeded (a re-run writes nothing twice), and a few days are
 * left to one `scheduled-job backfill` of the CLI. A run that ends failed is triggered again, as an operator would,
 * and counted.
 */
export const INGEST_JOB = 'ingest_notification_views';

export type DayKind = 'single' | 'double' | 'rerun' | 'backfill';

export interface DayRecord {
  day: string;
  kind: DayKind;
  expected: ExpectedOutcome;
  /** Every run the load started or was pointed at for this day, in order. */
  runIds: string[];
  status: 'uploading' | 'triggering' | 'running' | 'rerunning' | 'succeeded';
  /** Chains that ended failed (or timed out, or cancelled) and were triggered again, with the error. */
  failedRuns: string[];
  /** What the double trigger answered, and whether it was one run. */
  double?: string;
  uploadedAt?: number;
  succeededAt?: number;
}

export interface DayLoadOptions {
  http: HttpLedger;
  s3: S3Client;
  bucket: string;
  dataDir: string;
  days: string[];
  seed: number;
  size: { objects: number; linesPerObject: number };
  everyMs: number;
  /** When the backfill starts, from the start of the load. */
  backfillAtMs: number;
  backfillDays: number;
  env: Record<string, string>;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export class DayLoad {
  readonly records: DayRecord[] = [];
  backfill: { days: string[]; startedAt?: number; exit?: number | null; output: string; endedAt?: number; attempts: number } | undefined;
  private running = false;
  private readonly rng: Rng;
  private next = 0;
  private readonly tasks: Promise<void>[] = [];

  constructor(private readonly o: DayLoadOptions) {
    this.rng = new Rng(o.seed ^ 0x5eed);
    mkdirSync(o.dataDir, { recursive: true });
  }

  private takeDay(): string {
    const d = this.o.days[this.next++];
    if (!d) throw new Error('the soak ran out of reserved days');
    return d;
  }

  start(loadStart: number): void {
    this.running = true;
    this.tasks.push(this.newDays());
    this.tasks.push(
      (async () => {
        await sleep(Math.max(0, loadStart + this.o.backfillAtMs - Date.now()));
        if (this.running) await this.runBackfill();
      })(),
    );
  }

  /** No new day after this; what is under way goes on (see settle). */
  stopNewDays(): void {
    this.running = false;
  }

  /** Resolves when every day's load is done: succeeded (re-run included), backfill ended. */
  async settle(): Promise<void> {
    // The loop that makes days may add one more while it stops.
    for (let seen = -1; seen !== this.tasks.length; ) {
      seen = this.tasks.length;
      await Promise.all(this.tasks);
    }
  }

  private async newDays(): Promise<void> {
    while (this.running) {
      const t0 = Date.now();
      const r = this.rng.next();
      const kind: DayKind = r < 0.25 ? 'double' : r < 0.45 ? 'rerun' : 'single';
      const rec = await this.prepare(this.takeDay(), kind);
      this.tasks.push(this.drive(rec));
      const gap = this.o.everyMs * (0.8 + 0.4 * this.rng.next());
      while (this.running && Date.now() - t0 < gap) await sleep(250);
    }
  }

  /** Generates and uploads a day; an S3 outage only delays the upload (an upstream retries its puts). */
  private async prepare(day: string, kind: DayKind): Promise<DayRecord> {
    const out = path.join(this.o.dataDir, day);
    const g = await generateDay({ day, ...this.o.size, gzipFraction: 0.25, seed: this.o.seed, out });
    const expected = JSON.parse(readFileSync(g.expectedPath!, 'utf8')) as ExpectedOutcome;
    const rec: DayRecord = { day, kind, expected, runIds: [], status: 'uploading', failedRuns: [] };
    this.records.push(rec);
    // In memory, so a put that fails mid-body can be sent again (the SDK cannot retry a stream).
    const files = g.files.map((f) => (f.path ? { ...f, body: readFileSync(f.path), path: undefined } : f));
    for (const f of g.files) if (f.path) rmSync(f.path, { force: true });
    for (;;) {
      try {
        await uploadGeneratedFiles(this.o.s3, this.o.bucket, files, 4);
        break;
      } catch {
        await sleep(1_000);
      }
    }
    rec.uploadedAt = Date.now();
    return rec;
  }

  /** POST a trigger until it is answered 202 or 409 (a 503 or a down API is asked again): the run it names. */
  private async trigger(day: string): Promise<{ status: number; runId: string }> {
    for (;;) {
      const a = await this.o.http.request<{ runId: string }>({
        method: 'POST',
        path: `/jobs/${INGEST_JOB}/runs`,
        body: { args: { day } },
        expect: [202, 409],
        needsDependency: true,
        label: `POST /jobs/${INGEST_JOB}/runs`,
      });
      if ((a.status === 202 || a.status === 409) && a.body?.runId) return { status: a.status, runId: a.body.runId };
      await sleep(2_000);
    }
  }

  /** The run's status as an HttpSensor sees it, until it is terminal. */
  private async waitRun(runId: string): Promise<{ status: string; error: string | null }> {
    for (;;) {
      const a = await this.o.http.request<{ status: string; error: string | null }>({
        method: 'GET',
        path: `/jobs/${INGEST_JOB}/runs/${runId}`,
        expect: [200],
        needsDependency: true,
        label: `GET /jobs/${INGEST_JOB}/runs/:runId`,
      });
      if (a.status === 200 && a.body && a.body.status !== 'running') return { status: a.body.status, error: a.body.error };
      await sleep(2_000);
    }
  }

  /** Until the day has a succeeded run (and, for a re-run day, a second succeeded one). */
  private async untilSucceeded(rec: DayRecord, first: string): Promise<void> {
    let runId = first;
    for (;;) {
      const end = await this.waitRun(runId);
      if (end.status === 'succeeded') return;
      rec.failedRuns.push(`${runId}: ${end.status} ${end.error ?? ''}`.trim());
      if (rec.failedRuns.length > 5) return; // the checker reports the day as not succeeded
      runId = (await this.trigger(rec.day)).runId;
      rec.runIds.push(runId);
    }
  }

  private async drive(rec: DayRecord): Promise<void> {
    rec.status = 'triggering';
    let runId: string;
    if (rec.kind === 'double') {
      const [a, b] = await Promise.all([this.trigger(rec.day), this.trigger(rec.day)]);
      const codes = [a.status, b.status].sort().join('+');
      rec.double = `${codes}, ${a.runId === b.runId ? 'one run' : `two runs ${a.runId} ${b.runId}`}`;
      runId = a.runId;
      rec.runIds.push(a.runId);
      if (b.runId !== a.runId) rec.runIds.push(b.runId);
    } else {
      runId = (await this.trigger(rec.day)).runId;
      rec.runIds.push(runId);
    }
    rec.status = 'running';
    await this.untilSucceeded(rec, runId);
    if (rec.kind === 'rerun') {
      rec.status = 'rerunning';
      const again = await this.trigger(rec.day);
      rec.runIds.push(again.runId);
      await this.untilSucceeded(rec, again.runId);
    }
    rec.status = 'succeeded';
    rec.succeededAt = Date.now();
  }

  /**
   * A few days uploaded together, then `scheduled-job backfill` over them as a user runs it. Run again if it exits
   * non-zero (the README's way to continue), each exit recorded: the checker wants exit 0 the first time.
   */
  private async runBackfill(): Promise<void> {
    // Consecutive days: taken before any await, so the loop that makes single days cannot take one in between.
    const names = Array.from({ length: this.o.backfillDays }, () => this.takeDay());
    const days: DayRecord[] = [];
    for (const day of names) days.push(await this.prepare(day, 'backfill'));
    this.backfill = { days: days.map((d) => d.day), startedAt: Date.now(), output: '', attempts: 0 };
    for (const d of days) d.status = 'running';
    for (;;) {
      this.backfill.attempts++;
      const { code, out } = await cli(this.o.env, ['backfill', INGEST_JOB, '--from', days[0]!.day, '--to', days.at(-1)!.day, '--concurrency', '2']);
      this.backfill.output += out.slice(-4_000);
      this.backfill.exit ??= code;
      if (code === 0 || this.backfill.attempts >= 5) break;
      await sleep(5_000);
    }
    this.backfill.endedAt = Date.now();
    for (const d of days) {
      d.status = 'succeeded';
      d.succeededAt = Date.now();
    }
  }
}

/** `scheduled-job <args>` as a user runs it, with the stack's variables; its exit code and output. */
export function cli(env: Record<string, string>, args: string[]): Promise<{ code: number | null; out: string }> {
  const child = spawn(path.join(REPO, 'bin', 'scheduled-job'), args, { cwd: REPO, env: { ...env, LOG_LEVEL: 'warn' }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  const collect = (d: Buffer) => (out = (out + d.toString()).slice(-20_000));
  child.stdout!.on('data', collect);
  child.stderr!.on('data', collect);
  return new Promise((resolve) => child.once('exit', (code) => resolve({ code, out })));
}
