import { Context } from '@temporalio/activity';

/**
 * Records progress and stops the activity if Temporal cancelled it since (a cancel, a deadline, a heartbeat the
 * server refused): cancellation reaches an activity only through its heartbeats, so a loop that heartbeats must check.
 */
export function heartbeatOrStop(details: unknown): void {
  const ctx = Context.current();
  ctx.heartbeat(details);
  if (ctx.cancellationSignal.aborted) throw ctx.cancellationSignal.reason ?? new Error('cancelled');
}
