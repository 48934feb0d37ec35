import type { Context } from '@temporalio/activity';
import { CancelledFailure } from '@temporalio/common';
import { OpenTelemetryActivityInboundInterceptor, OpenTelemetryActivityOutboundInterceptor } from '@temporalio/interceptors-opentelemetry';
import type { ActivityExecuteInput, ActivityInboundCallsInterceptor, ActivityInterceptorsFactory, Next } from '@temporalio/worker';
import { events } from './events';

/**
 * What wraps every activity the worker runs: a RunActivity span under the workflow's (a no-op unless tracing is on),
 * and its time and outcome as a metric.
 */
export const activityInterceptors: ActivityInterceptorsFactory[] = [
  (ctx) => ({ inbound: new OpenTelemetryActivityInboundInterceptor(ctx), outbound: new OpenTelemetryActivityOutboundInterceptor(ctx) }),
  (ctx) => ({ inbound: new ActivityMetricsInterceptor(ctx) }),
];

/**
 * Every activity execution on this worker, timed at the one boundary they all cross, so no activity has to
 * measure itself: the time and outcome go to `events.activityFinished`.
 */
export class ActivityMetricsInterceptor implements ActivityInboundCallsInterceptor {
  constructor(private readonly ctx: Context) {}

  async execute(input: ActivityExecuteInput, next: Next<ActivityInboundCallsInterceptor, 'execute'>): Promise<unknown> {
    const started = performance.now();
    const type = this.ctx.info.activityType;
    try {
      const out = await next(input);
      events.activityFinished(type, 'completed', (performance.now() - started) / 1000);
      return out;
    } catch (err) {
      const cancelled = err instanceof CancelledFailure || this.ctx.cancellationSignal.aborted;
      events.activityFinished(type, cancelled ? 'cancelled' : 'failed', (performance.now() - started) / 1000);
      throw err;
    }
  }
}
