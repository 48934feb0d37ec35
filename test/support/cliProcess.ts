import { spawn } from 'node:child_process';
import path from 'node:path';
import { REPO } from './stack';

export const BIN = path.join(REPO, 'bin', 'scheduled-job');

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * The real `scheduled-job` binary with this process's environment (the stack's, the test's task queue and jobs), and
 * `env` over it.
 */
export function cli(args: string[], timeoutMs = 120_000, env: NodeJS.ProcessEnv = {}): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(BIN, args, { cwd: REPO, env: { ...process.env, LOG_LEVEL: 'warn', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.once('error', reject);
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

export interface TerminalCli {
  /** Everything the terminal showed so far (stdout and stderr share it, as on a user's screen). */
  screen(): string;
  /** Types Ctrl-C: the terminal sends SIGINT to the command, as it would for a user. */
  ctrlC(): void;
  done: Promise<CliResult>;
}

/**
 * The binary on a pseudo-terminal (util-linux `script`), because progress bars draw only on a terminal and Ctrl-C is
 * a terminal's signal: a SIGINT from the test would skip the part under test.
 */
export function cliOnTerminal(args: string[], timeoutMs = 180_000): TerminalCli {
  const quoted = [BIN, ...args].map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ');
  // `exec`: script runs the command through $SHELL, or /bin/sh when it is unset (as under CI). dash, unlike bash,
  // keeps itself as the parent of a -c command and dies on the terminal's SIGINT, and script then closes the
  // terminal under the command before it could finish what Ctrl-C lets it finish.
  const child = spawn('script', ['-qfec', `exec ${quoted}`, '/dev/null'], {
    cwd: REPO,
    env: { ...process.env, LOG_LEVEL: 'warn', COLUMNS: '200' },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  const done = new Promise<CliResult>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout: out, stderr: '' });
    });
  });
  return {
    screen: () => out,
    ctrlC: () => child.stdin.write('\u0003'),
    done,
  };
}
