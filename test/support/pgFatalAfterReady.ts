/**
 * A child process for test/unit/guardedPg.test.ts: a loopback server that answers a pg client's start-up with
 * AuthenticationOk, ReadyForQuery and a FATAL 57P01 in one write, as a Postgres shutting down can when the client
 * reads late. A pool then hands the fresh client over and the caller attaches its `error` listener a promise callback
 * later, as TypeORM does. Argument `plain`: pg's own Pool; `guarded`: the product's. Exits 0 if the process lived.
 */
import { createServer, type AddressInfo } from 'node:net';
import pg from 'pg';
import { guardedPg } from '../../db/guardedPg';

function message(type: string, body: Buffer): Buffer {
  const len = Buffer.alloc(4);
  len.writeInt32BE(body.length + 4);
  return Buffer.concat([Buffer.from(type), len, body]);
}
const authOk = message('R', Buffer.from([0, 0, 0, 0]));
const ready = message('Z', Buffer.from('I'));
const fatal = message(
  'E',
  Buffer.from('SFATAL\0VFATAL\0C57P01\0Mterminating connection due to administrator command\0\0', 'latin1'),
);

async function main(kind: string): Promise<void> {
  const server = createServer((socket) => {
    socket.once('data', () => socket.end(Buffer.concat([authOk, ready, fatal])));
    socket.on('error', () => undefined);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const { port } = server.address() as AddressInfo;
  const Pool = kind === 'guarded' ? guardedPg('fixture').Pool : pg.Pool;
  const pool = new Pool({ host: '127.0.0.1', port, user: 'u', database: 'd', password: 'p', max: 1 });
  pool.on('error', () => undefined); // TypeORM's pool-level handler: it does not cover a checked-out client
  const client = await pool.connect();
  client.on('error', () => undefined); // where TypeORM attaches its listener: too late for this FATAL
  client.release(true);
  await new Promise((r) => setTimeout(r, 200));
  server.close();
  console.log('survived');
}

void main(process.argv[2] ?? 'plain');
