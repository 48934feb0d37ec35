import { Context } from '@temporalio/activity';

export function createExampleActivities() {
  return {
    /** One unit of work: waits `ms` while heartbeating, so a cancel or a lost worker is noticed within a heartbeat. */
    async doStep(input: { step: number; ms: number }): Promise<number> {
      const ctx = Context.current();
      const started = Date.now();
      const slice = Math.max(50, Math.min(1000, input.ms));
      while (Date.now() - started < input.ms) {
        // The pid tells fault tests (and operators reading the Web UI) which worker holds the activity.
        ctx.heartbeat({ step: input.step, pid: process.pid });
        // Context.sleep rejects when the activity is cancelled, which is how cancellation reaches this loop.
        await ctx.sleep(Math.min(slice, input.ms - (Date.now() - started)));
      }
      return Date.now() - started;
    },
  };
}

export type ExampleActivities = ReturnType<typeof createExampleActivities>;
