import { createHmac, timingSafeEqual } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AlertEvent } from '../../workflows/alertTypes';
import { freePort } from './apiProcess';

export interface ReceivedAlert {
  /** When it arrived (ms since the epoch). */
  at: number;
  event: AlertEvent;
  /** Whether `x-scheduled-job-signature` is the HMAC-SHA256 of the exact body with the secret. */
  signed: boolean;
  eventIdHeader: string | undefined;
}

export interface WebhookReceiver {
  url: string;
  received: ReceivedAlert[];
  /** Stops listening (connections are refused) for `ms`, then listens again. */
  refuseFor(ms: number): Promise<void>;
  /** When it last started (or will start) listening again after refusing. */
  listensFrom(): number;
  close(): Promise<void>;
}

/**
 * A real HTTP receiver on a loopback port, as a team's alert endpoint would be: it checks each POST's signature with
 * the secret it shares with the workers and answers 200. It refuses connections (nothing listens on the port) for
 * `refuseForMs` after it is made, and again whenever told to.
 */
export async function startWebhookReceiver(opts: { secret: string; refuseForMs: number; path?: string }): Promise<WebhookReceiver> {
  const port = await freePort();
  const received: ReceivedAlert[] = [];
  let server: Server | undefined;
  let timer: NodeJS.Timeout | undefined;
  let from = 0;
  const listen = () =>
    new Promise<void>((resolve) => {
      server = createServer((req, res) => {
        const chunks: Buffer[] = [];
        req.on('data', (c: Buffer) => chunks.push(c));
        req.on('end', () => {
          const body = Buffer.concat(chunks);
          const expected = Buffer.from(`sha256=${createHmac('sha256', opts.secret).update(body).digest('hex')}`);
          const given = Buffer.from(String(req.headers['x-scheduled-job-signature'] ?? ''));
          received.push({
            at: Date.now(),
            event: JSON.parse(body.toString('utf8')) as AlertEvent,
            signed: given.length === expected.length && timingSafeEqual(given, expected),
            eventIdHeader: req.headers['x-scheduled-job-event-id'] as string | undefined,
          });
          res.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
        });
      });
      server.listen(port, '127.0.0.1', () => resolve());
    });
  const stop = () =>
    new Promise<void>((resolve) => {
      clearTimeout(timer);
      if (!server) return resolve();
      server.closeAllConnections();
      server.close(() => resolve());
      server = undefined;
    });
  const refuseFor = async (ms: number) => {
    await stop();
    from = Date.now() + ms;
    timer = setTimeout(() => void listen(), ms);
  };
  await refuseFor(opts.refuseForMs);
  return {
    url: `http://127.0.0.1:${port}${opts.path ?? '/'}`,
    received,
    refuseFor,
    listensFrom: () => from,
    close: stop,
  };
}
