import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { before, describe, test } from 'node:test';
import { bundleWorkflowCode, Worker } from '@temporalio/worker';
import * as workflows from '../../app/workflows';

const DIR = path.join(__dirname, '..', 'replay', 'histories');
const files = readdirSync(DIR).filter((f) => f.endsWith('.json') && f !== 'workflow-ids.json').sort();
const workflowIds = JSON.parse(readFileSync(path.join(DIR, 'workflow-ids.json'), 'utf8')) as Record<string, string>;

interface RecordedHistory {
  events: { workflowExecutionStartedEventAttributes?: { workflowType?: { name?: string } } }[];
}
const typeOf = (h: RecordedHistory) => h.events[0]?.workflowExecutionStartedEventAttributes?.workflowType?.name;

/**
 * Histories recorded from the real stack (test/replay/recordHistories.ts) replayed against today's workflow code: a
 * change that would make a running workflow take another path than it took (non-determinism) fails here, before a
 * deploy fails the workflows in flight.
 */
describe('recorded histories replay against the current workflow code', { timeout: 300_000 }, () => {
  let code: string;
  before(async () => {
    code = (await bundleWorkflowCode({ workflowsPath: require.resolve('../../app/workflows'), logger: quietLogger })).code;
  });

  test('every workflow type the worker registers has at least one recorded history', () => {
    const registered = Object.entries(workflows).filter(([, v]) => typeof v === 'function').map(([k]) => k).sort();
    const recorded = new Set(files.map((f) => typeOf(JSON.parse(readFileSync(path.join(DIR, f), 'utf8')) as RecordedHistory)));
    assert.deepEqual(registered.filter((t) => !recorded.has(t)), [], 'record them with test/replay/recordHistories.ts');
  });

  for (const file of files) {
    test(file, async () => {
      const json = JSON.parse(readFileSync(path.join(DIR, file), 'utf8')) as RecordedHistory;
      const workflowId = workflowIds[file];
      assert.ok(workflowId, `${file} has no entry in workflow-ids.json`);
      await Worker.runReplayHistory({ workflowBundle: { code }, replayName: file }, json, workflowId);
    });
  }
});

const quiet = () => undefined;
const quietLogger = { log: quiet, trace: quiet, debug: quiet, info: quiet, warn: quiet, error: quiet };
