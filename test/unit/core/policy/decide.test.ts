import { describe, expect, it } from 'vitest';
import {
  decide,
  defaultPolicySettings,
  type PolicyBatch,
  type PolicyInput,
  type PoolCapacity,
} from '../../../../core/policy/index.js';

const NOW = 1_000_000_000;
const HOUR = 3_600_000;
const batch = (
  id: string,
  remainingRequests: number,
  windowMs: number,
  over: Partial<PolicyBatch> = {},
): PolicyBatch => ({
  id,
  tenant: 't',
  priority: 'normal',
  createdMs: NOW,
  deadlineMs: NOW + windowMs,
  remainingRequests,
  ...over,
});
const pool = (max: number, over: Partial<PoolCapacity> = {}): PoolCapacity => ({
  running: 0,
  pending: 0,
  min: 0,
  max,
  ...over,
});
const measured = [
  { pool: 'spot' as const, model: 'qwen', requestsPerSecondPerTask: 10 },
  { pool: 'dedicated' as const, model: 'qwen', requestsPerSecondPerTask: 10 },
];
const input = (over: Partial<PolicyInput> = {}): PolicyInput => ({
  nowMs: NOW,
  model: 'qwen',
  batches: [],
  measured,
  interruptionsPerTaskHour: 0.1,
  prices: { spotPerTaskHour: 0.3, onDemandPerTaskHour: 0.8048 },
  capacity: { spot: pool(20), dedicated: pool(6) },
  settings: { ...defaultPolicySettings, taskStartupSeconds: 300 },
  ...over,
});
const poolOf = (d: ReturnType<typeof decide>, id: string) => d.routes.find((r) => r.batchId === id)?.pool;

describe('decide', () => {
  it('with nothing to do, wants no tasks (scale to zero)', () => {
    const d = decide(
      input({ capacity: { spot: pool(20, { running: 4 }), dedicated: pool(6, { running: 2 }) } }),
    );
    expect(d.desiredTasks).toEqual({ spot: 0, dedicated: 0 });
    expect(d.routes).toEqual([]);
  });

  it('sends a batch with slack to Spot and scales Spot from zero', () => {
    const d = decide(input({ batches: [batch('a', 100_000, 24 * HOUR)] }));
    expect(poolOf(d, 'a')).toBe('spot');
    expect(d.desiredTasks.spot).toBeGreaterThan(0);
    expect(d.desiredTasks.dedicated).toBe(0);
    expect(d.atRisk).toEqual([]);
  });

  it('with no throughput measured yet, plans with the assumed rate', () => {
    const d = decide(input({ measured: [], batches: [batch('a', 100_000, 24 * HOUR)] }));
    expect(d.rates.spot).toEqual({ requestsPerSecondPerTask: 5, source: 'assumed' });
    expect(d.rates.dedicated.source).toBe('assumed');
    // At 5 requests/s on 6 tasks, 100,000 requests need 300 + 3,333 s of the 4,500 s left (0.81):
    // escalated; at the measured 10 requests/s, 300 + 1,667 s (0.44): Spot.
    const late = decide(input({ measured: [], batches: [batch('a', 100_000, 1.25 * HOUR)] }));
    expect(poolOf(late, 'a')).toBe('dedicated');
    expect(poolOf(decide(input({ batches: [batch('a', 100_000, 1.25 * HOUR)] })), 'a')).toBe('spot');
  });

  it('escalates a batch whose deadline is near, and scales dedicated capacity for it', () => {
    // 150,000 requests on 6 dedicated tasks: 300 + 2,500 s of the 3,600 s left (0.78 >= 0.7).
    const d = decide(input({ batches: [batch('a', 150_000, HOUR)] }));
    expect(poolOf(d, 'a')).toBe('dedicated');
    expect(d.atRisk).toEqual(['a']);
    // 15,000 s of work in the 3,300 s after start-up: 5 tasks, and as many Spot tasks helping.
    expect(d.desiredTasks).toEqual({ spot: 5, dedicated: 5 });
    expect(d.routes[0]?.pools).toEqual(['dedicated', 'spot']);
  });

  it('without Spot helping escalated batches, runs them on dedicated capacity alone', () => {
    const settings = { ...defaultPolicySettings, taskStartupSeconds: 300, spotHelpsEscalated: false };
    const d = decide(input({ settings, batches: [batch('a', 150_000, HOUR)] }));
    expect(d.routes[0]?.pools).toEqual(['dedicated']);
    expect(d.desiredTasks).toEqual({ spot: 0, dedicated: 5 });
  });

  it('sends a batch past its deadline to dedicated capacity', () => {
    const d = decide(input({ batches: [batch('a', 10, -1)] }));
    expect(d.routes[0]).toMatchObject({ pool: 'dedicated', reason: 'deadline-passed', atRisk: true });
    expect(d.desiredTasks.dedicated).toBe(6);
  });

  it('on a price inversion sends everything to dedicated capacity', () => {
    const d = decide(
      input({
        prices: { spotPerTaskHour: 1.2, onDemandPerTaskHour: 0.8048 },
        batches: [batch('a', 10_000, 24 * HOUR)],
      }),
    );
    expect(d.spotIsCheaper).toBe(false);
    expect(d.routes[0]).toMatchObject({ pool: 'dedicated', reason: 'spot-not-cheaper', atRisk: false });
    expect(d.desiredTasks).toEqual({ spot: 0, dedicated: 1 });
  });

  it('with zero capacity everywhere, wants nothing and flags the batch at risk', () => {
    const d = decide(
      input({ capacity: { spot: pool(0), dedicated: pool(0) }, batches: [batch('a', 10, HOUR)] }),
    );
    expect(d.desiredTasks).toEqual({ spot: 0, dedicated: 0 });
    expect(d.atRisk).toEqual(['a']);
  });

  it('with no dedicated capacity, keeps at-risk work on Spot', () => {
    const d = decide(
      input({ capacity: { spot: pool(20), dedicated: pool(0) }, batches: [batch('a', 10, HOUR)] }),
    );
    expect(d.routes[0]).toMatchObject({ pool: 'spot', reason: 'no-dedicated-capacity', atRisk: true });
    expect(d.desiredTasks.spot).toBe(1);
  });

  it('de-escalates once the work is down, with hysteresis, when the escalation is handed back', () => {
    let state = batch('a', 150_000, HOUR);
    const at = (minutes: number, remaining: number) => {
      const d = decide(
        input({ nowMs: NOW + minutes * 60_000, batches: [{ ...state, remainingRequests: remaining }] }),
      );
      const r = d.routes[0];
      if (!r) throw new Error('no route');
      state = { ...state, remainingRequests: remaining, escalation: r.escalation };
      return r.pool;
    };
    expect(at(0, 150_000)).toBe('dedicated');
    // Pressure falls under 0.35 after 5 minutes: too early, the dwell is 10 minutes.
    expect(at(5, 20_000)).toBe('dedicated');
    expect(at(11, 20_000)).toBe('spot');
    // Back on Spot, a little more pressure (not 0.7) does not send it back.
    expect(at(20, 60_000)).toBe('spot');
  });

  it('is a function of its input', () => {
    const i = input({ batches: [batch('a', 150_000, HOUR), batch('b', 1000, HOUR, { tenant: 'u' })] });
    expect(decide(i)).toEqual(decide(i));
  });

  it('gives shares per pool, so that each pool sums to 1', () => {
    const d = decide(
      input({
        batches: [
          batch('a', 150_000, HOUR),
          batch('b', 1000, 24 * HOUR, { tenant: 'u' }),
          batch('c', 1000, 24 * HOUR),
        ],
      }),
    );
    expect(poolOf(d, 'a')).toBe('dedicated');
    expect(d.shares.dedicated.get('a')).toBe(1);
    // Escalated, 'a' keeps Spot as a helper and has its share there too.
    const spot = d.shares.spot;
    expect((spot.get('a') ?? 0) + (spot.get('b') ?? 0) + (spot.get('c') ?? 0)).toBeCloseTo(1, 10);
    expect(spot.get('b')).toBeCloseTo(0.5, 10);
  });
});
