/**
 * `node --import tsx bench/chunkStatements.ts [--chunks N] [--prefill N] [--rounds N] [--only 0,7]` (indexes in CANDIDATES): the candidate
 * statements for one idempotent 1000-line chunk (rows ON CONFLICT DO NOTHING plus the checkpoint, in one
 * transaction), on one connection, each into a fresh table LIKE notification_views INCLUDING ALL prefilled to the
 * same row count, with 2 % of each chunk repeating the chunk before. Prints Postgres backend CPU seconds (from
 * /proc) and wall time per candidate; a plain COPY of only the new rows is the floor.
 */
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { parseArgs } from 'node:util';
import { Client } from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { pgArrayLiteral } from '../db/pgArrayLiteral';
import { useStackEnv } from '../test/support/stack';

type Row = { e: string; n: string; u: string; p: string; v: Date };

const DAY = '2031-01-01';
const VIEWS = 'bench_chunk_views';
const CK = 'bench_chunk_checkpoint';
const INS = `INSERT INTO ${VIEWS} (event_id, notification_id, user_id, platform, viewed_at, day)`;
const UNNEST = (ts: string) => `unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::${ts}[]) AS t(e, n, u, p, v)`;
const EXACT_MS = `timestamptz 'epoch' + (v / 1000000) * interval '1000 seconds' + (v % 1000000) * interval '1 millisecond'`;
const LOCK = `SELECT line_number FROM ${CK} WHERE id = 1 FOR UPDATE`;
const ADVANCE = `UPDATE ${CK} SET line_number = line_number + 1000 WHERE id = 1`;
const CTE = (ts: 'timestamptz' | 'bigint') => `
  WITH ck AS (${LOCK}), ok AS (SELECT 1 FROM ck WHERE line_number = $6),
  ins AS (${INS} SELECT e, n, u, p, ${ts === 'bigint' ? EXACT_MS : 'v'}, '${DAY}' FROM ${UNNEST(ts)}
          WHERE EXISTS (SELECT 1 FROM ok) ORDER BY e ON CONFLICT (event_id) DO NOTHING RETURNING 1),
  n AS (SELECT count(*) AS inserted FROM ins),
  up AS (UPDATE ${CK} SET line_number = $6 + 1000 WHERE id = 1 AND EXISTS (SELECT 1 FROM ok))
  SELECT (SELECT inserted FROM n) AS inserted`;

const esc = (s: string) => s.replace(/[\\\t\n\r]/g, (c) => ({ '\\': '\\\\', '\t': '\\t', '\n': '\\n', '\r': '\\r' })[c]!);
const tsv = (rows: Row[]) => rows.map((x) => `${x.e}\t${esc(x.n)}\t${esc(x.u)}\t${esc(x.p)}\t${x.v.toISOString()}\t${DAY}\n`).join('');
const arrays = (rows: Row[]) => [rows.map((x) => x.e), rows.map((x) => x.n), rows.map((x) => x.u), rows.map((x) => x.p)].map(pgArrayLiteral);
const isoTimes = (rows: Row[]) => pgArrayLiteral(rows.map((x) => x.v.toISOString()));
const msTimes = (rows: Row[]) => `{${rows.map((x) => x.v.getTime()).join(',')}}`;

async function copyRows(c: Client, table: string, rows: Row[]): Promise<number> {
  const stream = c.query(copyFrom(`COPY ${table} FROM STDIN`));
  await pipeline(Readable.from([tsv(rows)]), stream);
  return Number(stream.rowCount);
}

/** Runs one of the row statements over the chunk's arrays (times as ISO text); returns the rows it wrote. */
async function count(c: Client, sql: string, rows: Row[]): Promise<number> {
  return (await c.query(sql, [...arrays(rows), isoTimes(rows)])).rowCount ?? 0;
}

async function inTransaction(c: Client, body: () => Promise<number>): Promise<number> {
  await c.query('BEGIN');
  await c.query(LOCK);
  const n = await body();
  await c.query(ADVANCE);
  await c.query('COMMIT');
  return n;
}

/** Each candidate writes one chunk and returns how many rows were new. `line` is the checkpoint it expects. */
const CANDIDATES: Record<string, (c: Client, rows: Row[], line: number, known: Set<string>) => Promise<number>> = {
  // the ingest before this round: five round trips
  'unnest, 5 statements': (c, rows) =>
    inTransaction(c, () =>
      count(c, `${INS} SELECT e, n, u, p, v, '${DAY}' FROM ${UNNEST('timestamptz')} ORDER BY e ON CONFLICT (event_id) DO NOTHING`, rows),
    ),
  'MERGE, 5 statements': (c, rows) =>
    inTransaction(c, () =>
      count(
        c,
        `MERGE INTO ${VIEWS} x USING (SELECT * FROM ${UNNEST('timestamptz')} ORDER BY e) s ON x.event_id = s.e
         WHEN NOT MATCHED THEN INSERT VALUES (s.e, s.n, s.u, s.p, s.v, '${DAY}')`,
        rows,
      ),
    ),
  'anti-join insert, 5 statements': (c, rows) =>
    inTransaction(c, () =>
      count(
        c,
        `${INS} SELECT e, n, u, p, v, '${DAY}' FROM ${UNNEST('timestamptz')}
          WHERE NOT EXISTS (SELECT 1 FROM ${VIEWS} x WHERE x.event_id = t.e) ORDER BY e`,
        rows,
      ),
    ),
  'COPY into a temp table + INSERT ON CONFLICT': (c, rows) =>
    inTransaction(c, async () => {
      await copyRows(c, 'bench_chunk_stage', rows);
      return (await c.query(`INSERT INTO ${VIEWS} SELECT * FROM bench_chunk_stage ORDER BY event_id ON CONFLICT (event_id) DO NOTHING`)).rowCount ?? 0;
    }),
  'SELECT the known ids + COPY the rest': (c, rows) =>
    inTransaction(c, async () => {
      const ids = pgArrayLiteral(rows.map((x) => x.e));
      const have = await c.query(`SELECT event_id::text AS e FROM ${VIEWS} WHERE event_id = ANY($1::uuid[])`, [ids]);
      const known = new Set(have.rows.map((r: { e: string }) => r.e));
      return copyRows(c, VIEWS, rows.filter((x) => !known.has(x.e)).sort((a, b) => (a.e < b.e ? -1 : 1)));
    }),
  'one CTE statement': async (c, rows, line) => Number((await c.query(CTE('timestamptz'), [...arrays(rows), isoTimes(rows), line])).rows[0].inserted),
  'one CTE statement, prepared': async (c, rows, line) =>
    Number((await c.query({ name: 'bench_cte', text: CTE('timestamptz'), values: [...arrays(rows), isoTimes(rows), line] })).rows[0].inserted),
  'one CTE statement, prepared, epoch ms': async (c, rows, line) =>
    Number((await c.query({ name: 'bench_cte_ms', text: CTE('bigint'), values: [...arrays(rows), msTimes(rows), line] })).rows[0].inserted),
  // the floor: COPY of only the new rows (the bench knows them; the ingest cannot), no conflict handling
  'COPY of the new rows only (floor)': (c, rows, _line, known) => inTransaction(c, () => copyRows(c, VIEWS, rows.filter((x) => !known.has(x.e)))),
};

function backendCpu(pid: number): number {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(f[11]) + Number(f[12])) / 100;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { chunks: { type: 'string' }, prefill: { type: 'string' }, rounds: { type: 'string' }, only: { type: 'string' } },
  });
  const chunks = Number(values.chunks ?? 200);
  const prefill = Number(values.prefill ?? 500_000);
  const rounds = Number(values.rounds ?? 2);
  const names = values.only ? values.only.split(',').map((i) => Object.keys(CANDIDATES)[Number(i)]!) : Object.keys(CANDIDATES);
  const env = useStackEnv();
  const c = new Client({ connectionString: env['DATABASE_URL'] });
  await c.connect();
  // as the ingest's connections do
  await c.query('SET synchronous_commit = off');
  const pid = (await c.query('SELECT pg_backend_pid() AS p')).rows[0].p as number;
  await c.query(`CREATE TEMP TABLE bench_chunk_stage (LIKE notification_views) ON COMMIT DELETE ROWS`);
  try {
    for (let round = 1; round <= rounds; round++) {
      for (const name of names) {
        await c.query(`DROP TABLE IF EXISTS ${VIEWS}, ${CK}`);
        await c.query(`CREATE TABLE ${VIEWS} (LIKE notification_views INCLUDING ALL)`);
        await c.query(
          `INSERT INTO ${VIEWS} SELECT gen_random_uuid(), 'n-' || (i % 5000), 'u-' || i, 'ios', now(), '2030-01-01'
             FROM generate_series(1, $1::int) i`,
          [prefill],
        );
        await c.query(`VACUUM ANALYZE ${VIEWS}`);
        await c.query(`CREATE TABLE ${CK} (id int PRIMARY KEY, line_number bigint NOT NULL)`);
        await c.query(`INSERT INTO ${CK} VALUES (1, 0)`);
        const data: Row[][] = [];
        for (let i = 0; i < chunks; i++) {
          const rows: Row[] = Array.from({ length: 820 }, () => ({
            e: randomUUID(),
            n: `n-${Math.floor(Math.random() * 5000)}`,
            u: `u-${Math.floor(Math.random() * 1e6)}`,
            p: ['ios', 'android', 'web'][i % 3]!,
            v: new Date(Date.UTC(2031, 0, 1) + Math.floor(Math.random() * 86_400_000)),
          }));
          data.push(i > 0 ? [...rows, ...data[i - 1]!.slice(0, 16)] : rows);
        }
        const cpu0 = backendCpu(pid);
        const t0 = process.hrtime.bigint();
        let inserted = 0;
        let known = new Set<string>();
        for (const [i, rows] of data.entries()) {
          inserted += await CANDIDATES[name]!(c, rows, i * 1000, known);
          known = new Set(rows.map((x) => x.e));
        }
        const wall = Number(process.hrtime.bigint() - t0) / 1e9;
        const pg = backendCpu(pid) - cpu0;
        if (inserted !== chunks * 820) throw new Error(`${name}: ${inserted} rows, expected ${chunks * 820}`);
        const perRow = +((pg / inserted) * 1e6).toFixed(1);
        console.log(JSON.stringify({ round, candidate: name, rows: inserted, wall_s: +wall.toFixed(2), pg_cpu_s: +pg.toFixed(2), pg_cpu_us_per_row: perRow }));
      }
    }
  } finally {
    await c.query(`DROP TABLE IF EXISTS ${VIEWS}, ${CK}`);
    await c.end();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
