/**
 * The bench's worker loads the test jobs and consumers (its own topic, the test jobs the trigger part starts) as
 * compiled JavaScript that imports the shipped modules from dist/, as a user's compiled modules would: given the
 * TypeScript files, the worker would load tsx, esbuild's service thread and a second copy of the shipped sources,
 * 15–25 MiB that no production worker carries (BENCHMARKS.md, Worker memory in a Kafka drain).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { build, type Plugin } from 'esbuild';
import { REPO } from '../test/support/stack';
import { TEST_MODULES } from '../test/support/workerProcess';

const SUPPORT = path.dirname(TEST_MODULES.JOBS_MODULE);

/**
 * Imports that leave test/support become requires of the built module in dist/, and packages are required by the
 * file the repository resolves them to (the output lives outside it), so both are the worker's own instances.
 */
const shippedFromDist: Plugin = {
  name: 'shipped-from-dist',
  setup(b) {
    b.onResolve({ filter: /^[^./]/ }, (args) => ({ path: require.resolve(args.path, { paths: [REPO] }), external: true }));
    b.onResolve({ filter: /^\.\.?\// }, (args) => {
      const target = path.resolve(args.resolveDir, args.path);
      if (target.startsWith(SUPPORT + path.sep)) return undefined;
      return { path: path.join(REPO, 'dist', path.relative(REPO, target)) + '.js', external: true };
    });
  },
};

/** The env that points a worker at the compiled modules (the bench process itself keeps loading the TypeScript). */
export async function compileWorkerModules(): Promise<{ JOBS_MODULE: string; CONSUMERS_MODULE: string }> {
  const outdir = mkdtempSync(path.join(tmpdir(), 'sj-bench-modules-'));
  // The worker requires them once at its start, and the bench stops it before it exits.
  process.once('exit', () => rmSync(outdir, { recursive: true, force: true }));
  await build({
    entryPoints: [TEST_MODULES.JOBS_MODULE, TEST_MODULES.CONSUMERS_MODULE],
    outdir,
    bundle: true,
    platform: 'node',
    format: 'cjs',
    plugins: [shippedFromDist],
    logLevel: 'warning',
  });
  return { JOBS_MODULE: path.join(outdir, 'jobs.js'), CONSUMERS_MODULE: path.join(outdir, 'consumers.js') };
}
