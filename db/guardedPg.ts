import pg from 'pg';
import { reportDown, reportUp } from '../observability/dependencies';

/**
 * The pg module as TypeORM should load it: the same, but every Pool it creates handles the server closing a
 * connection (a restart, a failover, pg_terminate_backend) instead of letting the client's `error` event go unheard.
 *
 * Why the pool's `connect` event: pg-pool takes its own error listener off a fresh client before handing it to the
 * caller, and TypeORM attaches its listener only in a later promise callback. A FATAL that arrives in the same
 * socket read as the connection's ReadyForQuery is emitted in between, with no listener, and an `error` event
 * without a listener ends the process. `connect` fires before the hand-over, so a listener attached there is on the
 * client for its whole life: idle, checked out by a query runner, or held across other I/O.
 */
export function guardedPg(label: string): typeof pg {
  class GuardedPool extends pg.Pool {
    constructor(config?: pg.PoolConfig) {
      super(config);
      guardPool(this, label);
    }
  }
  // Everything else (types, defaults, Client, the lazy `native` getter) is pg's own, read through the prototype.
  return Object.create(pg, { Pool: { value: GuardedPool, enumerable: true } }) as typeof pg;
}

/** Listens for errors on `pool` and each of its clients: reported (logged once per outage), never thrown. */
export function guardPool(pool: pg.Pool, label: string): void {
  const onClientError = (err: Error) => reportDown('postgres', err, `${label} pool connection`);
  pool.on('connect', (client) => {
    client.on('error', onClientError);
    reportUp('postgres');
  });
  // pg-pool emits this for an idle client that died; the client is already out of the pool, the next query opens
  // another.
  pool.on('error', (err) => reportDown('postgres', err, `${label} pool (idle connection)`));
}
