// The console's operations pages in a real browser (Debian's chromium through playwright-core) against a real API
// process, a real worker and the local stack: schedules (ticks, skips, pause/resume checked in Temporal) and backfills
// (progress per day, a confirmed cancel checked in Temporal and job_runs).
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startApi, type ApiProcess } from '../support/apiProcess';
import { AxeLog, launchBrowser } from '../support/browser';
import { freshDay } from '../support/days';
import { eventually, uniqueTag, useStackEnv } from '../support/stack';
import { bundleWorkflowsForWorkers, startWorker, TEST_MODULES, type WorkerProcess } from '../support/workerProcess';

const TOKEN = 'console-ops-token';
// A schedule of this file's own (declared only by its workers, see test/support/jobs.ts) that never fires by itself
// here: every tick is a "Tick now". A tick's run takes a minute (300 steps of 200 ms), so the next tick meets its lock.
const TICK_JOB = `console_${uniqueTag('t').replace(/-/g, '_')}`.slice(0, 60);
useStackEnv({ ...TEST_MODULES, API_TOKEN: TOKEN, TEST_TICK_JOB: TICK_JOB, TEST_TICK_EVERY: '1h', TEST_TICK_STEPS: '300', TEST_TICK_STEP_MS: '200' });

import type { BrowserContext, Page } from 'playwright-core';
import { apiClient, type ApiClient } from '../../client/apiClient';
import { getSchedule } from '../../client/schedules';
import { fmt } from '../../workers/http/console/format';
import { openRuntime, type Runtime } from '../../workers/runtime';
import { scheduleIdOf } from '../../workflows/tickTypes';

const addDays = (day: string, n: number) => new Date(Date.parse(day) + n * 86_400_000).toISOString().slice(0, 10);

describe('the console: schedules and backfills in a browser', { timeout: 600_000 }, () => {
  let rt: Runtime;
  let api: ApiProcess;
  let http: ApiClient;
  let worker: WorkerProcess;
  let chromium: Awaited<ReturnType<typeof launchBrowser>>;
  let context: BrowserContext;
  let page: Page;
  const axe = new AxeLog();
  /** Workflows a failed test could leave running (a backfill, the runs it started), ended in `after`. */
  const leftovers = new Set<string>();
  const deps = () => ({ temporal: rt.temporal, db: rt.ds, jobs: rt.jobs });

  async function visit(url: string, label: string): Promise<void> {
    const res = await page.goto(`${api.base}${url}`);
    assert.equal(res?.status(), 200, `${url}: ${res?.status()}`);
    await axe.check(page, label);
  }

  /** Follows a link to its confirmation page, checks that page, then confirms with its button. */
  async function confirm(link: RegExp | string, button: string, label: string, landing: RegExp): Promise<void> {
    await Promise.all([page.waitForURL(/\/(pause|resume|trigger|cancel)$/), page.getByRole('link', { name: link }).click()]);
    await axe.check(page, label);
    await Promise.all([page.waitForURL(landing), page.getByRole('button', { name: button }).click()]);
  }

  const paused = async () => {
    const { state } = await rt.temporal.schedule.getHandle(scheduleIdOf(TICK_JOB)).describe();
    return { paused: state.paused, note: state.note };
  };
  /** The next tick as Temporal gives it around `read` (an hour boundary may pass in between: either side is right). */
  async function nextTickAround(read: () => Promise<string>): Promise<{ shown: string; expected: string[] }> {
    const before = (await getSchedule(deps(), TICK_JOB)).nextFireTimes[0]!;
    const shown = await read();
    const after = (await getSchedule(deps(), TICK_JOB)).nextFireTimes[0]!;
    return { shown, expected: [fmt.time(before), fmt.time(after)] };
  }
  /** The outcome of the tick this page asked for, once the page (refreshing itself) shows it. */
  const askedTick = (what: string) =>
    eventually(what, async () => {
      // The page swaps its ticks in place and reloads once the tick is there: a read during the reload tries again.
      const tick = page.locator('tr.asked');
      return (await tick.count().catch(() => 0)) === 1 && (await tick.getAttribute('data-outcome').catch(() => null));
    }, 60_000, 500);

  before(async () => {
    rt = await openRuntime();
    await bundleWorkflowsForWorkers();
    worker = await startWorker();
    api = await startApi();
    http = apiClient(api.base, TOKEN);
    chromium = await launchBrowser();
    context = chromium.context;
    page = context.pages()[0] ?? (await context.newPage());
    await page.goto(`${api.base}/console/sign-in`);
    await page.getByLabel('API token').fill(TOKEN);
    await Promise.all([page.waitForURL(`${api.base}/console`), page.getByRole('button', { name: 'Sign in' }).click()]);
  });

  after(async () => {
    if (axe.checked.length > 0) console.log(axe.report());
    await rt?.temporal.schedule.getHandle(scheduleIdOf(TICK_JOB)).delete().catch(() => undefined);
    // The tick's run would hold a worker slot for a minute more: end it, and whatever a failed test left running.
    for (const r of (await rt?.ds.query(`SELECT DISTINCT workflow_id FROM job_runs WHERE job_name = $1 AND status = 'running'`, [TICK_JOB])) ?? []) {
      leftovers.add((r as { workflow_id: string }).workflow_id);
    }
    for (const id of leftovers) await rt.temporal.workflow.getHandle(id).terminate('test over').catch(() => undefined);
    await chromium?.close();
    await api?.stop();
    await worker?.stop();
    await rt?.close();
  });

  test('Jobs and Schedules pages: each schedule with its spec and next tick; a tick started from the console runs its day, and the next one, meeting that run, is shown skipped with the reason and the holder', async () => {
    await eventually('the worker to create the schedule', async () => (await getSchedule(deps(), TICK_JOB)).exists, 60_000, 500);

    const onJobs = await nextTickAround(async () => {
      await visit('/console', 'jobs (with schedules)');
      const jobRow = page.getByRole('row').filter({ has: page.getByRole('rowheader', { name: new RegExp(`^${TICK_JOB}`) }) });
      assert.match(await jobRow.locator('td.schedule code').innerText(), /^every 1h$/);
      return (await jobRow.locator('td.schedule .next-tick').innerText()).replace(/^next tick /, '');
    });
    assert.ok(onJobs.expected.includes(onJobs.shown), `Jobs page: next tick ${onJobs.shown}, Temporal: ${onJobs.expected.join(' or ')}`);

    const row = page.locator(`tr[data-job="${TICK_JOB}"]`);
    const onSchedules = await nextTickAround(async () => {
      await visit('/console/schedules', 'schedules');
      return row.locator('td.next-tick').innerText();
    });
    assert.ok(onSchedules.expected.includes(onSchedules.shown), `Schedules page: next tick ${onSchedules.shown}, Temporal: ${onSchedules.expected.join(' or ')}`);
    assert.equal(await row.locator('td.state').innerText(), 'active');
    assert.match(await row.locator('td.last-tick').innerText(), /no tick yet/);

    // The first tick: started, running today's day under the job's lock.
    await confirm(new RegExp(`^Tick now for ${TICK_JOB}`), 'Tick now', 'confirm (tick)', /triggered=/);
    assert.equal(await askedTick('the first tick on its page'), 'started');
    await axe.check(page, 'schedule');
    const [tickRow] = (await rt.ds.query(`SELECT run_id, workflow_id, partition_key FROM schedule_ticks WHERE job_name = $1 AND outcome = 'started'`, [TICK_JOB])) as {
      run_id: string;
      workflow_id: string;
      partition_key: string;
    }[];
    assert.ok(tickRow, 'the tick is recorded');
    assert.equal(tickRow.workflow_id, `${TICK_JOB}/${tickRow.partition_key}`);
    assert.equal(await page.locator('tr.asked').getByRole('link', { name: 'its run' }).getAttribute('href'), `/console/jobs/${TICK_JOB}/runs/${tickRow.run_id}`);
    const [run] = (await rt.ds.query(`SELECT status FROM job_runs WHERE first_run_id = $1`, [tickRow.run_id])) as { status: string }[];
    assert.equal(run?.status, 'running');

    // The second tick meets that run (a minute long) on the lock: skipped, naming it.
    await new Promise((r) => setTimeout(r, 1100)); // ticks are named by their time to the second
    await confirm('Tick now…', 'Tick now', 'confirm (tick again)', /triggered=/);
    assert.equal(await askedTick('the second tick on its page'), 'skipped');
    const skipped = page.locator('tr.asked');
    assert.match(await skipped.innerText(), new RegExp(tickRow.run_id));
    assert.equal(await skipped.getByRole('link', { name: 'the run holding the lock' }).getAttribute('href'), `/console/jobs/${TICK_JOB}/runs/${tickRow.run_id}`);

    // The Schedules page shows that last tick with its outcome and reason.
    await visit('/console/schedules', 'schedules (after ticks)');
    const last = page.locator(`tr[data-job="${TICK_JOB}"] td.last-tick`);
    assert.match(await last.innerText(), /skipped/);
    assert.match(await last.innerText(), new RegExp(tickRow.run_id));
  });

  test('pause and resume from the console, each confirmed, change the schedule in Temporal; without the CSRF token a pause gets 403 and changes nothing', async () => {
    assert.equal((await paused()).paused, false);
    const noToken = await context.request.post(`${api.base}/console/schedules/${TICK_JOB}/pause`, { form: { x: '1' } });
    assert.equal(noToken.status(), 403);
    const forged = await context.request.post(`${api.base}/console/schedules/${TICK_JOB}/pause`, { form: { _csrf: 'forged-token' } });
    assert.equal(forged.status(), 403);
    assert.equal((await paused()).paused, false, 'nothing paused it');

    await visit(`/console/schedules/${TICK_JOB}`, 'schedule (active)');
    await confirm('Pause the schedule…', 'Pause the schedule', 'confirm (pause)', /notice=pause/);
    assert.deepEqual(await paused(), { paused: true, note: 'paused from the console' });
    assert.match(await page.getByRole('status').first().innerText(), /Schedule paused/);
    assert.match(await page.locator('dd.state').innerText(), /^paused/);

    await visit('/console/schedules', 'schedules (paused)');
    assert.equal(await page.locator(`tr[data-job="${TICK_JOB}"] td.state span`).first().innerText(), 'paused');
    await confirm(new RegExp(`^Resume the schedule of ${TICK_JOB}`), 'Resume the schedule', 'confirm (resume)', /notice=resume/);
    assert.deepEqual(await paused(), { paused: false, note: 'resumed from the console' });
    assert.match(await page.locator('dd.state').innerText(), /^active/);
  });

  test('a finished backfill: its progress, outcomes and each day of its range (failed days red, with their errors)', async () => {
    const from = freshDay();
    const to = addDays(from, 3);
    const tag = uniqueTag('console-bf');
    // Day 2 already succeeded, so the backfill skips it; the others fail (failAttempts 1, no retries).
    const done = await http.POST('/jobs/{job}/runs', { params: { path: { job: 'test_day_flaky' } }, body: { args: { day: addDays(from, 1), failAttempts: 0, tag } } });
    assert.equal(done.response.status, 202);
    await eventually('the day run to succeed', async () => {
      const r = await http.GET('/jobs/{job}/runs/{runId}', { params: { path: { job: 'test_day_flaky', runId: done.data!.runId } } });
      return r.data?.status === 'succeeded';
    }, 60_000, 300);
    const started = await http.POST('/jobs/{job}/backfills', {
      params: { path: { job: 'test_day_flaky' } },
      body: { from, to, concurrency: 2, retries: 0, args: { failAttempts: 1, tag } },
    });
    assert.equal(started.response.status, 202);
    const id = started.data!.id;
    await eventually('the backfill to end', async () => {
      const r = await http.GET('/jobs/{job}/backfills/{id}', { params: { path: { job: 'test_day_flaky', id } } });
      return r.data?.status === 'completed';
    }, 120_000, 500);

    await eventually('the backfill listed', async () => {
      await page.goto(`${api.base}/console/schedules?job=test_day_flaky`);
      return page.locator(`tr[data-backfill="backfill/test_day_flaky/${from}/${to}"]`).count();
    }, 30_000, 500);
    await axe.check(page, 'schedules (backfills of a job)');
    const listed = page.locator(`tr[data-backfill="backfill/test_day_flaky/${from}/${to}"]`);
    assert.match(await listed.innerText(), /completed/);
    assert.match(await listed.innerText(), /4 \/ 4/);
    assert.match(await listed.innerText(), /skipped 1/);
    assert.match(await listed.innerText(), /failed 3/);

    await Promise.all([page.waitForURL(/\/backfills\//), listed.getByRole('link').click()]);
    await axe.check(page, 'backfill (finished)');
    assert.equal(await page.locator('#live').getAttribute('data-live'), 'off');
    const cells = await page.locator('.cell[data-day]').evaluateAll((els) => els.map((e) => [e.getAttribute('data-day'), e.getAttribute('data-status')]));
    assert.deepEqual(cells, [
      [from, 'failed'],
      [addDays(from, 1), 'succeeded'],
      [addDays(from, 2), 'failed'],
      [addDays(from, 3), 'failed'],
    ]);
    const failed = await page.locator('table.data tbody tr').evaluateAll((trs) => trs.map((tr) => tr.textContent!.replace(/\s+/g, ' ').trim()));
    assert.deepEqual(failed.map((t) => t.slice(0, 10)), [from, addDays(from, 2), addDays(from, 3)]);
    for (const t of failed) assert.match(t, /failed SimulatedFailure: simulated failure on attempt 1 of 2$/);
    assert.equal(await page.getByRole('link', { name: 'Cancel the backfill…' }).count(), 0, 'no cancel once it ended');
  });

  test('a running backfill: days in flight shown, and a confirmed cancel stops it (cancelled in Temporal, its runs cancelled in job_runs)', async () => {
    const from = freshDay();
    const to = addDays(from, 5);
    // Each day runs for a minute, so the cancel finds the first two in flight.
    const started = await http.POST('/jobs/{job}/backfills', {
      params: { path: { job: 'test_day_steps' } },
      body: { from, to, concurrency: 2, args: { steps: 300, stepMs: 200 } },
    });
    assert.equal(started.response.status, 202);
    for (const d of [`backfill/test_day_steps/${from}/${to}`, `test_day_steps/${from}`, `test_day_steps/${addDays(from, 1)}`, `test_day_steps/${addDays(from, 2)}`]) leftovers.add(d);
    const id = started.data!.id;
    const url = `/console/jobs/test_day_steps/backfills/${encodeURIComponent(id)}`;
    await eventually('two days in flight on the page', async () => {
      await page.goto(`${api.base}${url}`);
      return (await page.locator('ul.in-flight li').count()) === 2;
    }, 60_000, 500);
    await axe.check(page, 'backfill (running)');
    assert.equal(await page.locator('#live').getAttribute('data-live'), 'on');
    const inFlight = await page.locator('ul.in-flight li').allInnerTexts();
    assert.deepEqual(inFlight.map((t) => t.slice(0, 10)), [from, addDays(from, 1)]);
    assert.equal(await page.locator(`.cell[data-day="${from}"]`).getAttribute('data-status'), 'running');
    assert.equal(await page.locator(`.cell[data-day="${addDays(from, 5)}"]`).getAttribute('data-status'), 'missing');

    await confirm('Cancel the backfill…', 'Cancel the backfill', 'confirm (cancel backfill)', /notice=cancel/);
    await eventually('the backfill cancelled in Temporal', async () => {
      const d = await rt.temporal.workflow.getHandle(`backfill/test_day_steps/${from}/${to}`).describe();
      return d.status.name === 'CANCELLED';
    }, 60_000, 500);
    const runs = await eventually('every run of the range ended', async () => {
      const rows = (await rt.ds.query(
        `SELECT DISTINCT ON (partition_key) partition_key, status FROM job_runs WHERE job_name = 'test_day_steps' AND partition_key BETWEEN $1 AND $2 ORDER BY partition_key, id DESC`,
        [from, to],
      )) as { partition_key: string; status: string }[];
      return rows.length > 0 && rows.every((r) => r.status !== 'running') && rows;
    }, 60_000, 500);
    assert.deepEqual(runs, [
      { partition_key: from, status: 'cancelled' },
      { partition_key: addDays(from, 1), status: 'cancelled' },
    ]);
    await page.goto(`${api.base}${url}`);
    assert.match(await page.locator('#live dl.facts').innerText(), /cancelled/);
    assert.equal(await page.locator(`.cell[data-day="${from}"]`).getAttribute('data-status'), 'cancelled');
  });

  test('accessibility: axe-core finds no WCAG 2.1 A/AA or best-practice violation on the pages visited', () => {
    assert.ok(axe.checked.length >= 12, `pages checked: ${axe.checked.join(', ')}`);
    assert.deepEqual(axe.violations(), []);
  });
});
