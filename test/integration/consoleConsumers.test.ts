// The console's Consumers pages in a real browser (Debian's chromium through playwright-core) against a real API
// process, a real worker hosting a consumer of this file's own topic, and the local stack (Kafka, Postgres, Temporal):
// the figures shown are the ones the client the CLI calls computes and Postgres holds; a confirmed pause and resume land
// in kafka_consumer_controls and in the consumer's state; a dead letter with markup in its bytes shows as text.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startApi, type ApiProcess } from '../support/apiProcess';
import { AxeLog, launchBrowser } from '../support/browser';
import type { TestConsumerSpec } from '../support/consumers';
import { eventually, uniqueTag, useStackEnv } from '../support/stack';
import { bundleWorkflowsForWorkers, startWorker, TEST_MODULES, type WorkerProcess } from '../support/workerProcess';

const TOKEN = 'console-consumers-token';
const PARTITIONS = 3;
const tag = uniqueTag('cc').replace(/-/g, '_');
const spec: TestConsumerSpec = { name: `cc_${tag}`, topic: `console-consumers.${tag}` };
useStackEnv({ ...TEST_MODULES, API_TOKEN: TOKEN, TEST_CONSUMERS: JSON.stringify([spec]) });

import { ProduceAcks } from '@platformatic/kafka';
import type { BrowserContext, Page } from 'playwright-core';
import type { ConsumersClient, ConsumerView } from '../../client/consumersClient';
import { KafkaTools } from '../../connections/kafkaTools';
import { produceCuratedEvents } from '../../scripts/produce-curated-events';
import { fmt } from '../../workers/http/console/format';
import { openConsumers } from '../../workers/openConsumers';
import { openRuntime, type Runtime } from '../../workers/runtime';
import { consumerWorkflowId } from '../../workflows/consumerIds';

/** A message no Avro reader takes, whose bytes are markup: its sample must show as text and never run. */
const HOSTILE = '<script>window.pwned=1</script>';
const BY_CONSOLE_OR_SIGNAL = /^(console|pause signal|resume signal)$/;

describe('the console: consumers in a browser', { timeout: 600_000 }, () => {
  let rt: Runtime;
  let kafka: KafkaTools;
  let consumers: { client: ConsumersClient; close(): Promise<void> };
  let worker: WorkerProcess;
  let api: ApiProcess;
  let chromium: Awaited<ReturnType<typeof launchBrowser>>;
  let context: BrowserContext;
  let page: Page;
  let produced = 0;
  const axe = new AxeLog();

  async function visit(url: string, label: string): Promise<void> {
    const res = await page.goto(`${api.base}${url}`);
    assert.equal(res?.status(), 200, `${url}: ${res?.status()}`);
    await axe.check(page, label);
  }
  const control = async () =>
    ((await rt.ds.query(`SELECT paused, changed_by FROM kafka_consumer_controls WHERE consumer = $1`, [spec.name])) as { paused: boolean; changed_by: string }[])[0] ?? null;
  const deadInPostgres = async () => ((await rt.ds.query(`SELECT count(*)::int AS n FROM kafka_dead_letters WHERE consumer = $1`, [spec.name])) as { n: number }[])[0]!.n;
  /** The consumer's status once everything produced is applied, as the client (the CLI's) computes it. */
  const drained = (what: string) =>
    eventually(what, async () => {
      const v = await consumers.client.status(spec.name);
      return v.state === 'running' && v.lag === 0 && v.totals.messages === produced && v;
    }, 180_000, 500);
  const totalsShown = async (cell: ReturnType<Page['locator']>) =>
    Object.fromEntries(
      await cell.locator('[data-total]').evaluateAll((els) => els.map((e) => [e.getAttribute('data-total'), Number(e.textContent!.replace(/^\D+/, '').replace(/,/g, ''))])),
    ) as Record<string, number>;
  const expectedTotals = (v: ConsumerView) => {
    const { lostOffsets, ...rest } = v.totals;
    return lostOffsets > 0 ? v.totals : rest;
  };

  before(async () => {
    rt = await openRuntime();
    kafka = new KafkaTools(rt.env, 'console-consumers-test');
    consumers = openConsumers(rt, 'console-consumers-test');
    await kafka.createTopic(spec.topic, PARTITIONS);
    // The markup message first, alone: it is the earliest dead letter of its reason, so the page shows it as the sample.
    await kafka.producer.send({ messages: [{ topic: spec.topic, partition: 0, value: Buffer.from(HOSTILE) }], acks: ProduceAcks.ALL });
    produced = 1;
    await bundleWorkflowsForWorkers();
    worker = await startWorker();
    await eventually('the markup message dead-lettered', async () => (await deadInPostgres()) === 1, 180_000, 500);
    const r = await produceCuratedEvents({ kafka, topic: spec.topic, count: 3000, partitions: PARTITIONS, seed: 27, prefix: spec.name, garbageShare: 0.05 });
    produced += r.messages;
    await drained('the consumer to apply everything produced');
    api = await startApi();
    chromium = await launchBrowser();
    context = chromium.context;
    page = context.pages()[0] ?? (await context.newPage());
    await page.goto(`${api.base}/console/sign-in?next=/console/consumers`);
    await page.getByLabel('API token').fill(TOKEN);
    await Promise.all([page.waitForURL(`${api.base}/console/consumers`), page.getByRole('button', { name: 'Sign in' }).click()]);
  });

  after(async () => {
    if (axe.checked.length > 0) console.log(axe.report());
    await chromium?.close();
    await api?.stop();
    await worker?.stop();
    const open = rt?.temporal.workflow.list({
      query: `(WorkflowId = "${consumerWorkflowId(spec.name)}" OR WorkflowId STARTS_WITH "ingest/${spec.name}/") AND ExecutionStatus = "Running"`,
    });
    if (open) for await (const wf of open) await rt.temporal.workflow.getHandle(wf.workflowId).terminate('test finished').catch(() => undefined);
    await kafka?.deleteGroups([`${spec.topic}.group`]).catch(() => undefined);
    await kafka?.deleteTopics([spec.topic]).catch(() => undefined);
    await consumers?.close();
    await kafka?.close();
    await rt?.close();
  });

  test('without a session: the Consumers pages redirect to the sign-in page, anything else gets 401, and no pause goes through', async () => {
    for (const path of ['/console/consumers', `/console/consumers/${spec.name}`, `/console/consumers/${spec.name}/pause`]) {
      const html = await fetch(`${api.base}${path}`, { headers: { accept: 'text/html' }, redirect: 'manual' });
      assert.equal(html.status, 303, path);
      assert.equal(html.headers.get('location'), `/console/sign-in?next=${encodeURIComponent(path)}`);
      const json = await fetch(`${api.base}${path}`, { headers: { accept: 'application/json' }, redirect: 'manual' });
      assert.equal(json.status, 401, path);
    }
    const before = await control();
    const pause = await fetch(`${api.base}/console/consumers/${spec.name}/pause`, { method: 'POST', body: new URLSearchParams({ _csrf: 'x' }), redirect: 'manual' });
    assert.equal(pause.status, 401);
    assert.deepEqual(await control(), before);
  });

  test('Consumers list: every consumer, and for ours the state, lag, totals, dead letters and host the client computes (dead letters as in Postgres)', async () => {
    const v = await drained('the consumer still drained');
    await visit('/console/consumers', 'consumers');
    assert.equal(await page.locator('table.data tbody tr').count(), consumers.client.names().length);
    const row = page.locator(`tr[data-consumer="${spec.name}"]`);
    assert.equal(await row.locator('td.state').innerText(), 'running');
    assert.equal(await row.locator('td.lag').innerText(), '0');
    assert.deepEqual(await totalsShown(row.locator('td.totals')), expectedTotals(v));
    assert.equal(v.totals.messages, produced);
    assert.equal(Number((await row.locator('td.dead').innerText()).replace(/,/g, '')), await deadInPostgres());
    assert.equal(v.deadLetters, await deadInPostgres());
    assert.match(await row.locator('td.host').innerText(), new RegExp(`^${v.host!.hostname} pid ${worker.pid}\\b`));
    assert.equal(await row.getByRole('link', { name: new RegExp(`^Pause ${spec.name}`) }).count(), 1);
  });

  test("a consumer's page: per partition the offsets, lag and totals of the client; dead letters by reason with the client's counts and samples, markup shown as text and never run", async () => {
    const v = await drained('the consumer still drained');
    const dead = await consumers.client.deadLetters(spec.name, { limit: 20 });
    await page.goto(`${api.base}/console/consumers`);
    await page.getByRole('link', { name: spec.name, exact: true }).click();
    await page.waitForURL(`${api.base}/console/consumers/${spec.name}`);
    await axe.check(page, 'consumer');
    assert.equal(await page.locator('dd.state').innerText(), 'running');
    assert.match(await page.locator('dd.host').innerText(), new RegExp(`pid ${worker.pid}`));
    assert.deepEqual(await totalsShown(page.locator('dd.totals')), expectedTotals(v));

    const parts = await page.locator('table.partitions tbody tr').evaluateAll((trs) =>
      trs.map((tr) => [...tr.querySelectorAll('td')].slice(0, 6).map((td) => td.textContent!.trim().replace(/,/g, ''))),
    );
    assert.deepEqual(
      parts,
      v.partitions.map((p) => [p.topic, String(p.partition), p.endOffset, p.committed ?? '–', p.applied ?? '–', String(p.lag)]),
    );
    assert.equal(parts.length, PARTITIONS);

    const groups = await page.locator('table.dead-letters tbody tr').evaluateAll((trs) =>
      trs.map((tr) => ({ reason: tr.querySelector('th')!.textContent!.trim(), count: Number(tr.querySelector('td.count')!.textContent!.replace(/,/g, '')) })),
    );
    assert.deepEqual(groups, dead.groups.map((g) => ({ reason: g.reasonClass, count: g.count })));
    assert.equal(dead.moreGroups, 0);
    assert.equal(groups.reduce((n, g) => n + g.count, 0), await deadInPostgres());
    const samples = await page.locator('pre.raw').allTextContents();
    assert.deepEqual(samples, dead.groups.filter((g) => g.sample.bytes).map((g) => fmt.bytes(g.sample.hex!)));
    assert.ok(samples.includes(HOSTILE), `the markup message shown as text among ${JSON.stringify(samples)}`);
    assert.equal(await page.locator('main script, main img').count(), 0, 'no element made from a message');
    assert.equal(await page.evaluate('window.pwned'), undefined, 'no message ran');
  });

  test('pause and resume, each confirmed: kafka_consumer_controls and the consumer state follow, nothing is written while paused; without the CSRF token a pause gets 403 and changes nothing', async () => {
    const before = await control();
    assert.ok(before === null || before.paused === false);
    const noToken = await context.request.post(`${api.base}/console/consumers/${spec.name}/pause`, { form: { x: '1' } });
    assert.equal(noToken.status(), 403);
    const forged = await context.request.post(`${api.base}/console/consumers/${spec.name}/pause`, { form: { _csrf: 'forged-token' } });
    assert.equal(forged.status(), 403);
    assert.deepEqual(await control(), before, 'nothing paused it');

    await visit(`/console/consumers/${spec.name}`, 'consumer (running)');
    await Promise.all([page.waitForURL(/\/pause$/), page.getByRole('link', { name: 'Pause the consumer…' }).click()]);
    await axe.check(page, 'confirm (pause consumer)');
    assert.match(await page.locator('form.confirm').innerText(), new RegExp(spec.topic.replace(/\./g, '\\.')));
    await Promise.all([page.waitForURL(/notice=pause/), page.getByRole('button', { name: 'Pause the consumer' }).click()]);
    // The console's write, or the workflow's mirror of the signal the same call sent (it writes the state again).
    const pausedRow = await control();
    assert.equal(pausedRow?.paused, true);
    assert.match(pausedRow.changed_by, BY_CONSOLE_OR_SIGNAL);
    assert.match(await page.getByRole('status').first().innerText(), /Consumer paused/);
    assert.match(await page.locator('dd.state').innerText(), /^paused/);
    assert.equal((await consumers.client.status(spec.name)).state, 'paused');

    // The pause returned once no write can commit: what is produced now stays lag, on the page as in the client.
    const more = await produceCuratedEvents({ kafka, topic: spec.topic, count: 200, partitions: PARTITIONS, seed: 28, prefix: `${spec.name}-b`, garbageShare: 0 });
    produced += more.messages;
    await new Promise((r) => setTimeout(r, 3000));
    const paused = await consumers.client.status(spec.name);
    assert.equal(paused.lag, more.messages);
    await visit(`/console/consumers/${spec.name}`, 'consumer (paused)');
    assert.equal(Number((await page.locator('dd.lag').innerText()).replace(/,/g, '')), more.messages);
    assert.equal(await page.locator('.actions a').innerText(), 'Resume the consumer…');

    await visit('/console/consumers', 'consumers (one paused)');
    const row = page.locator(`tr[data-consumer="${spec.name}"]`);
    assert.match(await row.locator('td.state').innerText(), /^paused\s+by (console|pause signal)$/);
    await Promise.all([page.waitForURL(/\/resume$/), row.getByRole('link', { name: new RegExp(`^Resume ${spec.name}`) }).click()]);
    await axe.check(page, 'confirm (resume consumer)');
    await Promise.all([page.waitForURL(/notice=resume/), page.getByRole('button', { name: 'Resume the consumer' }).click()]);
    const resumedRow = await control();
    assert.equal(resumedRow?.paused, false);
    assert.match(resumedRow.changed_by, BY_CONSOLE_OR_SIGNAL);
    assert.match(await page.getByRole('status').first().innerText(), /Consumer resumed/);
    const resumed = await drained('the backlog applied after the resume');
    assert.equal(resumed.totals.messages, produced);
    await page.reload();
    assert.equal(await page.locator('dd.state').innerText(), 'running');
  });

  test('an unknown consumer: a 404 page naming the known ones', async () => {
    const res = await page.goto(`${api.base}/console/consumers/no_such_consumer`);
    assert.equal(res?.status(), 404);
    assert.match(await page.locator('main').innerText(), new RegExp(spec.name));
    await axe.check(page, 'consumer (unknown)');
  });

  test('read-only mode: no pause or resume on the Consumers pages, and a pause sent anyway is refused', async () => {
    const readOnly = await startApi({ CONSOLE_READ_ONLY: 'true' });
    try {
      // Cookies do not tell ports apart: this API's sign-in replaces the session cookie.
      await context.clearCookies();
      const p = await context.newPage();
      await p.goto(`${readOnly.base}/console/sign-in?next=/console/consumers`);
      await p.getByLabel('API token').fill(TOKEN);
      await Promise.all([p.waitForURL(`${readOnly.base}/console/consumers`), p.getByRole('button', { name: 'Sign in' }).click()]);
      assert.equal(await p.locator(`tr[data-consumer="${spec.name}"]`).count(), 1);
      assert.equal(await p.getByRole('link', { name: /Pause|Resume/ }).count(), 0);
      await p.goto(`${readOnly.base}/console/consumers/${spec.name}`);
      assert.equal(await p.locator('.actions').count(), 0);
      const csrf = await p.locator('input[name=_csrf]').first().inputValue();
      const before = await control();
      const res = await context.request.post(`${readOnly.base}/console/consumers/${spec.name}/pause`, { form: { _csrf: csrf } });
      assert.equal(res.status(), 403);
      assert.deepEqual(await control(), before);
      await p.close();
    } finally {
      await readOnly.stop();
    }
  });

  test('accessibility: axe-core finds no WCAG 2.1 A/AA or best-practice violation on the pages visited', () => {
    assert.ok(axe.checked.length >= 8, `pages checked: ${axe.checked.join(', ')}`);
    assert.deepEqual(axe.violations(), []);
  });
});
