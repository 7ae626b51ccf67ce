import { describe, expect, it } from 'vitest';
import {
  type Candidate,
  fairShares,
  type PolicyBatch,
  pickNext,
  priorityWindow,
  defaultPolicySettings as settings,
} from '../../../../core/policy/index.js';

type B = Pick<PolicyBatch, 'id' | 'tenant' | 'priority'>;
const b = (id: string, tenant: string, priority: PolicyBatch['priority'] = 'normal'): B => ({
  id,
  tenant,
  priority,
});

describe('fairShares', () => {
  it.each<[string, B[], Record<string, number>]>([
    ['one batch has it all', [b('a', 'A')], { a: 1 }],
    [
      'two tenants split evenly, whatever their batch counts',
      [b('a1', 'A'), b('a2', 'A'), b('a3', 'A'), b('b', 'B')],
      { a1: 1 / 6, a2: 1 / 6, a3: 1 / 6, b: 1 / 2 },
    ],
    // Weights low 1, normal 2, high 4.
    [
      'a tenant weighs as its highest priority',
      [b('a', 'A', 'high'), b('b', 'B', 'low')],
      { a: 0.8, b: 0.2 },
    ],
    ['within a tenant, by priority', [b('h', 'A', 'high'), b('n', 'A', 'normal')], { h: 4 / 6, n: 2 / 6 }],
  ])('%s', (_, batches, expected) => {
    const shares = fairShares(batches, settings);
    for (const [id, share] of Object.entries(expected)) expect(shares.get(id)).toBeCloseTo(share, 10);
    expect([...shares.values()].reduce((x, y) => x + y, 0)).toBeCloseTo(1, 10);
  });

  it('gives nothing for no batches', () => {
    expect(fairShares([], settings).size).toBe(0);
  });
});

const c = (batchId: string, over: Partial<Candidate> = {}): Candidate => ({
  batchId,
  share: 0.5,
  recentRequests: 0,
  nextRequests: 2000,
  urgent: false,
  deadlineMs: 10_000,
  createdMs: 0,
  ...over,
});

describe('pickNext', () => {
  it.each<[string, Candidate[], string | undefined]>([
    ['nothing queued', [], undefined],
    [
      'a small batch that just arrived goes before a large one that has been served',
      [c('huge', { recentRequests: 40_000, createdMs: 0 }), c('small', { nextRequests: 10, createdMs: 5 })],
      'small',
    ],
    [
      'a low-priority batch with no recent service still gets its turn',
      [c('high', { share: 0.8, recentRequests: 16_000 }), c('low', { share: 0.2 })],
      'low',
    ],
    [
      'urgent batches first, earliest deadline first, whatever their service',
      [
        c('fair'),
        c('late', { urgent: true, deadlineMs: 900, recentRequests: 1e6 }),
        c('soon', { urgent: true, deadlineMs: 500, recentRequests: 1e6 }),
      ],
      'soon',
    ],
    ['equal load: the earlier deadline', [c('x', { deadlineMs: 20 }), c('y', { deadlineMs: 10 })], 'y'],
    ['equal load and deadline: the older batch', [c('x', { createdMs: 2 }), c('y', { createdMs: 1 })], 'y'],
  ])('%s', (_, candidates, expected) => {
    expect(pickNext(candidates)).toBe(expected);
  });

  it('serves two busy batches in proportion to their shares', () => {
    const served: Record<string, number> = { a: 0, b: 0 };
    const shares: Record<string, number> = { a: 0.8, b: 0.2 };
    for (let i = 0; i < 1000; i++) {
      const id = pickNext(
        Object.keys(served).map((k) => c(k, { share: shares[k], recentRequests: served[k] })),
      ) as string;
      served[id] = (served[id] ?? 0) + 2000;
    }
    expect((served.a ?? 0) / ((served.a ?? 0) + (served.b ?? 0))).toBeCloseTo(0.8, 2);
  });
});

describe('priorityWindow', () => {
  it.each([
    [16, 'low', 8],
    [16, 'normal', 16],
    [16, 'high', 32],
    [1, 'low', 1],
    [3, 'low', 2],
    [0, 'high', 0],
  ] as const)('window %i for a %s batch: %i', (window, priority, expected) => {
    expect(priorityWindow(window, priority, settings)).toBe(expected);
  });

  it('follows the weights it is given', () => {
    expect(priorityWindow(10, 'high', { priorityWeights: { low: 1, normal: 1, high: 3 } })).toBe(30);
  });
});
