import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { z } from 'zod';
import { jobHandlers } from '../../app/jobHandlers';
import { JOB_HANDLER_NAMES, type JobHandlerName, type shippedJobs } from '../../app/jobs';
import { dayArg } from '../../jobs/args';
import { defineJob, type HandlersFor } from '../../jobs/definition';
import type { JobHandler } from '../../workflows/jobHandler';

// The checks of this file are the type checker's: `npm test` type-checks before it runs anything, and an
// `@ts-expect-error` whose line stops being an error is itself an error, so each seam below fails the build if it
// ever lets the mistake through.

const dayJob = defineJob({
  name: 'typed_day',
  description: 'a day job',
  handler: 'example_steps',
  args: z.object({ day: dayArg, steps: z.number().int() }),
  retry: { retries: 0 },
  lockKey: ['day'],
  partition: { arg: 'day', kind: 'day' },
});

defineJob({
  name: 'typed_bad_partition',
  description: 'a partition on a number',
  handler: 'example_steps',
  args: z.object({ day: dayArg, steps: z.number().int() }),
  retry: { retries: 0 },
  // @ts-expect-error a partition is a text argument of the job's own schema
  partition: { arg: 'steps', kind: 'day' },
});

defineJob({
  name: 'typed_unknown_partition',
  description: 'a partition that is no argument',
  handler: 'example_steps',
  args: z.object({ day: dayArg }),
  retry: { retries: 0 },
  // @ts-expect-error a partition names one of the job's arguments
  partition: { arg: 'hour', kind: 'day' },
});

const stepsHandler: JobHandler<{ steps: number; stepMs: number }> = async () => ({});
const dayHandler: JobHandler<{ day: string; steps: number }> = async () => ({});

describe('typed seams', () => {
  test('a handler map is checked against the arguments of each definition that names it', () => {
    const ok = { example_steps: dayHandler } satisfies HandlersFor<[typeof dayJob]>;
    // @ts-expect-error example_steps of this definition receives a day, which stepsHandler's arguments lack
    const wrong = { example_steps: stepsHandler } satisfies HandlersFor<[typeof dayJob]>;
    // @ts-expect-error every handler name of the definitions must be in the map
    const missing = {} satisfies HandlersFor<[typeof dayJob]>;
    assert.equal(typeof ok.example_steps, 'function');
    assert.ok(wrong && missing);
  });

  test('handler names are a union of the shipped ones, and the run-time list is the handler map', () => {
    const name: JobHandlerName = 'ingest_notification_views';
    // @ts-expect-error not a handler the workflow bundle registers
    const unknown: JobHandlerName = 'ingest_notification_view';
    assert.ok(name && unknown);
    assert.deepEqual([...JOB_HANDLER_NAMES].sort(), Object.keys(jobHandlers).sort());
    const everyShipped: HandlersFor<typeof shippedJobs> = jobHandlers;
    assert.equal(Object.keys(everyShipped).length, JOB_HANDLER_NAMES.length);
  });
});
