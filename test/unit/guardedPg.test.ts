import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { test } from 'node:test';

const fixture = path.join(__dirname, '..', 'support', 'pgFatalAfterReady.ts');
const runFixture = (kind: 'plain' | 'guarded') =>
  spawnSync(process.execPath, ['--import', 'tsx', fixture, kind], { encoding: 'utf8', env: { ...process.env, LOG_LEVEL: 'silent' }, timeout: 30_000 });

test("pg's own Pool: a FATAL in the same read as a fresh connection's ReadyForQuery ends the process (the window is real)", () => {
  const r = runFixture('plain');
  assert.notEqual(r.status, 0, `the process should have died:\n${r.stdout}\n${r.stderr}`);
  assert.match(r.stderr, /Unhandled 'error' event|terminating connection due to administrator command/);
});

test("the guarded Pool (every DataSource's): the same FATAL is reported, and the process lives", () => {
  const r = runFixture('guarded');
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /survived/);
});
