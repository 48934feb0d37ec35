// The console in a real browser (Debian's chromium through playwright-core) against a real API process, a real worker
// and the local stack: what a person signed in at /console sees and does, checked where it lands (job_runs, Temporal).
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { startApi, type ApiProcess } from '../support/apiProcess';
import { AxeLog, launchBrowser } from '../support/browser';
import { freshDay } from '../support/days';
import { eventually, uniqueTag, useStackEnv } from '../support/stack';
import { bundleWorkflowsForWorkers, startWorker, TEST_MODULES, type WorkerProcess } from '../support/workerProcess';

const TOKEN = 'console-test-token';
const addDays = (day: string, n: number) => new Date(Date.parse(day) + n * 86_400_000).toISOString().slice(0, 10);
// A job of this test's own with a concurrency limit of 2 (test/support/jobs.ts), so its queue is its own.
const LIMITED = `console_limited_${uniqueTag('l').replace(/-/g, '_')}`.slice(0, 50);
useStackEnv({ ...TEST_MODULES, API_TOKEN: TOKEN, TEST_LIMITED_JOB: LIMITED, TEST_LIMIT: '2' });

import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import type { BrowserContext, Page } from 'playwright-core';
import { createS3Client } from '../../connections/s3';
import { openRuntime, type Runtime } from '../../workers/runtime';

describe('the console in a browser', { timeout: 600_000 }, () => {
  let rt: Runtime;
  let s3: S3Client;
  let api: ApiProcess;
  let worker: WorkerProcess;
  let chromium: Awaited<ReturnType<typeof launchBrowser>>;
  let context: BrowserContext;
  let page: Page;
  const axe = new AxeLog();

  /** Opens a console page in the signed-in tab and runs the accessibility rules on it. */
  async function visit(url: string, label: string): Promise<void> {
    const res = await page.goto(`${api.base}${url}`);
    assert.equal(res?.status(), 200, `${url}: ${res?.status()}`);
    await axe.check(page, label);
  }

  async function runRows(firstRunId: string) {
    return (await rt.ds.query(`SELECT run_id, first_run_id, attempt, status, args FROM job_runs WHERE first_run_id = $1 ORDER BY attempt`, [
      firstRunId,
    ])) as { run_id: string; first_run_id: string; attempt: number; status: string; args: Record<string, unknown> }[];
  }

  async function trigger(job: string, args: Record<string, unknown>): Promise<string> {
    const res = await fetch(`${api.base}/jobs/${job}/runs`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ args }),
    });
    assert.equal(res.status, 202, await res.clone().text());
    return ((await res.json()) as { runId: string }).runId;
  }

  async function finished(job: string, runId: string): Promise<{ status: string }> {
    return eventually(`${job} run ${runId} to end`, async () => {
      const res = await fetch(`${api.base}/jobs/${job}/runs/${runId}`, { headers: { authorization: `Bearer ${TOKEN}` } });
      const body = (await res.json()) as { status: string };
      return body.status !== 'running' && body;
    }, 120_000);
  }

  before(async () => {
    rt = await openRuntime();
    s3 = createS3Client(rt.env);
    await bundleWorkflowsForWorkers();
    // One at a time, so `after` stops whatever did start when a later one fails.
    worker = await startWorker();
    api = await startApi();
    chromium = await launchBrowser();
    context = chromium.context;
    page = context.pages()[0] ?? (await context.newPage());
  });

  after(async () => {
    if (axe.checked.length > 0) console.log(axe.report());
    await chromium?.close();
    await api?.stop();
    await worker?.stop();
    s3?.destroy();
    await rt?.close();
  });

  test('without a session: a page redirects to the sign-in page, anything else gets 401', async () => {
    for (const path of ['/console', '/console/jobs/example_steps', '/console/rejects/2024-01-01']) {
      const html = await fetch(`${api.base}${path}`, { headers: { accept: 'text/html' }, redirect: 'manual' });
      assert.equal(html.status, 303, path);
      assert.equal(html.headers.get('location'), `/console/sign-in?next=${encodeURIComponent(path)}`);
      const json = await fetch(`${api.base}${path}`, { headers: { accept: 'application/json' }, redirect: 'manual' });
      assert.equal(json.status, 401, path);
      assert.equal(((await json.json()) as { error: string }).error, 'unauthorized');
    }
    assert.equal((await fetch(`${api.base}/jobs`)).status, 401);
    // A forged or expired cookie is no session.
    const forged = await fetch(`${api.base}/jobs`, { headers: { cookie: `sj_session=v1.${Date.now() + 3_600_000}.AAAA` } });
    assert.equal(forged.status, 401);
  });

  test('sign-in: a wrong token is refused on the page; the API token opens the console with an httpOnly, SameSite=Strict cookie', async () => {
    await page.goto(`${api.base}/console/jobs/example_flaky`);
    assert.match(page.url(), /\/console\/sign-in\?next=/);
    await axe.check(page, 'sign-in');
    await page.getByLabel('API token').fill('not-the-token');
    await page.getByRole('button', { name: 'Sign in' }).click();
    assert.match(await page.getByRole('alert').innerText(), /not the API token/);
    assert.equal((await context.cookies()).filter((c) => c.name === 'sj_session').length, 0);

    await page.getByLabel('API token').fill(TOKEN);
    await Promise.all([page.waitForURL(`${api.base}/console/jobs/example_flaky`), page.getByRole('button', { name: 'Sign in' }).click()]);
    const session = (await context.cookies()).find((c) => c.name === 'sj_session');
    assert.ok(session, 'the session cookie is set');
    assert.equal(session.httpOnly, true);
    assert.equal(session.sameSite, 'Strict');
    assert.ok(!session.value.includes(TOKEN), 'the cookie is not the token');
    assert.equal(await page.evaluate(`document.cookie.includes('sj_session')`), false, 'no script can read it');
    // The same cookie opens the JSON routes (the API explorer's reads go through it).
    const jobs = await context.request.get(`${api.base}/jobs`);
    assert.equal(jobs.status(), 200);
  });

  test('Jobs page: every job with its definition, latest run, 30-day success and lock holders', async () => {
    const tag = uniqueTag('console');
    const runId = await trigger('test_steps', { steps: 40, stepMs: 500, tag });
    await visit('/console', 'jobs');
    const rows = await page.locator('table.data tbody tr').count();
    assert.equal(rows, rt.jobs.list().length);
    const ingest = page.getByRole('row').filter({ has: page.getByRole('rowheader', { name: /^ingest_notification_views/ }) });
    assert.match(await ingest.innerText(), /day\s+string/);
    assert.match(await ingest.innerText(), /ingest_notification_views\/<day>/);
    // The shipped ingest's declared schedule (its next tick is checked against Temporal in consoleOperations.test.ts).
    assert.match(await ingest.locator('td.schedule').innerText(), /^cron 0 11 \* \* \* \(UTC\)/);
    const steps = page.getByRole('row').filter({ has: page.getByRole('rowheader', { name: /^example_steps/ }) });
    assert.equal(await steps.locator('td.schedule').innerText(), 'none: started from outside');
    // The running run holds its lock: Temporal's visibility lists it, so the page links to it.
    await eventually('the lock holder on the Jobs page', async () => {
      await page.reload();
      return page.locator(`a[href="/console/jobs/test_steps/runs/${runId}"]`).count();
    }, 30_000, 1000);
    await visit('/console/jobs/test_steps', 'job');
    assert.match(await page.locator('main').innerText(), new RegExp(`test_steps/${tag}`));

    // Live progress: the run page refreshes its #live section in place (no navigation) while the run runs, and its
    // cancel, confirmed, stops the run in Temporal and in job_runs.
    await visit(`/console/jobs/test_steps/runs/${runId}`, 'run (running)');
    assert.equal(await page.locator('#live').getAttribute('data-live'), 'on');
    await page.evaluate('window.sameDocument = true');
    const before = await page.locator('#live').innerText();
    await eventually('the live section to change', async () => (await page.locator('#live').innerText()) !== before, 20_000, 500);
    assert.equal(await page.evaluate('window.sameDocument'), true, 'refreshed without a reload');
    await Promise.all([page.waitForURL(/\/cancel$/), page.getByRole('link', { name: 'Cancel this run…' }).click()]);
    await axe.check(page, 'confirm');
    await Promise.all([page.waitForURL(/notice=cancel/), page.getByRole('button', { name: 'Cancel the run' }).click()]);
    await eventually('the cancelled run in job_runs', async () => (await runRows(runId)).at(-1)?.status === 'cancelled', 60_000);
  });

  test('a failed run: every attempt with its error; a confirmed rerun starts a new run with the same arguments, recorded in job_runs', async () => {
    const tag = uniqueTag('console-flaky');
    const runId = await trigger('example_flaky', { failAttempts: 9, tag });
    assert.equal((await finished('example_flaky', runId)).status, 'failed');
    await visit(`/console/jobs/example_flaky/runs/${runId}`, 'run (failed)');
    const attempts = page.locator('table.data tbody tr');
    assert.equal(await attempts.count(), 3, 'retries: 2, so three attempts');
    assert.match(await attempts.first().innerText(), /simulated failure on attempt 3/);
    const temporal = await page.getByRole('link', { name: 'This workflow in the Temporal Web UI' }).getAttribute('href');
    const rows = await runRows(runId);
    assert.equal(temporal, `${rt.env.TEMPORAL_UI_URL}/namespaces/default/workflows/${encodeURIComponent(`example_flaky/${tag}`)}/${rows.at(-1)!.run_id}/history`);

    await Promise.all([page.waitForURL(/\/rerun$/), page.getByRole('link', { name: 'Rerun…' }).click()]);
    assert.match(await page.locator('form.confirm').innerText(), new RegExp(tag));
    await Promise.all([page.waitForURL(/notice=rerun/), page.getByRole('button', { name: 'Rerun' }).click()]);
    const newRunId = decodeURIComponent(/\/runs\/([^/?]+)\?notice=rerun/.exec(page.url())![1]!);
    assert.notEqual(newRunId, runId);
    assert.match(await page.getByRole('status').innerText(), /Rerun started/);
    const [first] = await runRows(newRunId);
    assert.ok(first, 'the rerun has its row in job_runs');
    assert.deepEqual(first.args, { failAttempts: 9, tag });
    assert.equal(first.first_run_id, newRunId);
  });

  test('a change sent with the session cookie but without the CSRF token gets 403 and changes nothing', async () => {
    const tag = uniqueTag('console-csrf');
    const runId = await trigger('example_flaky', { failAttempts: 0, tag });
    await finished('example_flaky', runId);
    const before = await rt.ds.query(`SELECT count(*)::int AS n FROM job_runs WHERE workflow_id = $1`, [`example_flaky/${tag}`]);
    const rerun = await context.request.post(`${api.base}/console/jobs/example_flaky/runs/${runId}/rerun`, { form: { x: '1' } });
    assert.equal(rerun.status(), 403);
    const forged = await context.request.post(`${api.base}/console/jobs/example_flaky/runs/${runId}/rerun`, { form: { _csrf: 'forged-token' } });
    assert.equal(forged.status(), 403);
    const trigger403 = await context.request.post(`${api.base}/jobs/example_flaky/runs`, { data: { args: { failAttempts: 0, tag } } });
    assert.equal(trigger403.status(), 403);
    assert.match(((await trigger403.json()) as { message: string }).message, /CSRF token/);
    const after = await rt.ds.query(`SELECT count(*)::int AS n FROM job_runs WHERE workflow_id = $1`, [`example_flaky/${tag}`]);
    assert.deepEqual(after, before);
  });

  test('Rejects of a day: counts by reason and the first lines, markup in a line shown as text and never run', async () => {
    const day = freshDay();
    const prefix = `notification-logs/day=${day}/`;
    const view = (i: number) =>
      JSON.stringify({ event_id: randomUUID(), event_time: `${day}T10:00:0${i}Z`, event_type: 'view', notification_id: 'n1', user_id: `u${i}`, platform: 'web' });
    const hostile = ['<script>window.pwned = 1</script>', '<img src=x onerror="window.pwned = 2">'];
    const lines = [view(1), hostile[0], view(2), hostile[1], '{"event_id": 1}'];
    await s3.send(new PutObjectCommand({ Bucket: rt.env.S3_BUCKET, Key: `${prefix}part-0.jsonl`, Body: lines.join('\n') + '\n' }));
    await s3.send(new PutObjectCommand({ Bucket: rt.env.S3_BUCKET, Key: `${prefix}_SUCCESS`, Body: '' }));
    const runId = await trigger('ingest_notification_views', { day });
    assert.equal((await finished('ingest_notification_views', runId)).status, 'succeeded');
    const stored = (await rt.ds.query(`SELECT reason, count(*)::int AS n FROM ingest_rejects WHERE day = $1 GROUP BY reason ORDER BY reason`, [day])) as {
      reason: string;
      n: number;
    }[];

    await visit(`/console/jobs/ingest_notification_views/runs/${runId}`, 'run (ingest)');
    assert.match(await page.locator('dl.metrics').innerText(), /rowsWritten\s+2/);
    await Promise.all([page.waitForURL(`${api.base}/console/rejects/${day}`), page.getByRole('link', { name: `Rejected lines of ${day}` }).click()]);
    await axe.check(page, 'rejects');
    const shown = await page.locator('table.data tbody tr').evaluateAll((trs) =>
      trs.map((tr) => ({ reason: tr.querySelector('th')!.textContent!.trim(), n: Number(tr.querySelector('td')!.textContent!.replace(/,/g, '')) })),
    );
    assert.deepEqual(shown.sort((a, b) => a.reason.localeCompare(b.reason)), stored);
    const samples = await page.locator('pre.raw').allTextContents();
    for (const h of hostile) assert.ok(samples.includes(h), `${h} shown as text`);
    assert.equal(await page.locator('main script, main img').count(), 0, 'no element made from a line');
    assert.equal(await page.evaluate('window.pwned'), undefined, 'no line ran');
  });

  test('Days: a failing run turns its day red, a click opens the run, and one confirmed action reruns every failed day (new rows in job_runs)', async () => {
    const day = freshDay();
    const [from, to] = [addDays(day, -3), addDays(day, 3)];
    const runId = await trigger('test_day_flaky', { day, failAttempts: 1, tag: 'console' });
    assert.equal((await finished('test_day_flaky', runId)).status, 'failed');
    await visit(`/console/jobs/test_day_flaky/days?from=${from}&to=${to}`, 'days');
    const cell = page.locator(`.cell[data-day="${day}"]`);
    assert.equal(await cell.getAttribute('data-status'), 'failed');
    assert.equal(await cell.evaluate((el) => (globalThis as unknown as { getComputedStyle(e: unknown): { backgroundColor: string } }).getComputedStyle(el).backgroundColor), 'rgb(251, 213, 213)', 'red');
    assert.equal(await page.locator(`.cell[data-day="${addDays(day, 1)}"]`).getAttribute('data-status'), 'missing');
    await Promise.all([page.waitForURL(/\/runs\//), cell.click()]);
    assert.ok(page.url().endsWith(`/console/jobs/test_day_flaky/runs/${runId}`));

    // The status filter leaves only failed days as links.
    await page.goto(`${api.base}/console/jobs/test_day_flaky/days?from=${from}&to=${to}&status=failed`);
    assert.deepEqual(await page.locator('a.cell').evaluateAll((as) => as.map((a) => a.getAttribute('data-day'))), [day]);

    await Promise.all([page.waitForURL(/rerun-failed/), page.getByRole('link', { name: /Rerun the 1 failed day/ }).click()]);
    assert.match(await page.locator('form.confirm').innerText(), new RegExp(day));
    await Promise.all([page.waitForURL(/rerun=1/), page.getByRole('button', { name: 'Rerun 1 days' }).click()]);
    const rows = (await rt.ds.query(`SELECT first_run_id FROM job_runs WHERE workflow_id = $1 AND attempt = 1 ORDER BY id`, [`test_day_flaky/${day}`])) as {
      first_run_id: string;
    }[];
    assert.equal(rows.length, 2, 'the rerun added a run of the day');
    assert.notEqual(rows[1]!.first_run_id, runId);
  });

  test('Days: a year of runs renders as one grid; its server time is measured (Server-Timing) and a screenshot kept', async () => {
    // A year no other run used, and not a leap year: 365 days, so the grid's count below is exact.
    const year = 2101 + 4 * Math.floor(Math.random() * 1750) + Math.floor(Math.random() * 3);
    // 365 days with one to three attempts each and a few days left out, as a year of a daily job looks.
    await rt.ds.query(
      `INSERT INTO job_runs (job_name, workflow_id, run_id, first_run_id, attempt, status, args, partition_key, started_at, finished_at, metrics)
       SELECT 'test_day_steps', 'test_day_steps/' || d, $2 || d || '-' || a, $2 || d || '-1', a,
              CASE WHEN a < n THEN 'failed' WHEN i % 29 = 0 THEN 'failed' WHEN i % 47 = 0 THEN 'timed_out' WHEN i % 61 = 0 THEN 'cancelled' ELSE 'succeeded' END,
              jsonb_build_object('day', d, 'steps', 1, 'stepMs', 0), d, d::date + time '11:00' + a * interval '5 min', d::date + time '11:04' + a * interval '5 min',
              jsonb_build_object('durationMs', 240000)
         FROM generate_series(0, 364) AS i,
              LATERAL (SELECT to_char(make_date($1, 1, 1) + i, 'YYYY-MM-DD') AS d, 1 + (i % 17 = 3)::int + (i % 31 = 5)::int AS n) g,
              LATERAL generate_series(1, n) AS a
        WHERE i % 53 <> 7`,
      [year, `${uniqueTag('console-year')}-`],
    );
    const url = `${api.base}/console/jobs/test_day_steps/days?from=${year}-01-01&to=${year}-12-31`;
    const cookie = (await context.cookies()).map((c) => `${c.name}=${c.value}`).join('; ');
    const server: number[] = [];
    const total: number[] = [];
    for (let i = 0; i < 7; i++) {
      const t0 = performance.now();
      const res = await fetch(url, { headers: { cookie, accept: 'text/html' } });
      await res.text();
      total.push(performance.now() - t0);
      assert.equal(res.status, 200);
      server.push(Number(/dur=([\d.]+)/.exec(res.headers.get('server-timing') ?? '')![1]));
    }
    const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
    console.log(`days grid, 365 days of test_day_steps: server time median ${median(server).toFixed(1)} ms (max ${Math.max(...server).toFixed(1)}), request median ${median(total).toFixed(1)} ms over 7 requests`);
    await visit(`/console/jobs/test_day_steps/days?from=${year}-01-01&to=${year}-12-31`, 'days (a year)');
    const cells = await page.locator('.cell').evaluateAll((els) => els.map((e) => e.getAttribute('data-status')));
    assert.equal(cells.length, 365);
    assert.equal(cells.filter((s) => s === 'missing').length, 365 - 358);
    await page.locator('table.grid').screenshot({ path: process.env['CONSOLE_SCREENSHOT'] ?? path.join(tmpdir(), 'console-days.png') });
  });

  test('a limited job: its limit with the runs running and queued on the Jobs and job pages; a queued run shows its place and can be cancelled', async () => {
    const first = freshDay();
    const days = [0, 1, 2].map((i) => new Date(Date.parse(`${first}T00:00:00Z`) + i * 86_400_000).toISOString().slice(0, 10));
    const runIds = [];
    for (const day of days) runIds.push(await trigger(LIMITED, { day, steps: 60, stepMs: 500 }));
    await eventually('two running, one queued', async () => {
      const [row] = (await rt.ds.query(`SELECT count(*) FILTER (WHERE status = 'running')::int AS running, count(*) FILTER (WHERE status = 'queued')::int AS queued FROM job_runs WHERE job_name = $1`, [LIMITED])) as { running: number; queued: number }[];
      return row!.running === 2 && row!.queued === 1;
    }, 60_000, 200);
    await visit('/console', 'jobs (limited job)');
    const row = page.getByRole('row').filter({ has: page.getByRole('link', { name: LIMITED, exact: true }) });
    assert.match(await row.innerText(), /2 at once: 2 running, 1 queued/);
    await visit(`/console/jobs/${LIMITED}`, 'job (limited)');
    assert.match(await page.locator('main').innerText(), /Concurrency limit\s+2 at once: 2 running, 1 queued/);
    await visit(`/console/jobs/${LIMITED}/runs/${runIds[2]}`, 'run (queued)');
    assert.match(await page.locator('#live').innerText(), /queued\s+place 1 in the queue for a permit/);
    for (const runId of runIds) {
      await page.goto(`${api.base}/console/jobs/${LIMITED}/runs/${runId}`);
      await Promise.all([page.waitForURL(/\/cancel$/), page.getByRole('link', { name: 'Cancel this run…' }).click()]);
      await Promise.all([page.waitForURL(/notice=cancel/), page.getByRole('button', { name: 'Cancel the run' }).click()]);
    }
    await eventually('every run cancelled in job_runs', async () => {
      const rows = (await rt.ds.query(`SELECT status FROM job_runs WHERE job_name = $1`, [LIMITED])) as { status: string }[];
      return rows.length === 3 && rows.every((r) => r.status === 'cancelled');
    }, 60_000);
  });

  test('read-only mode: no action on any page, and an action request is refused', async () => {
    const readOnly = await startApi({ CONSOLE_READ_ONLY: 'true' });
    try {
      // Cookies do not tell ports apart: this API's sign-in replaces the session cookie, and the one after restores it.
      await context.clearCookies();
      const p = await context.newPage();
      await p.goto(`${readOnly.base}/console/sign-in`);
      await p.getByLabel('API token').fill(TOKEN);
      await Promise.all([p.waitForURL(`${readOnly.base}/console`), p.getByRole('button', { name: 'Sign in' }).click()]);
      assert.match(await p.getByRole('status').first().innerText(), /Read-only console/);
      const tag = uniqueTag('console-ro');
      const runId = await trigger('example_flaky', { failAttempts: 0, tag });
      await finished('example_flaky', runId);
      await p.goto(`${readOnly.base}/console/jobs/example_flaky/runs/${runId}`);
      assert.equal(await p.locator('.actions').count(), 0);
      assert.equal(await p.getByRole('link', { name: /Rerun|Cancel/ }).count(), 0);
      const csrf = await p.locator('input[name=_csrf]').first().inputValue();
      const res = await context.request.post(`${readOnly.base}/console/jobs/example_flaky/runs/${runId}/rerun`, { form: { _csrf: csrf } });
      assert.equal(res.status(), 403);
      assert.equal((await rt.ds.query(`SELECT count(*)::int AS n FROM job_runs WHERE workflow_id = $1`, [`example_flaky/${tag}`]))[0].n, 1);
      // Schedules: no pause, resume or tick, and a pause sent anyway is refused before it reaches Temporal.
      await p.goto(`${readOnly.base}/console/schedules`);
      assert.equal(await p.getByRole('link', { name: /Pause|Resume|Tick now/ }).count(), 0);
      const before = (await rt.temporal.schedule.getHandle('schedule/ingest_notification_views').describe()).state.paused;
      const pause = await context.request.post(`${readOnly.base}/console/schedules/ingest_notification_views/pause`, { form: { _csrf: csrf } });
      assert.equal(pause.status(), 403);
      assert.equal((await rt.temporal.schedule.getHandle('schedule/ingest_notification_views').describe()).state.paused, before);
      await p.close();
    } finally {
      await readOnly.stop();
    }
  });

  test('accessibility: axe-core finds no WCAG 2.1 A/AA or best-practice violation on the pages visited', () => {
    assert.ok(axe.checked.length >= 9, `pages checked: ${axe.checked.join(', ')}`);
    assert.deepEqual(axe.violations(), []);
  });
});
