import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { FAULT_KINDS, planFaults, resourceOf } from '../soak/schedule';

describe('the soak nemesis plan (test/soak/schedule.ts)', () => {
  test('a seed gives the same plan every time, another seed another plan', () => {
    const a = planFaults({ seed: 42, minutes: 15, workers: 3 });
    assert.deepEqual(planFaults({ seed: 42, minutes: 15, workers: 3 }), a);
    assert.notDeepEqual(planFaults({ seed: 43, minutes: 15, workers: 3 }), a);
  });

  test('15 minutes: at least 40 faults of every kind, at least 5 s apart, within the fault phase', () => {
    for (const seed of [1, 2, 3, 99, 12345]) {
      const plan = planFaults({ seed, minutes: 15, workers: 3 });
      assert.ok(plan.length >= 40, `seed ${seed}: ${plan.length} faults`);
      assert.deepEqual(new Set(plan.map((f) => f.kind)), new Set(FAULT_KINDS), `seed ${seed}: every kind`);
      const gaps = plan.slice(1).map((f, i) => f.atMs - plan[i]!.atMs);
      // 5-20 s drawn, longer only while every kind left in the deck has its target still busy
      assert.ok(Math.min(...gaps) >= 5_000, `seed ${seed}: gaps ${gaps.join(', ')}`);
      assert.ok(gaps.reduce((a, b) => a + b, 0) / gaps.length <= 20_000, `seed ${seed}: gaps ${gaps.join(', ')}`);
      assert.ok(plan.every((f) => f.atMs < 15 * 60_000));
      assert.deepEqual(plan.map((f) => f.n), plan.map((_, i) => i + 1));
    }
  });

  test('3 minutes (the form npm test runs): every kind once, the first decks of the seed', () => {
    for (const seed of [1, 7, 2026]) {
      const plan = planFaults({ seed, minutes: 3, workers: 3 });
      assert.deepEqual(new Set(plan.slice(0, FAULT_KINDS.length).map((f) => f.kind)).size, FAULT_KINDS.length, `seed ${seed}: ${plan.map((f) => f.kind).join(', ')}`);
    }
  });

  test('durations and targets: outages 10-30 s, SIGSTOP 30 s, kills replaced 1-5 s after, worker faults on a slot', () => {
    const plan = planFaults({ seed: 5, minutes: 30, workers: 3 });
    for (const f of plan) {
      if (f.kind.startsWith('outage-')) assert.ok(f.durationMs! >= 10_000 && f.durationMs! <= 30_000, `${f.kind} ${f.durationMs}`);
      if (f.kind === 'stop-worker') assert.equal(f.durationMs, 30_000);
      if (f.kind.startsWith('kill-')) assert.ok(f.restartDelayMs! >= 1_000 && f.restartDelayMs! <= 5_000);
      if (f.kind.endsWith('-worker')) assert.ok(f.worker !== undefined && f.worker >= 0 && f.worker < 3);
      if (f.kind.startsWith('restart-') || f.kind.startsWith('outage-')) assert.equal(f.service, f.kind.split('-')[1]);
    }
    // Two faults never aim at one target at the same moment: an outage of Postgres is never planned inside another.
    const byTarget = new Map<string, number[]>();
    for (const f of plan) (byTarget.get(resourceOf(f)) ?? byTarget.set(resourceOf(f), []).get(resourceOf(f))!).push(f.atMs);
    for (const [target, times] of byTarget) {
      for (let i = 1; i < times.length; i++) assert.ok(times[i]! - times[i - 1]! >= 2_000, `${target}: faults at ${times[i - 1]} and ${times[i]}`);
    }
  });
});
