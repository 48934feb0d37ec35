import { existsSync } from 'node:fs';
import path from 'node:path';

/**
 * The package's root folder (the one with package.json), found from the running file: the same from the TypeScript
 * sources as from their build one level deeper in dist/, for the files that stay outside the build (bin/, stack/,
 * the Avro schemas).
 */
export const PACKAGE_ROOT = findRoot(__dirname);

function findRoot(from: string): string {
  for (let dir = from; ; dir = path.dirname(dir)) {
    if (existsSync(path.join(dir, 'package.json'))) return dir;
    if (path.dirname(dir) === dir) throw new Error(`no package.json above ${from}`);
  }
}
