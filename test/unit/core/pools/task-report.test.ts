import { describe, expect, it } from 'vitest';
import {
  type AskedRecord,
  askedKey,
  measuredFor,
  nextAsked,
  observedCapacity,
  observePool,
  pendingTasks,
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

describe('tasks asked for and still starting', () => {
  const key = askedKey('default', 'dedicated');
  const asked = (desired: number, raisedAt: number, at = raisedAt): AskedRecord => ({
    pool: key,
    task: 'asked',
    desired,
    raised_at: raisedAt,
    at,
    ttl: at + 86_400,
  });

  it.each<[string, AskedRecord | undefined, number, { pending: number; readySeconds: number }]>([
    ['never asked', undefined, 0, { pending: 0, readySeconds: 300 }],
    ['4 asked 60 s ago, 1 reporting', asked(4, 1_000), 1, { pending: 3, readySeconds: 240 }],
    ['4 asked, all reporting', asked(4, 1_000), 4, { pending: 0, readySeconds: 240 }],
    [
      'asked a start-up ago and more: serving any moment',
      asked(2, 1_060 - 400),
      0,
      { pending: 2, readySeconds: 0 },
    ],
    [
      'asked over two start-ups ago and still not there: not coming',
      asked(2, 1_060 - 601),
      0,
      { pending: 0, readySeconds: 300 },
    ],
  ])('%s', (_what, record, running, expected) => {
    expect(pendingTasks(record, running, 1_060, 300)).toEqual(expected);
  });

  it('moves raised_at only when the count goes up, and rewrites an unchanged count only to keep it fresh', () => {
    const first = nextAsked(undefined, key, 3, 1_000, 600);
    expect(first).toEqual(asked(3, 1_000));
    expect(nextAsked(first, key, 3, 1_060, 600)).toBeUndefined();
    expect(nextAsked(first, key, 5, 1_060, 600)).toEqual(asked(5, 1_060));
    expect(nextAsked(first, key, 2, 1_060, 600)).toEqual(asked(2, 1_000, 1_060));
    expect(nextAsked(first, key, 3, 1_400, 600)).toEqual(asked(3, 1_000, 1_400));
    // A stale record (the pool idle a while) counts as 0: asking again is a raise.
    expect(nextAsked(first, key, 3, 2_000, 600)).toEqual(asked(3, 2_000));
  });

  it('counts the pending tasks as capacity, within the maximum, with the time they still need', () => {
    const configured = { running: 0, pending: 0, min: 0, max: 4 };
    expect(
      observedCapacity(configured, { running: 1, busy: 1, pending: 5, pendingReadySeconds: 90 }),
    ).toEqual({ ...configured, running: 1, busy: 1, pending: 3, pendingReadySeconds: 90 });
    expect(
      observedCapacity({ ...configured, running: 2, min: 2 }, { running: 0, busy: 0, pending: 3 }),
    ).toEqual({
      ...configured,
      running: 2,
      min: 2,
      busy: 0,
      pending: 1,
    });
  });
});
