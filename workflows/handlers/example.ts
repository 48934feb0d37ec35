import { ApplicationFailure, proxyActivities } from '@temporalio/workflow';
import type { ExampleActivities } from '../../activities/example';
import { activityOptions } from '../activityOptions';
import type { JobHandler } from '../jobHandler';

/** Does `steps` units of heartbeating work in sequence: the framework's demo and its fault-test subject. */
export const exampleSteps: JobHandler = async (args, ctx) => {
  const { doStep } = proxyActivities<ExampleActivities>(activityOptions(ctx.policy));
  const steps = Number(args['steps']);
  const stepMs = Number(args['stepMs']);
  let workMs = 0;
  for (let step = 1; step <= steps; step++) {
    workMs += await doStep({ step, ms: stepMs });
    ctx.progress('working', { stepsDone: step, steps, workMs });
  }
  return { steps, workMs };
};

/** Fails its first `failAttempts` attempts with an uncaught error, to show whole-job retries. */
export const exampleFlaky: JobHandler = async (args, ctx) => {
  const failAttempts = Number(args['failAttempts']);
  if (ctx.attempt <= failAttempts) {
    throw ApplicationFailure.retryable(`simulated failure on attempt ${ctx.attempt} of ${failAttempts + 1}`, 'SimulatedFailure');
  }
  return { attempt: ctx.attempt };
};
