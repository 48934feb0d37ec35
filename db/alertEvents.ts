import type { AlertEvent } from '../workflows/alertTypes';
import type { Queryable } from './jobRuns';

/** Every statement on `alert_events`: the alerts jobs sent, one row per event, with how its delivery went. */

export interface AlertEventRow {
  event_id: string;
  job_name: string;
  type: string;
  event: AlertEvent;
  created_at: Date;
  attempts: number;
  last_error: string | null;
  delivered_at: Date | null;
}

const rowsOf = async <T>(db: Queryable, sql: string, params: unknown[]): Promise<T[]> => (await db.query(sql, params)) as T[];

/** Records the event (once) and one more delivery try; returns whether it was delivered already (nothing to send). */
export async function beginDelivery(db: Queryable, e: AlertEvent): Promise<{ delivered: boolean }> {
  const rows = await rowsOf<{ delivered: boolean }>(
    db,
    `INSERT INTO alert_events (event_id, job_name, type, event, attempts) VALUES ($1, $2, $3, $4, 1)
     ON CONFLICT (event_id) DO UPDATE SET attempts = alert_events.attempts + CASE WHEN alert_events.delivered_at IS NULL THEN 1 ELSE 0 END
     RETURNING delivered_at IS NOT NULL AS delivered`,
    [e.id, e.job, e.type, e],
  );
  return { delivered: rows[0]?.delivered ?? false };
}

/** Why the last try failed: a status code or an error code, never the URL. */
export async function recordFailure(db: Queryable, eventId: string, error: string): Promise<void> {
  await db.query(`UPDATE alert_events SET last_error = $2 WHERE event_id = $1`, [eventId, error]);
}

export async function recordDelivered(db: Queryable, eventId: string): Promise<void> {
  await db.query(`UPDATE alert_events SET delivered_at = now(), last_error = NULL WHERE event_id = $1 AND delivered_at IS NULL`, [eventId]);
}

/** Whether an event with this ID was recorded (sent or being sent). */
export async function exists(db: Queryable, eventId: string): Promise<boolean> {
  return (await rowsOf<unknown>(db, `SELECT 1 FROM alert_events WHERE event_id = $1`, [eventId])).length > 0;
}

/** A job's latest alerts, newest first. */
export async function recentOfJob(db: Queryable, job: string, limit: number): Promise<AlertEventRow[]> {
  return rowsOf<AlertEventRow>(db, `SELECT * FROM alert_events WHERE job_name = $1 ORDER BY created_at DESC LIMIT $2`, [job, limit]);
}
