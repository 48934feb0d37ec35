import { ApplicationFailure, proxyActivities } from '@temporalio/workflow';
import type { ExampleActivities } from './activities';
import { activityOptions } from '../../workflows/activityOptions';
import type { ArgsOf } from '../../jobs/definition';
import type { JobHandler } from '../../workflows/jobHandler';
import type { exampleFlaky as ExampleFlakyJob, exampleSteps as ExampleStepsJob } from './jobs';

/** Does `steps` units of heartbeating work in sequence: the framework's demo and its fault-test subject. */
export const exampleSteps: JobHandler<ArgsOf<typeof ExampleStepsJob>> = async (args, ctx) => {
  const { doStep } = proxyActivities<ExampleActivities>(activityOptions(ctx.policy));
  const { steps, stepMs } = args;
  let workMs = 0;
  for (let step = 1; step <= steps; step++) {
    workMs += await doStep({ step, ms: stepMs });
    ctx.progress('working', { stepsDone: step, steps, workMs });
  }
  return { steps, workMs };
};

/** Fails its first `failAttempts` attempts with an uncaught error, to show whole-job retries. */
export const exampleFlaky: JobHandler<ArgsOf<typeof ExampleFlakyJob>> = async (args, ctx) => {
  const { failAttempts } = args;
  if (ctx.attempt <= failAttempts) {
    throw ApplicationFailure.retryable(`simulated failure on attempt ${ctx.attempt} of ${failAttempts + 1}`, 'SimulatedFailure');
  }
  return { attempt: ctx.attempt };
};
