import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Runtime } from '@temporalio/worker';
import { Gauge } from 'prom-client';
import { logger } from './logger';
import { registry } from './metrics';

/**
 * The worker's Prometheus endpoint: one `GET /metrics` that serves this process's prom-client metrics
 * (`scheduled_job_*`: runs, ingest lines, Kafka messages, Node.js process) followed by the Temporal core SDK's
 * (`temporal_*`: polls, task latencies, slots, requests to the server).
 *
 * The core SDK only exports through its own Prometheus HTTP server. That server is bound to an internal port on
 * 127.0.0.1 and read on each scrape, so Prometheus needs one target per worker, not two, and our metrics' names
 * (scheduled_job_*) never collide with the core's (temporal_*), so the two texts simply concatenate.
 */
export interface WorkerMetricsServer {
  url: string;
  close(): Promise<void>;
}

const CORE_SCRAPE_TIMEOUT_MS = 2_000;

/**
 * Installs the Temporal Runtime with the core's Prometheus exporter, then serves `/metrics` on host:port (port 0:
 * any free port, see `url`). Must run before this process creates any NativeConnection or Worker: the Runtime is
 * installed once per process, by whichever comes first. If a Runtime is already installed, only our metrics are
 * served and a warning says why.
 */
export async function startWorkerMetrics(opts: { host: string; port: number }): Promise<WorkerMetricsServer> {
  const coreUrl = await installCoreExporter();
  const coreUp = new Gauge({
    name: 'scheduled_job_temporal_core_metrics_up',
    help: "1 if the last scrape read the Temporal core SDK's metrics, 0 if not (see the worker's log)",
    registers: [registry],
  });

  const server = createServer((req, res) => {
    if (req.method !== 'GET' || (req.url ?? '').split('?')[0] !== '/metrics') {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found: try GET /metrics\n');
      return;
    }
    void (async () => {
      const core = coreUrl ? await scrapeCore(coreUrl) : undefined;
      coreUp.set(core === undefined ? 0 : 1);
      const ours = await registry.metrics();
      res.writeHead(200, { 'content-type': registry.contentType }).end(core ? `${ours}\n${core}` : ours);
    })().catch((err: unknown) => {
      logger.warn({ err }, 'metrics scrape failed');
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' });
      res.end('metrics unavailable; see the worker log\n');
    });
  });
  await listen(server, opts.port, opts.host);
  const { address, port } = server.address() as AddressInfo;
  const host = address.includes(':') ? `[${address}]` : address;
  return {
    url: `http://${host}:${port}/metrics`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

async function installCoreExporter(): Promise<string | undefined> {
  // The core binds the address we give it and cannot report a port it picked, so take a free one first.
  const probe = createServer();
  await listen(probe, 0, '127.0.0.1');
  const port = (probe.address() as AddressInfo).port;
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  try {
    Runtime.install({ telemetryOptions: { metrics: { prometheus: { bindAddress: `127.0.0.1:${port}` } } } });
  } catch (err) {
    logger.warn({ err }, 'Temporal Runtime already installed in this process: serving only our metrics, not the core SDK\'s');
    return undefined;
  }
  return `http://127.0.0.1:${port}/metrics`;
}

async function scrapeCore(url: string): Promise<string | undefined> {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(CORE_SCRAPE_TIMEOUT_MS) });
    if (!res.ok) throw new Error(`HTTP ${res.status}`);
    return await res.text();
  } catch (err) {
    logger.warn({ err, url }, "could not read the Temporal core SDK's metrics");
    return undefined;
  }
}

function listen(server: Server, port: number, host: string): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
}
