import assert from 'node:assert/strict';
import { test } from 'node:test';
import { defaultIngestParallelism } from '../../features/notificationViews/parallelism';

test('the default ingest parallelism: two lanes per core, bounded by what the ingest pool can give two batches', () => {
  assert.equal(defaultIngestParallelism(2, 20), 4, 'this machine: 2 cores, the worker\'s pool of 20');
  assert.equal(defaultIngestParallelism(8, 20), 9, 'many cores: two batches of 9 lanes leave one connection of 20');
  assert.equal(defaultIngestParallelism(64, 200), 32, 'never more than the job\'s argument allows');
  assert.equal(defaultIngestParallelism(1, 2), 1, 'at least one lane');
});
