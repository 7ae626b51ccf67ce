import { describe, expect, it } from 'vitest';
import { type DesiredTasksInput, desiredTasks } from '../../../../core/policy/index.js';

const NOW = 1_000_000_000;
const HOUR = 3_600_000;
const input = (over: Partial<DesiredTasksInput> = {}): DesiredTasksInput => ({
  nowMs: NOW,
  batches: [],
  requestsPerSecondPerTask: 10,
  capacity: { running: 0, pending: 0, min: 0, max: 20 },
  settings: { minWorkSecondsPerTask: 3600, taskStartupSeconds: 300 },
  ...over,
});
const work = (id: string, remainingRequests: number, deadlineInMs: number) => ({
  id,
  createdMs: NOW,
  deadlineMs: NOW + deadlineInMs,
  remainingRequests,
});

describe('desiredTasks', () => {
  it.each<[string, Partial<DesiredTasksInput>, number]>([
    ['no work: scales to zero', {}, 0],
    ['no work: keeps the minimum', { capacity: { running: 3, pending: 0, min: 1, max: 20 } }, 1],
    [
      'no work, but tasks busy with chunks: keeps them',
      { capacity: { running: 3, pending: 0, min: 0, max: 20, busy: 2 } },
      2,
    ],
    // 1,000 requests = 100 s of work: one task, from zero.
    ['a small batch from zero: one task', { batches: [work('s', 1000, HOUR)] }, 1],
    // 400,000 requests = 40,000 s: eleven tasks of an hour's work each.
    [
      'a large batch with a long window: an hour of work per task',
      { batches: [work('l', 400_000, 24 * HOUR)] },
      12,
    ],
    // 200,000 requests in 1 h: 20,000 s of work over 3,300 s after start-up: 7 tasks.
    ['a tight window: enough tasks to finish in time', { batches: [work('t', 200_000, HOUR)] }, 7],
    ['never above the max', { batches: [work('t', 2_000_000, HOUR)] }, 20],
    [
      'the max is zero: zero capacity',
      { batches: [work('t', 1000, HOUR)], capacity: { running: 0, pending: 0, min: 0, max: 0 } },
      0,
    ],
    ['no throughput at all: the max', { batches: [work('t', 1000, HOUR)], requestsPerSecondPerTask: 0 }, 20],
    ['deadline already passed: the max', { batches: [work('t', 1000, -HOUR)] }, 20],
    // Due in 1 h and 1.5 h, 6,000 s of work each: alone each needs 2 tasks, but the second
    // needs both batches' 12,000 s within 5,100 s: 3 tasks.
    [
      'earliest deadline first over several batches',
      {
        batches: [work('a', 60_000, HOUR), work('b', 60_000, 1.5 * HOUR)],
        settings: { minWorkSecondsPerTask: 100_000, taskStartupSeconds: 300 },
      },
      3,
    ],
  ])('%s', (_, over, expected) => {
    expect(desiredTasks(input(over))).toBe(expected);
  });

  it('counts no start-up for work the running tasks can do in time', () => {
    // 33,000 requests in 1,100 s: 3 running tasks do it (3,300 s of work in 1,100 s) with no start-up;
    // from zero, the 300 s start-up leaves 800 s, and 5 tasks are needed.
    const batches = [work('a', 33_000, 1_100_000)];
    expect(desiredTasks(input({ batches, capacity: { running: 3, pending: 0, min: 0, max: 20 } }))).toBe(3);
    expect(desiredTasks(input({ batches }))).toBe(5);
  });
});
