import { execFileSync } from 'node:child_process';
import path from 'node:path';

export const REPO = path.resolve(__dirname, '..', '..');

/** The local stack's environment (`stack.sh env`), so tests use exactly what a user's shell would. */
export function stackEnv(): Record<string, string> {
  const out = execFileSync('bash', [path.join(REPO, 'stack', 'stack.sh'), 'env'], { encoding: 'utf8' });
  const vars: Record<string, string> = {};
  for (const line of out.split('\n')) {
    const m = /^export ([A-Z_][A-Z0-9_]*)=(.*)$/.exec(line.trim());
    if (!m) continue;
    let value = m[2]!;
    if (/^".*"$|^'.*'$/.test(value)) value = value.slice(1, -1);
    vars[m[1]!] = value.replace(/\$PATH|\$\{PATH\}/g, process.env['PATH'] ?? '');
  }
  return vars;
}

/**
 * Applies the stack's variables (where the shell did not set them) and the test's own (always) to this process,
 * before any module reads its config. Each test file gets a task queue of its own, so workers left from another
 * run or another file never take its tasks.
 */
export function useStackEnv(extra: Record<string, string> = {}): Record<string, string> {
  for (const [k, v] of Object.entries(stackEnv())) process.env[k] ??= v;
  const own = { TEMPORAL_TASK_QUEUE: uniqueTag('test'), ...extra };
  Object.assign(process.env, own);
  return { ...(process.env as Record<string, string>) };
}

export function uniqueTag(prefix: string): string {
  return `${prefix}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;
}

/**
 * Polls `fn` until it answers with something, then returns that answer. An empty answer keeps it waiting: undefined,
 * null, false, 0, NaN, '' and empty arrays, maps and sets, so "wait until there is one" cannot pass on a count of 0
 * or an empty list. A wait for a value that may legitimately be 0 returns an object holding it.
 */
export async function eventually<T>(
  what: string,
  fn: () => Promise<T | undefined | null | false | 0 | ''>,
  timeoutMs = 60_000,
  everyMs = 250,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (isAnswer(v)) return v as T;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what} (last answer: ${describeAnswer(v)})`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

export function isAnswer(v: unknown): boolean {
  if (v === undefined || v === null || v === false || v === '' || v === 0 || Number.isNaN(v)) return false;
  if (Array.isArray(v)) return v.length > 0;
  if (v instanceof Map || v instanceof Set) return v.size > 0;
  return true;
}

function describeAnswer(v: unknown): string {
  try {
    return JSON.stringify(v)?.slice(0, 200) ?? String(v);
  } catch {
    return String(v);
  }
}

/**
 * For a fault test: points this process at the chaos stack (ports + 100, state in .stack/chaos, as scripts/chaos.sh
 * runs it) unless the caller chose another, refuses the shared stack (offset 0) that its faults would break, and
 * returns that stack's variables, which win over any the shell took from the main stack.
 */
export function useChaosStack(what: string): Record<string, string> {
  process.env['SCHEDULED_JOB_PORT_OFFSET'] ??= '100';
  process.env['SCHEDULED_JOB_STACK_DIR'] ??= path.join(REPO, '.stack', 'chaos');
  if (process.env['SCHEDULED_JOB_PORT_OFFSET'] === '0' && process.env['CHAOS_ALLOW_MAIN_STACK'] !== '1') {
    throw new Error(`${what}: run it on a stack of its own (SCHEDULED_JOB_PORT_OFFSET, scripts/chaos.sh)`);
  }
  const env = stackEnv();
  Object.assign(process.env, env);
  return env;
}
