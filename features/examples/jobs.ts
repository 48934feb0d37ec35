import { z } from 'zod';
import { defineJob } from '../../jobs/definition';

export const exampleSteps = defineJob({
  name: 'example_steps',
  description: 'Runs a number of heartbeating steps in sequence; the framework on its own, without any data.',
  handler: 'example_steps',
  args: z.object({
    steps: z.number().int().min(1).max(10_000),
    stepMs: z.number().int().min(0).max(600_000),
  }),
  defaultArgs: { steps: 5, stepMs: 1000 },
  retry: { retries: 2, initialInterval: '1s' },
  timeouts: { activityHeartbeat: '10s', activityStartToClose: '15m' },
});

export const exampleFlaky = defineJob({
  name: 'example_flaky',
  description: 'Fails its first `failAttempts` attempts, then succeeds: whole-job retries made visible.',
  handler: 'example_flaky',
  args: z.object({ failAttempts: z.number().int().min(0).max(100), tag: z.string().regex(/^[A-Za-z0-9_.-]{1,100}$/, 'must be 1-100 letters, digits, _ . -') }),
  defaultArgs: { failAttempts: 2, tag: 'default' },
  retry: { retries: 2, initialInterval: '200ms', backoffCoefficient: 1 },
  lockKey: ['tag'],
});
