import type { MigrationInterface, QueryRunner } from 'typeorm';

/** The NOLOGIN role the ingest writes through (INGEST_DATABASE_URL logs in as a member of it). */
export const INGEST_ROLE = 'scheduled_job_ingest';

/**
 * Least privilege for the ingest: exactly what the S3 and Kafka ingest activities and the replay jobs do, nothing
 * else. No DDL (the migrating owner keeps it), no job_runs status: only the live-progress columns the chunk
 * activities update. Roles are cluster-wide, so the role is created only when missing, and only if this user may;
 * otherwise an administrator creates it once (stack/postgres-ingest-role.sql does it for the local stack).
 */
export class CreateIngestRole1700000000005 implements MigrationInterface {
  name = 'CreateIngestRole1700000000005';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      DO $$
      BEGIN
        IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '${INGEST_ROLE}') THEN
          IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = current_user AND (rolsuper OR rolcreaterole)) THEN
            RAISE EXCEPTION 'role ${INGEST_ROLE} does not exist and % may not create roles', current_user
              USING HINT = 'have an administrator run: CREATE ROLE ${INGEST_ROLE} NOLOGIN; then start again (README, "Least privilege")';
          END IF;
          CREATE ROLE ${INGEST_ROLE} NOLOGIN;
        END IF;
      END
      $$`);
    const s = await currentSchema(q);
    const r = INGEST_ROLE;
    await q.query(`GRANT USAGE ON SCHEMA ${s} TO ${r}`);
    // batch ingest: rows (insert-only, duplicates are ON CONFLICT DO NOTHING), quarantine, checkpoints (planDay
    // re-plans, so it also deletes); replay reads and deletes quarantined rows it has written back
    // (ON CONFLICT (event_id) needs SELECT on the conflict column, and only that)
    await q.query(`GRANT INSERT, SELECT (event_id) ON ${s}.notification_views TO ${r}`);
    await q.query(`GRANT SELECT, INSERT, DELETE ON ${s}.ingest_rejects TO ${r}`);
    await q.query(`GRANT USAGE ON SEQUENCE ${s}.ingest_rejects_id_seq TO ${r}`);
    await q.query(`GRANT SELECT, INSERT, UPDATE, DELETE ON ${s}.ingest_objects TO ${r}`);
    // stream ingest: events (insert-only) and dead letters (replay reads and deletes them)
    await q.query(`GRANT INSERT, SELECT (event_id) ON ${s}.curated_program_events TO ${r}`);
    await q.query(`GRANT SELECT, INSERT, DELETE ON ${s}.kafka_dead_letters TO ${r}`);
    await q.query(`GRANT USAGE ON SEQUENCE ${s}.kafka_dead_letters_id_seq TO ${r}`);
    // live progress of the running attempt (ProgressFlusher): the metrics and updated_at of a row found by run_id;
    // status, error, timings and args stay with the owner (the run log)
    await q.query(`GRANT SELECT (run_id, metrics), UPDATE (metrics, updated_at) ON ${s}.job_runs TO ${r}`);
  }

  async down(q: QueryRunner): Promise<void> {
    const s = await currentSchema(q);
    for (const t of ['notification_views', 'ingest_rejects', 'ingest_objects', 'curated_program_events', 'kafka_dead_letters', 'job_runs']) {
      await q.query(`REVOKE ALL ON ${s}.${t} FROM ${INGEST_ROLE}`);
    }
    await q.query(`REVOKE ALL ON SEQUENCE ${s}.ingest_rejects_id_seq, ${s}.kafka_dead_letters_id_seq FROM ${INGEST_ROLE}`);
    await q.query(`REVOKE USAGE ON SCHEMA ${s} FROM ${INGEST_ROLE}`);
    // the role itself stays: roles are cluster-wide and may have members this database does not know about
  }
}

/** The schema the migrations created the tables in, quoted for SQL. */
async function currentSchema(q: QueryRunner): Promise<string> {
  const rows: { schema: string }[] = await q.query(`SELECT current_schema() AS schema`);
  return `"${rows[0]!.schema.replaceAll('"', '""')}"`;
}
