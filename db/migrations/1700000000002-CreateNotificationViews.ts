import type { MigrationInterface, QueryRunner } from 'typeorm';

export class CreateNotificationViews1700000000002 implements MigrationInterface {
  name = 'CreateNotificationViews1700000000002';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE notification_views (
        event_id        uuid        PRIMARY KEY,
        notification_id text        NOT NULL,
        user_id         text        NOT NULL,
        platform        text        NOT NULL,
        viewed_at       timestamptz NOT NULL,
        day             date        NOT NULL
      )`);
    await q.query(`CREATE INDEX notification_views_by_notification_day ON notification_views (notification_id, day)`);
    await q.query(`CREATE INDEX notification_views_by_day ON notification_views (day)`);
    await q.query(`
      CREATE TABLE ingest_rejects (
        id          bigserial   PRIMARY KEY,
        day         date        NOT NULL,
        object_key  text        NOT NULL,
        line_number bigint      NOT NULL,
        reason      text        NOT NULL,
        raw         text        NOT NULL,
        created_at  timestamptz NOT NULL DEFAULT now(),
        -- a resumed chunk may re-quarantine a line; the key makes that a no-op
        UNIQUE (day, object_key, line_number)
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE ingest_rejects`);
    await q.query(`DROP TABLE notification_views`);
  }
}
