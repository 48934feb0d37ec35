/**
 * Schema migrations against real Postgres, each test on databases of its own: a database created by the first
 * migration and holding data, upgraded to the latest; the same upgrade one release at a time with rows in every
 * table as it appears; and three processes migrating one empty database at the same instant. Each ends with the
 * schema a fresh database gets, and each migration recorded once.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { DataSource } from 'typeorm';
import { createScratchDatabase, dataSourceUpTo, describeSchema, type ScratchDatabase } from '../support/scratchDatabase';
import { REPO, uniqueTag, useStackEnv } from '../support/stack';

const stack = useStackEnv();

import { createDataSource, migrate } from '../../db/dataSource';
import { migrations } from '../../db/migrations';

/** Rows for each table, keyed by the number of migrations after which the table exists. */
const ROWS: Record<number, { table: string; insert: string }[]> = {
  1: [
    {
      table: 'job_runs',
      insert: `INSERT INTO job_runs (job_name, workflow_id, run_id, first_run_id, attempt, status, args, started_at, finished_at, error, metrics) VALUES
        ('ingest_notification_views', 'ingest_notification_views/2024-05-01', 'r-1', 'r-1', 1, 'failed', '{"day":"2024-05-01"}', '2024-05-02T01:00:00Z', '2024-05-02T01:05:00Z', 'boom', '{"objects":3}'),
        ('ingest_notification_views', 'ingest_notification_views/2024-05-01', 'r-2', 'r-1', 2, 'succeeded', '{"day":"2024-05-01"}', '2024-05-02T01:06:00Z', '2024-05-02T01:09:00Z', NULL, '{"rowsWritten":10}'),
        ('example_steps', 'example_steps', 'r-3', 'r-3', 1, 'running', '{"steps":5,"stepMs":1000}', '2024-05-03T00:00:00Z', NULL, NULL, '{}')`,
    },
  ],
  2: [
    {
      table: 'notification_views',
      insert: `INSERT INTO notification_views VALUES
        ('6f1c2f9e-0d6a-4f0e-9b1a-3c2d1e0f9a8b', 'n-1', 'u-1', 'ios', '2024-05-01T10:00:00Z', '2024-05-01'),
        ('7a2d3e4f-1b2c-4d5e-8f90-a1b2c3d4e5f6', 'n-1', 'u-2', 'web', '2024-05-01T11:00:00Z', '2024-05-01')`,
    },
    {
      table: 'ingest_rejects',
      insert: `INSERT INTO ingest_rejects (day, object_key, line_number, reason, raw, created_at) VALUES
        ('2024-05-01', 'notification-logs/day=2024-05-01/a.jsonl', 7, 'invalid JSON', '{"event_id":', '2024-05-02T01:07:00Z')`,
    },
  ],
  3: [
    {
      table: 'curated_program_events',
      insert: `INSERT INTO curated_program_events VALUES
        ('e-1', 'p-1', 'c-1', 'ADDED', '2024-05-01T00:00:00Z', 'Émission ✓', 'curated-program-events', 0, 41),
        ('e-2', 'p-1', 'c-1', 'REMOVED', '2024-05-01T00:01:00Z', NULL, 'curated-program-events', 1, 7)`,
    },
    {
      table: 'kafka_dead_letters',
      insert: `INSERT INTO kafka_dead_letters (consumer, topic, kafka_partition, kafka_offset, reason, raw, created_at) VALUES
        ('curated_program', 'curated-program-events', 0, 42, 'empty value', '\\x', '2024-05-01T00:02:00Z'),
        ('curated_program', 'curated-program-events', 1, 8, 'no value (tombstone)', NULL, '2024-05-01T00:03:00Z')`,
    },
  ],
  4: [
    {
      table: 'ingest_objects',
      insert: `INSERT INTO ingest_objects (day, object_key, chain_id, batch, size_bytes, byte_offset, line_number, done, lines_read, rows_written, updated_at) VALUES
        ('2024-05-01', 'notification-logs/day=2024-05-01/a.jsonl', 'r-1', 0, 1234, 1234, 10, true, 10, 9, '2024-05-02T01:08:00Z')`,
    },
  ],
  7: [
    {
      table: 'kafka_applied_offsets',
      insert: `INSERT INTO kafka_applied_offsets (consumer, topic, kafka_partition, applied_offset, updated_at) VALUES
        ('curated_program', 'curated-program-events', 0, 41, '2024-05-01T00:04:00Z')`,
    },
  ],
  9: [
    {
      table: 'schedule_ticks',
      insert: `INSERT INTO schedule_ticks (tick_run_id, tick_workflow_id, job_name, schedule_id, scheduled_at, partition_key, outcome, reason, workflow_id, run_id, recorded_at, updated_at) VALUES
        ('t-1', 'tick/ingest_notification_views-2024-05-02T11:00:00Z', 'ingest_notification_views', 'schedule/ingest_notification_views', '2024-05-02T11:00:00Z', '2024-05-01', 'skipped', 'the lock ingest_notification_views/2024-05-01 is held by run r-1', 'ingest_notification_views/2024-05-01', 'r-1', '2024-05-02T11:00:01Z', '2024-05-02T11:00:01Z')`,
    },
  ],
};

/** Rows for the tables a migration adds, keyed by its name (so migrations numbered in between do not move them). */
const ROWS_BY_MIGRATION: Record<string, { table: string; insert: string }[]> = {
  AddConsumerTotalsAndControls1700000000010: [
    {
      table: 'kafka_consumer_controls',
      insert: `INSERT INTO kafka_consumer_controls (consumer, paused, changed_at, changed_by) VALUES ('curated_program', true, '2024-05-01T00:05:00Z', 'cli ops@host')`,
    },
    {
      table: 'kafka_consumer_hosts',
      insert: `INSERT INTO kafka_consumer_hosts (consumer, hostname, pid, attempt, started_at, seen_at, messages_per_second)
        VALUES ('curated_program', 'worker-1', 4242, 3, '2024-05-01T00:00:00Z', '2024-05-01T00:06:00Z', 812.5)`,
    },
  ],
};

/**
 * Columns a migration adds with a value on the rows that were there (checked on their own below), not null: the
 * consumer totals start at 0 and count from the partition's next offset.
 */
const FILLED_ON_UPGRADE: Record<string, string[]> = {
  kafka_applied_offsets: ['messages', 'rows_inserted', 'duplicates', 'dead_letters', 'lost_offsets', 'counted_from'],
};

const contents = async (ds: DataSource, table: string) =>
  ((await ds.query(`SELECT row_to_json(t)::text AS r FROM ${table} t ORDER BY 1`)) as { r: string }[]).map((x) => x.r);

async function snapshot(ds: DataSource, tables: string[]): Promise<Record<string, string[]>> {
  const out: Record<string, string[]> = {};
  for (const t of tables) out[t] = await contents(ds, t);
  return out;
}

/** A snapshot with each row re-serialised, so rows compare by content whatever Postgres's JSON spacing. */
const norm = (snap: Record<string, string[]>) => Object.fromEntries(Object.entries(snap).map(([t, rows]) => [t, rows.map((r) => JSON.stringify(JSON.parse(r)))]));

/**
 * The rows of `after` in the columns `before` had: a migration may add a column (null on the rows that were there,
 * unless FILLED_ON_UPGRADE names it), but never change or drop what a row held.
 */
function asBefore(before: Record<string, string[]>, after: Record<string, string[]>): Record<string, string[]> {
  return Object.fromEntries(
    Object.entries(after).map(([table, rows]) => {
      const had = new Set(Object.keys(JSON.parse(before[table]?.[0] ?? '{}') as object));
      return [
        table,
        rows.map((r) => {
          const row = JSON.parse(r) as Record<string, unknown>;
          for (const k of Object.keys(row).filter((c) => !had.has(c))) {
            if (!FILLED_ON_UPGRADE[table]?.includes(k)) assert.equal(row[k], null, `${table}.${k}, a column added since, is null on a row from before`);
            delete row[k];
          }
          return JSON.stringify(row);
        }),
      ];
    }),
  );
}

async function insertRowsOf(ds: DataSource, step: number): Promise<string[]> {
  const tables: string[] = [];
  for (const r of [...(ROWS[step] ?? []), ...(ROWS_BY_MIGRATION[ALL[step - 1]!] ?? [])]) {
    await ds.query(r.insert);
    tables.push(r.table);
  }
  return tables;
}

async function appliedMigrations(ds: DataSource): Promise<string[]> {
  return ((await ds.query(`SELECT name FROM schema_migrations ORDER BY id`)) as { name: string }[]).map((r) => r.name);
}

const ALL = migrations.map((m) => new m().name!);

describe('migrations on real Postgres', { timeout: 300_000 }, () => {
  const owner = stack['DATABASE_URL']!;
  const dbs: ScratchDatabase[] = [];
  let expectedSchema: Record<string, unknown[]>;

  const scratch = async (what: string) => {
    const db = await createScratchDatabase(owner, uniqueTag(`mig-${what}`));
    dbs.push(db);
    return db;
  };
  const withDs = async <T>(ds: DataSource, fn: (ds: DataSource) => Promise<T>): Promise<T> => {
    await ds.initialize();
    try {
      return await fn(ds);
    } finally {
      await ds.destroy();
    }
  };

  before(async () => {
    // The reference: what one process starting on an empty database makes of it.
    const fresh = await scratch('fresh');
    expectedSchema = await withDs(createDataSource(fresh.url, 2), async (ds) => {
      assert.deepEqual(await migrate(ds), ALL);
      return describeSchema(ds);
    });
    assert.ok((expectedSchema['indexes'] ?? []).length > 0 && (expectedSchema['tableGrants'] ?? []).length > 0, 'the reference schema has indexes and grants');
  });
  after(async () => {
    for (const db of dbs) await db.drop().catch((err: unknown) => console.error(`could not drop ${db.name}: ${String(err)}`));
  });

  test('a database made by the first migration, with rows, upgrades to the latest with every row intact', async () => {
    const db = await scratch('jump');
    const before = await withDs(dataSourceUpTo(db.url, 1), async (ds) => {
      assert.deepEqual(await migrate(ds), [ALL[0]]);
      const tables = await insertRowsOf(ds, 1);
      return snapshot(ds, tables);
    });
    assert.equal(before['job_runs']!.length, 3);

    await withDs(createDataSource(db.url, 2), async (ds) => {
      assert.deepEqual(await migrate(ds), ALL.slice(1), 'only the migrations it did not have');
      assert.deepEqual(asBefore(before, await snapshot(ds, Object.keys(before))), norm(before));
      assert.deepEqual(await appliedMigrations(ds), ALL);
      assert.deepEqual(await describeSchema(ds), expectedSchema);
      // The upgraded table takes new rows the way the run log writes them (defaults, sequences, checks).
      await ds.query(`INSERT INTO job_runs (job_name, workflow_id, run_id, first_run_id, attempt, status) VALUES ('x', 'x', 'r-new', 'r-new', 1, 'running')`);
      await assert.rejects(ds.query(`INSERT INTO job_runs (job_name, workflow_id, run_id, first_run_id, attempt, status) VALUES ('x', 'x', 'r-bad', 'r-bad', 1, 'done')`), /check constraint/);
    });
  });

  test('one release at a time, with rows in every table as it appears, to the latest with every row intact', async () => {
    const db = await scratch('steps');
    let kept: Record<string, string[]> = {};
    for (let n = 1; n <= ALL.length; n++) {
      kept = await withDs(dataSourceUpTo(db.url, n), async (ds) => {
        assert.deepEqual(await migrate(ds), [ALL[n - 1]], `release ${n} applies its migration only`);
        const now = await snapshot(ds, Object.keys(kept));
        assert.deepEqual(asBefore(kept, now), norm(kept), `rows after migration ${ALL[n - 1]}`);
        const added = await insertRowsOf(ds, n);
        return { ...now, ...(await snapshot(ds, added)) };
      });
    }
    const tables = Object.keys(kept).sort();
    assert.deepEqual(tables, [
      'curated_program_events',
      'ingest_objects',
      'ingest_rejects',
      'job_runs',
      'kafka_applied_offsets',
      'kafka_consumer_controls',
      'kafka_consumer_hosts',
      'kafka_dead_letters',
      'notification_views',
      'schedule_ticks',
    ]);
    for (const t of tables) assert.ok(kept[t]!.length > 0, `${t} holds rows`);
    await withDs(createDataSource(db.url, 2), async (ds) => {
      assert.deepEqual(await migrate(ds), [], 'nothing left to apply');
      assert.deepEqual(await snapshot(ds, tables), kept);
      // A partition written before the consumer totals existed counts from its next offset, from zero.
      assert.deepEqual(
        await ds.query(`SELECT counted_from::text, messages::int, rows_inserted::int, dead_letters::int, lost_offsets::int FROM kafka_applied_offsets`),
        [{ counted_from: '42', messages: 0, rows_inserted: 0, dead_letters: 0, lost_offsets: 0 }],
      );
      assert.deepEqual(await appliedMigrations(ds), ALL);
      assert.deepEqual(await describeSchema(ds), expectedSchema);
    });
  });

  test('three processes migrating one empty database at once: all succeed, each migration applied once', async () => {
    const db = await scratch('race');
    const procs = Array.from({ length: 3 }, () => {
      const child = spawn(process.execPath, ['--import', 'tsx', path.join(REPO, 'test', 'support', 'migrateProcess.ts'), db.url], {
        cwd: REPO,
        stdio: ['pipe', 'pipe', 'pipe'],
      });
      let out = '';
      let err = '';
      child.stdout.on('data', (d: Buffer) => (out += d.toString()));
      child.stderr.on('data', (d: Buffer) => (err += d.toString()));
      const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
      const ready = new Promise<void>((resolve, reject) => {
        const t = setInterval(() => {
          if (out.includes('ready\n')) {
            clearInterval(t);
            resolve();
          }
        }, 20);
        void exited.then((code) => {
          clearInterval(t);
          reject(new Error(`exited ${code} before connecting: ${err}`));
        });
      });
      return { child, exited, ready, out: () => out, err: () => err };
    });
    await Promise.all(procs.map((p) => p.ready));
    for (const p of procs) p.child.stdin.write('go\n');
    const codes = await Promise.all(procs.map((p) => p.exited));
    assert.deepEqual(codes, [0, 0, 0], procs.map((p) => p.err()).join('\n'));
    const applied = procs.map((p) => (JSON.parse(p.out().split('\n')[1]!) as { applied: string[] }).applied);
    // The lock serialises them: whoever went first applied everything, the others waited and found nothing to do.
    assert.deepEqual(applied.flat().sort(), [...ALL].sort(), `applied per process: ${JSON.stringify(applied)}`);
    assert.equal(applied.filter((a) => a.length > 0).length, 1, `one process applied them: ${JSON.stringify(applied)}`);
    await withDs(createDataSource(db.url, 2), async (ds) => {
      assert.deepEqual(await appliedMigrations(ds), ALL);
      assert.deepEqual(await describeSchema(ds), expectedSchema);
    });
  });
});
