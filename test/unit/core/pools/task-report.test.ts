import { describe, expect, it } from 'vitest';
import {
  measuredFor,
  observedCapacity,
  observePool,
  poolKey,
  type TaskReport,
} from '../../../../core/pools/task-report.js';

const NOW = 1_800_000_000;
const report = (task: string, over: Partial<TaskReport> = {}): TaskReport => ({
  pool: poolKey('default', 'spot'),
  task,
  at: NOW - 10,
  interval_s: 60,
  answered: 6_000,
  busy_ms: 60_000,
  ttl: NOW + 3600,
  ...over,
});

describe('observePool', () => {
  it('measures answered requests per busy second over the fresh reports, and counts running and busy tasks', () => {
    const o = observePool(
      [
        report('a'), // 100/s for 60 s
        report('b', { answered: 1_500, busy_ms: 30_000 }), // 50/s for 30 s
        report('idle', { answered: 0, busy_ms: 0 }),
      ],
      NOW,
    );
    expect(o).toEqual({ requestsPerSecondPerTask: 7_500 / 90, running: 3, busy: 2 });
  });

  it('drops a report older than two and a half of its intervals: that task is gone', () => {
    const o = observePool([report('a'), report('gone', { at: NOW - 151 })], NOW);
    expect(o).toMatchObject({ running: 1, busy: 1, requestsPerSecondPerTask: 100 });
    expect(observePool([report('short', { interval_s: 5, at: NOW - 13 })], NOW).running).toBe(0);
  });

  it.each([
    ['no report at all', []],
    ['too little busy time', [report('a', { busy_ms: 29_000, answered: 100 })]],
    ['busy time but nothing answered', [report('a', { answered: 0 })]],
  ])('measures nothing with %s (the policy falls back to its assumption)', (_name, reports) => {
    expect(observePool(reports as TaskReport[], NOW).requestsPerSecondPerTask).toBeUndefined();
  });
});

describe('measuredFor and observedCapacity', () => {
  it("gives the model its group's measured rates, only for pools that have one", () => {
    expect(
      measuredFor('m', {
        spot: { requestsPerSecondPerTask: 80, running: 2, busy: 2 },
        dedicated: { running: 1, busy: 0 },
      }),
    ).toEqual([{ pool: 'spot', model: 'm', requestsPerSecondPerTask: 80 }]);
  });

  it('counts reporting tasks as running, never fewer than the minimum nor more than the maximum', () => {
    const configured = { running: 1, pending: 0, min: 1, max: 4 };
    expect(observedCapacity(configured, { running: 3, busy: 2 })).toEqual({
      ...configured,
      running: 3,
      busy: 2,
    });
    expect(observedCapacity(configured, { running: 0, busy: 0 })).toEqual({
      ...configured,
      running: 1,
      busy: 0,
    });
    expect(observedCapacity(configured, { running: 9, busy: 9 })).toEqual({
      ...configured,
      running: 4,
      busy: 4,
    });
  });
});
