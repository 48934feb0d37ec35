-- The ingest's least-privilege Postgres roles, for the local stack (stack/postgres.sh runs this as the superuser
-- on every `up`) and for docker-compose (mounted into /docker-entrypoint-initdb.d). Idempotent.
--   scheduled_job_ingest    NOLOGIN: what the ingest may touch; migration 1700000000005 grants it its tables.
--   scheduled_job_ingester  LOGIN member of it: the user in the stack's INGEST_DATABASE_URL.
-- In production create your own LOGIN member with a real secret (README, "Least privilege").
DO $$
BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'scheduled_job_ingest') THEN
    CREATE ROLE scheduled_job_ingest NOLOGIN;
  END IF;
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'scheduled_job_ingester') THEN
    CREATE ROLE scheduled_job_ingester LOGIN INHERIT PASSWORD 'scheduled_job_ingester';
  ELSE
    ALTER ROLE scheduled_job_ingester LOGIN INHERIT PASSWORD 'scheduled_job_ingester';
  END IF;
  IF NOT pg_has_role('scheduled_job_ingester', 'scheduled_job_ingest', 'MEMBER') THEN
    GRANT scheduled_job_ingest TO scheduled_job_ingester;
  END IF;
END
$$;
