import path from 'node:path';

const TYPESCRIPT = /\.[cm]?ts$/;

/**
 * Loads a module named by path in the environment (JOBS_MODULE, CONSUMERS_MODULE). The built CLI runs JavaScript,
 * so a TypeScript module there (a deployment's config, the tests' jobs) is compiled by tsx, scoped to that module and
 * its imports; run from the sources, this process is under tsx already and a plain require does.
 */
export function requireModule(file: string): unknown {
  const resolved = path.resolve(file);
  if (TYPESCRIPT.test(resolved) && !TYPESCRIPT.test(__filename)) {
    const tsx = require('tsx/cjs/api') as typeof import('tsx/cjs/api');
    return tsx.require(resolved, __filename);
  }
  return require(resolved);
}
