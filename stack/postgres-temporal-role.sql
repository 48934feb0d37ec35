-- The Temporal server's own Postgres role, for the local stack (stack/temporal-server.sh runs this as the superuser
-- before `temporal-sql-tool create-database`) and for docker-compose's server profile (mounted into
-- /docker-entrypoint-initdb.d). CREATEDB so the SQL tool can create its two databases, which it then owns.
-- Idempotent. Use a real secret outside a local stack.
DO $$
BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'temporal') THEN
    CREATE ROLE temporal LOGIN CREATEDB PASSWORD 'temporal';
  END IF;
END
$$;
