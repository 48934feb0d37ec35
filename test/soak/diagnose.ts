import type { Client as TemporalClient } from '@temporalio/client';
import type { Pool } from 'pg';

/**
 * What the soak writes down when a path stalls (no probe through it for minutes), so a stall found by a seed can be
 * explained afterwards: the consumer workflow's activity (attempt, last heartbeat, what it heartbeats), the recent
 * events of the consumer's ingest workflows (a run of timed-out workflow tasks means no worker finishes replaying
 * its history within the task timeout), and what every Postgres connection is doing.
 */
export async function diagnoseStall(temporal: TemporalClient, pg: Pool, consumer: string): Promise<string[]> {
  const out: string[] = [];
  const safe = async (what: string, fn: () => Promise<void>) => {
    try {
      await fn();
    } catch (err) {
      out.push(`${what}: could not look (${(err as Error).message.slice(0, 200)})`);
    }
  };
  await safe('consumer workflow', async () => {
    const d = await temporal.workflow.getHandle(`consumer/${consumer}`).describe();
    for (const a of d.raw.pendingActivities ?? []) {
      const details = JSON.stringify(a.heartbeatDetails?.payloads?.map((p) => Buffer.from(p.data ?? []).toString()) ?? []).slice(0, 300);
      const beat = a.lastHeartbeatTime?.seconds ? `${Math.round(Date.now() / 1000 - Number(a.lastHeartbeatTime.seconds))} s ago` : 'never';
      out.push(`consumer/${consumer}: ${a.activityType?.name} attempt ${a.attempt} state ${a.state} on ${a.lastWorkerIdentity}, last heartbeat ${beat}: ${details}`);
    }
  });
  await safe('ingest workflows', async () => {
    for await (const wf of temporal.workflow.list({ query: `WorkflowId STARTS_WITH "ingest/${consumer}/" AND ExecutionStatus = "Running"` })) {
      const events = (await temporal.workflow.getHandle(wf.workflowId, wf.runId).fetchHistory()).events ?? [];
      const recent = events.filter((e) => Number(e.eventTime?.seconds ?? 0) * 1000 > Date.now() - 180_000);
      const count = (pred: (e: (typeof events)[number]) => unknown) => recent.filter(pred).length;
      out.push(
        `${wf.workflowId}: ${events.length} events; last 3 min: ${count((e) => e.workflowTaskTimedOutEventAttributes)} workflow tasks timed out, ` +
          `${count((e) => e.workflowTaskFailedEventAttributes)} failed, ${count((e) => e.workflowTaskCompletedEventAttributes)} completed, ` +
          `${count((e) => e.activityTaskCompletedEventAttributes)} range ingests done, ${count((e) => e.workflowExecutionSignaledEventAttributes)} signals`,
      );
    }
  });
  await safe('postgres connections', async () => {
    const res = await pg.query<{ who: string; state: string; wait: string; n: number; oldest: number }>(
      `SELECT usename || '/' || coalesce(nullif(application_name, ''), '-') AS who, coalesce(state, '-') AS state,
              coalesce(wait_event_type || ':' || wait_event, '-') AS wait, count(*)::int AS n,
              coalesce(max(extract(epoch FROM now() - state_change)), 0)::int AS oldest
         FROM pg_stat_activity WHERE backend_type = 'client backend' AND pid <> pg_backend_pid()
        GROUP BY 1, 2, 3 ORDER BY 4 DESC`,
    );
    out.push(`postgres connections: ${res.rows.map((r) => `${r.n} ${r.who} ${r.state} ${r.wait} (oldest ${r.oldest} s)`).join('; ')}`);
  });
  return out;
}
