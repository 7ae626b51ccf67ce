import { describe, expect, it } from 'vitest';
import {
  byDeadline,
  deadlinePressure,
  type PolicyBatch,
  type PoolCapacity,
  startupOfMax,
} from '../../../../core/policy/index.js';

const NOW = 1_000_000_000;
const batch = (id: string, remainingRequests: number, deadlineInS: number): PolicyBatch => ({
  id,
  tenant: 't',
  priority: 'normal',
  createdMs: NOW - 1000,
  deadlineMs: NOW + deadlineInS * 1000,
  remainingRequests,
});
/** 6 tasks at 10 requests/s: 60 requests/s, 100 s to start. */
const opts = { nowMs: NOW, capacityRequestsPerSecond: 60, startupSeconds: 100 };

describe('deadlinePressure', () => {
  it('is the start-up plus the work at the fallback rate over the time left', () => {
    // 100 s + 6,000 / 60 s = 200 s needed of 1,000 s left.
    expect(deadlinePressure([batch('a', 6000, 1000)], opts).get('a')).toBeCloseTo(0.2, 10);
  });

  it('counts the work of batches due earlier first (earliest deadline first)', () => {
    const p = deadlinePressure([batch('late', 6000, 1000), batch('early', 6000, 500)], opts);
    expect(p.get('early')).toBeCloseTo(200 / 500, 10);
    expect(p.get('late')).toBeCloseTo(300 / 1000, 10);
  });

  it('gives an earlier batch the pressure of a later one that is short of time', () => {
    // Due later than 'tight', 'early' keeps its own pressure: (100 + 36,000/60) s of 5,000 s.
    const p = deadlinePressure([batch('early', 6000, 5000), batch('tight', 30000, 720)], opts);
    expect(p.get('tight')).toBeCloseTo(600 / 720, 10);
    expect(p.get('early')).toBeCloseTo(700 / 5000, 10);
    // Due first, 'early' alone needs 200 s of 600 s; but 'tight' then needs 700 s of its 720 s.
    const q = deadlinePressure([batch('early', 6000, 600), batch('tight', 30000, 720)], opts);
    expect(q.get('tight')).toBeCloseTo(700 / 720, 10);
    expect(q.get('early')).toBeCloseTo(700 / 720, 10);
  });

  it.each<[string, PolicyBatch, typeof opts]>([
    ['deadline already passed', batch('a', 10, -1), opts],
    ['deadline now', batch('a', 10, 0), opts],
    ['zero capacity', batch('a', 10, 1000), { ...opts, capacityRequestsPerSecond: 0 }],
  ])('is infinite: %s', (_, b, o) => {
    expect(deadlinePressure([b], o).get('a')).toBe(Number.POSITIVE_INFINITY);
  });

  it('never counts less than the largest chunk on one task', () => {
    // 2,000 requests on 60 requests/s would be 33 s, but one chunk runs on one task: 200 s.
    const p = deadlinePressure([batch('a', 2000, 1000)], {
      ...opts,
      taskRequestsPerSecond: 10,
      chunkRequests: 2000,
    });
    expect(p.get('a')).toBeCloseTo(300 / 1000, 10);
  });

  it('leaves out batches with no work left', () => {
    expect(deadlinePressure([batch('done', 0, -5)], opts).has('done')).toBe(false);
  });
});

describe('byDeadline', () => {
  it('orders by deadline, then creation, then id', () => {
    const a = { ...batch('b', 1, 100), createdMs: 2 };
    const b = { ...batch('a', 1, 100), createdMs: 2 };
    const c = { ...batch('c', 1, 100), createdMs: 1 };
    const d = batch('d', 1, 50);
    expect(byDeadline([a, b, c, d]).map((x) => x.id)).toEqual(['d', 'c', 'a', 'b']);
  });
});

describe('startupOfMax', () => {
  const pool = (running: number, pending: number, pendingReadySeconds?: number): PoolCapacity => ({
    running,
    pending,
    min: 0,
    max: 4,
    ...(pendingReadySeconds !== undefined ? { pendingReadySeconds } : {}),
  });
  it.each<[string, PoolCapacity, number]>([
    ['every task running: none', pool(4, 0), 0],
    ['none running or starting: a whole start-up', pool(0, 0), 300],
    ['the rest starting, 40 s to go: 40 s', pool(1, 3, 40), 40],
    ['the rest starting, time unknown: a whole start-up', pool(1, 3), 300],
    ['some starting, not all that may run: a whole start-up', pool(1, 2, 40), 300],
    ['never more than a start-up', pool(0, 4, 900), 300],
  ])('%s', (_what, capacity, expected) => {
    expect(startupOfMax(capacity, 300)).toBe(expected);
  });
});
