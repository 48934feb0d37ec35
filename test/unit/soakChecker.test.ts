import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Pool } from 'pg';
import type { ExpectedOutcome } from '../../scripts/generate-day';
import { checkDays, checkStream, type LoggedStream } from '../soak/checker';
import type { DayRecord } from '../soak/dayLoad';

/** A Pool that answers each statement by a pattern in its text: the checker's counting, without a database. */
function fakePool(answers: [RegExp, unknown[]][]): Pool {
  return {
    query: async (sql: string) => {
      const hit = answers.find(([re]) => re.test(sql));
      if (!hit) throw new Error(`no answer for ${sql}`);
      return { rows: hit[1] };
    },
  } as unknown as Pool;
}

const day = (perNotification: Record<string, number>, rejectsByKey: Record<string, number[]>): DayRecord => ({
  day: '3000-01-01',
  kind: 'single',
  expected: { perNotification, rejectsByKey } as unknown as ExpectedOutcome,
  runIds: [],
  status: 'succeeded',
  failedRuns: [],
});

describe('the soak checker counts what it must (the check can fail)', () => {
  test('days: a view and a reject missing are lost, an extra view and a reject twice are duplicated', async () => {
    const pg = fakePool([
      [/FROM notification_views/, [{ id: 'n1', n: 2 }, { id: 'n3', n: 1 }]],
      [/FROM ingest_rejects/, [{ key: 'k', line: '3', n: 2 }]],
    ]);
    const t = await checkDays(pg, [day({ n1: 2, n2: 1 }, { k: [3, 7] })]);
    assert.deepEqual([t.lost, t.duplicated], [2, 2]);
    const exact = await checkDays(
      fakePool([
        [/FROM notification_views/, [{ id: 'n1', n: 2 }, { id: 'n2', n: 1 }]],
        [/FROM ingest_rejects/, [{ key: 'k', line: '3', n: 1 }, { key: 'k', line: '7', n: 1 }]],
      ]),
      [day({ n1: 2, n2: 1 }, { k: [3, 7] })],
    );
    assert.deepEqual([exact.lost, exact.duplicated, exact.problems], [0, 0, []]);
  });

  test('stream: an event without its row and a garbage offset without its dead letter are lost; a second dead letter and a row at a place its bytes are not are reported', async () => {
    const logged: LoggedStream = {
      messages: 5,
      positions: new Map([
        ['p-1', new Set(['0:0', '1:4'])],
        ['p-2', new Set(['0:1'])],
      ]),
      garbage: new Set(['0:2', '1:5']),
      unknown: 0,
    };
    const e = { topic: 't', consumer: 'c', prefix: 'p', from: [0n, 0n], to: [3n, 6n], ledger: new Map() };
    const pg = fakePool([
      [/FROM curated_program_events/, [{ id: 'p-1', at: '1:9' }]],
      [/FROM kafka_dead_letters/, [{ at: '0:2', n: 2 }]],
    ]);
    const t = await checkStream(pg, logged, e);
    // p-2 has no row, 1:5 has no dead letter; 0:2 has two
    assert.deepEqual([t.lost, t.duplicated], [2, 1]);
    assert.ok(t.problems.some((p) => p.includes('p-1 stored at 1:9')), t.problems.join('\n'));
  });
});
