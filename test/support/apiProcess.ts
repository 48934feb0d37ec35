import { spawn, type ChildProcess } from 'node:child_process';
import { createServer, type AddressInfo } from 'node:net';
import path from 'node:path';
import { eventually, REPO } from './stack';

export interface ApiProcess {
  child: ChildProcess;
  /** http://127.0.0.1:<port> */
  base: string;
  output: () => string;
  stop(): Promise<void>;
}

export async function freePort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
  const { port } = srv.address() as AddressInfo;
  await new Promise((r) => srv.close(r));
  return port;
}

/** A real `scheduled-job api` process on a free loopback port, ready once /healthz answers. */
export async function startApi(env: Record<string, string> = {}): Promise<ApiProcess> {
  const port = await freePort();
  const child = spawn(path.join(REPO, 'bin', 'scheduled-job'), ['api'], {
    cwd: REPO,
    env: { ...process.env, LOG_LEVEL: 'warn', ...env, API_PORT: String(port), API_HOST: '127.0.0.1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  const collect = (d: Buffer) => (out = (out + d.toString()).slice(-20_000));
  child.stdout!.on('data', collect);
  child.stderr!.on('data', collect);
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  const base = `http://127.0.0.1:${port}`;
  await eventually(
    `the API to answer ${base}/healthz`,
    async () => {
      if (child.exitCode !== null) throw new Error(`api exited with ${child.exitCode}:\n${out.slice(-3000)}`);
      return fetch(`${base}/healthz`).then((r) => r.ok, () => false);
    },
    60_000,
  );
  return {
    child,
    base,
    output: () => out,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const t = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(t);
    },
  };
}
