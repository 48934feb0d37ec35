import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Every alert a job sent or is sending: the event as its webhook receives it (never the URL or the secret), how many
 * deliveries were tried, the last failure (a status code or an error code) and when it was delivered. Keyed by the
 * event's ID, so an event is recorded once and a delivered one is not sent again.
 */
export class CreateAlertEvents1700000000017 implements MigrationInterface {
  name = 'CreateAlertEvents1700000000017';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE alert_events (
        event_id     text        PRIMARY KEY,
        job_name     text        NOT NULL,
        type         text        NOT NULL,
        event        jsonb       NOT NULL,
        created_at   timestamptz NOT NULL DEFAULT now(),
        attempts     integer     NOT NULL DEFAULT 0,
        last_error   text,
        delivered_at timestamptz
      )`);
    await q.query(`CREATE INDEX alert_events_job ON alert_events (job_name, created_at DESC)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE alert_events`);
  }
}
