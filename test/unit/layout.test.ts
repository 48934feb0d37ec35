import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';

// The layout's rules, read from the sources' imports: they hold by construction only as long as this checks them.
const ROOT = path.join(__dirname, '..', '..');
const SOURCE_DIRS = (JSON.parse(readFileSync(path.join(ROOT, 'tsconfig.build.json'), 'utf8')) as { include: string[] }).include;
const FRAMEWORK = SOURCE_DIRS.filter((d) => d !== 'app' && d !== 'features' && d !== 'workers');

function filesUnder(dir: string): string[] {
  return readdirSync(path.join(ROOT, dir)).flatMap((name) => {
    const rel = path.join(dir, name);
    if (statSync(path.join(ROOT, rel)).isDirectory()) return filesUnder(rel);
    return rel.endsWith('.ts') ? [rel] : [];
  });
}

const FILES = SOURCE_DIRS.flatMap(filesUnder);

/** Repository paths (without extension) of the modules `file` imports, and the packages it imports. */
function importsOf(file: string): { local: string[]; packages: string[] } {
  const src = readFileSync(path.join(ROOT, file), 'utf8');
  const local: string[] = [];
  const packages: string[] = [];
  for (const m of src.matchAll(/^(?:import|export)\s(?!type\b)[^'";]*?from\s+'([^']+)'|^import\s+'([^']+)'/gm)) {
    const spec = m[1] ?? m[2]!;
    if (!spec.startsWith('.')) {
      packages.push(spec);
      continue;
    }
    const target = path.normalize(path.join(path.dirname(file), spec));
    const resolved = [target, path.join(target, 'index')].find((t) => FILES.includes(`${t}.ts`));
    assert.ok(resolved, `${file} imports ${spec}, which is not a source file`);
    local.push(resolved);
  }
  return { local, packages };
}

const GRAPH = new Map(FILES.map((f) => [f.replace(/\.ts$/, ''), importsOf(f)]));
const top = (mod: string) => mod.split(path.sep)[0]!;

describe('the layout', () => {
  test('the framework imports no feature and not the app that lists them', () => {
    const wrong = [...GRAPH].flatMap(([mod, { local }]) =>
      FRAMEWORK.includes(top(mod)) ? local.filter((t) => top(t) === 'features' || top(t) === 'app').map((t) => `${mod} -> ${t}`) : [],
    );
    assert.deepEqual(wrong, []);
  });

  test('a feature imports no other feature and not the app', () => {
    const wrong = [...GRAPH].flatMap(([mod, { local }]) =>
      top(mod) === 'features'
        ? local.filter((t) => top(t) === 'app' || (top(t) === 'features' && t.split(path.sep)[1] !== mod.split(path.sep)[1])).map((t) => `${mod} -> ${t}`)
        : [],
    );
    assert.deepEqual(wrong, []);
  });

  test('no import cycles (type-only imports aside)', () => {
    const cycles: string[] = [];
    const state = new Map<string, 'open' | 'done'>();
    const visit = (mod: string, trail: string[]) => {
      if (state.get(mod) === 'done') return;
      if (state.get(mod) === 'open') {
        cycles.push([...trail.slice(trail.indexOf(mod)), mod].join(' -> '));
        return;
      }
      state.set(mod, 'open');
      for (const t of GRAPH.get(mod)?.local ?? []) visit(t, [...trail, mod]);
      state.set(mod, 'done');
    };
    for (const mod of GRAPH.keys()) visit(mod, []);
    assert.deepEqual(cycles, []);
  });

  test('the workflow bundle reaches only workflow-safe modules', () => {
    const seen = new Set<string>();
    const packages = new Set<string>();
    const walk = (mod: string) => {
      if (seen.has(mod)) return;
      seen.add(mod);
      const node = GRAPH.get(mod)!;
      for (const p of node.packages) packages.add(p);
      for (const t of node.local) walk(t);
    };
    walk(path.join('app', 'workflows'));
    assert.deepEqual([...packages].filter((p) => p !== '@temporalio/workflow' && p !== '@temporalio/common'), []);
    assert.ok(seen.has(path.join('workflows', 'scheduledJob')) && seen.has(path.join('features', 'notificationViews', 'workflows')));
  });

  test('the API and CLI entry points never load workflow code', () => {
    for (const entry of ['workers/api', 'workers/cli']) {
      const seen = new Set<string>();
      const walk = (mod: string) => {
        if (seen.has(mod)) return;
        seen.add(mod);
        for (const t of GRAPH.get(mod)?.local ?? []) walk(t);
      };
      walk(entry);
      const workflowCode = [...seen].filter((m) => GRAPH.get(m)!.packages.includes('@temporalio/workflow'));
      assert.deepEqual(workflowCode, [], `${entry} loads workflow code`);
    }
  });

  test('metrics are written in one module: elsewhere only the registry is imported (for /metrics)', () => {
    const writers = FILES.filter((f) => !f.startsWith(`observability${path.sep}`)).filter((f) =>
      /import\s*\{([^}]*)\}\s*from\s*'[./]*observability\/metrics'/.exec(readFileSync(path.join(ROOT, f), 'utf8'))?.[1]?.split(',').some((n) => n.trim() !== 'registry'),
    );
    assert.deepEqual(writers, []);
  });

  test('the container image copies every folder the build compiles', () => {
    const dockerfile = readFileSync(path.join(ROOT, 'Dockerfile'), 'utf8');
    const missing = SOURCE_DIRS.filter((d) => !new RegExp(`^COPY ${d} ${d}$`, 'm').test(dockerfile));
    assert.deepEqual(missing, []);
  });
});
