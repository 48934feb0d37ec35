import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { PARTITION_KINDS } from '../../jobs/partition';
import { backfillIdOf, backfillWorkflowId, backfillWorkflowIdPrefix, parseBackfillId, parseBackfillWorkflowId } from '../../workflows/backfillTypes';

const day = PARTITION_KINDS.day;

describe('day partitions', () => {
  test("a tick's day is its scheduled time's calendar day in the schedule's time zone, moved by the offset", () => {
    const t = new Date('2024-03-01T11:00:00Z');
    assert.equal(day.at(t, 'UTC', -1), '2024-02-29', 'the day before, across a leap day');
    assert.equal(day.at(t, 'UTC', 0), '2024-03-01');
    // 23:30 UTC is already the next day in Tokyo and still the same day in Los Angeles.
    const late = new Date('2024-12-31T23:30:00Z');
    assert.equal(day.at(late, 'Asia/Tokyo', 0), '2025-01-01');
    assert.equal(day.at(late, 'America/Los_Angeles', 0), '2024-12-31');
    assert.equal(day.at(late, 'Asia/Tokyo', -1), '2024-12-31');
    assert.equal(day.at(new Date('2024-01-01T00:30:00Z'), 'UTC', -366), '2022-12-31');
  });

  test('ranges are every day in order; values sort as text in the same order', () => {
    const days = day.between('2023-12-30', '2024-01-02');
    assert.deepEqual(days, ['2023-12-30', '2023-12-31', '2024-01-01', '2024-01-02']);
    assert.deepEqual([...days].sort(), days);
    assert.throws(() => day.between('2024-01-02', '2024-01-01'), /2024-01-02 is after 2024-01-01/);
    assert.throws(() => day.parse('2024-02-30'), /not a calendar date/);
  });
});

describe('backfill IDs', () => {
  test("a backfill's workflow ID names its job and range, and nothing else parses as one", () => {
    const id = backfillWorkflowId('ingest_notification_views', '2024-05-01', '2024-05-31');
    assert.equal(id, 'backfill/ingest_notification_views/2024-05-01/2024-05-31');
    assert.ok(id.startsWith(backfillWorkflowIdPrefix('ingest_notification_views')));
    assert.deepEqual(parseBackfillWorkflowId(id), { job: 'ingest_notification_views', from: '2024-05-01', to: '2024-05-31' });
    assert.deepEqual(parseBackfillId(backfillIdOf('2024-05-01', '2024-05-31')), { from: '2024-05-01', to: '2024-05-31' });
    for (const other of ['ingest_notification_views/2024-05-01', 'backfill/x/2024-05-01', 'backfill/x/a/b/c', 'schedule/x']) {
      assert.equal(parseBackfillWorkflowId(other), undefined, other);
    }
  });
});
