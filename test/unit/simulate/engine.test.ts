import { describe, expect, it } from 'vitest';
import type { Pool } from '../../../core/policy/index.js';
import { type SimPolicy, type SimSettings, simulate } from '../../simulate/engine.js';
import { corePolicy } from '../../simulate/policies.js';
import { constantTrace, type InterruptionTrace } from '../../simulate/traces.js';
import type { BatchSpec } from '../../simulate/workload.js';

const settings: SimSettings = {
  capacity: { spot: { min: 0, max: 4 }, dedicated: { min: 0, max: 2 } },
  prices: { spotPerTaskHour: 0.36, onDemandPerTaskHour: 0.72 },
  requestsPerSecondPerTask: 10,
  startupSeconds: { spot: 120, dedicated: 120 },
  tickSeconds: 60,
  idleGraceSeconds: 300,
  horizonSeconds: 48 * 3600,
  model: 'm',
};
const spec = (id: string, requests: number, arrivalS = 0, windowS = 3600): BatchSpec => ({
  id,
  tenant: 't',
  priority: 'normal',
  arrivalS,
  windowS,
  requests,
});
/** Everything on one pool, a fixed number of tasks while work is left, the oldest chunk first. */
const fixed = (pool: Pool, tasks: number): SimPolicy => ({
  name: `fixed ${pool} ${tasks}`,
  admit: (b) => {
    b.pools = [pool];
  },
  control: (view) => {
    const busy = view.batches.some((b) => b.finishS === undefined);
    return { spot: 0, dedicated: 0, [pool]: busy ? tasks : 0 };
  },
  pick: (_pool, queued) => queued[0],
  onInterrupted: () => {},
});
const none = constantTrace(0);

describe('simulate', () => {
  it('starts work after the start-up delay and runs a chunk on one task', () => {
    // 2,000 requests = one chunk (1,000 + 500 + 250 + 250): 200 s of work on one task after 120 s.
    const r = simulate(fixed('dedicated', 1), [spec('a', 2000)], none, settings, 1);
    const b = r.batches[0];
    expect(b?.firstStartS).toBe(120);
    expect(b?.finishS).toBe(320);
  });

  it('spreads chunks over the tasks and bills each from launch to stop', () => {
    // Chunks of 1,000, 500, 250 and 250 on two tasks: 100 s and 50 + 25 + 25 s.
    const r = simulate(fixed('dedicated', 2), [spec('a', 2000)], none, settings, 1);
    expect(r.batches[0]?.finishS).toBe(220);
    // Both stop at the first tick at least 300 s idle: 120 + 100 + 300 = 520, ticks every 60 s: 540.
    expect(r.tasks.map((t) => [t.launchS, t.endS])).toEqual([
      [0, 540],
      [0, 540],
    ]);
    expect(r.cost).toBeCloseTo(((2 * 540) / 3600) * 0.72, 10);
    expect(r.costByPool.spot).toBe(0);
  });

  it('never runs more tasks than the pool allows', () => {
    const r = simulate(fixed('dedicated', 50), [spec('a', 40_000)], none, settings, 1);
    expect(r.tasks.length).toBe(2);
    // 40,000 requests at 20 requests/s after 120 s.
    expect(r.batches[0]?.finishS).toBe(2120);
  });

  it('puts the chunk in flight back in the queue when its Spot task is interrupted', () => {
    const often = constantTrace(3);
    const r = simulate(fixed('spot', 2), [spec('a', 40_000, 0, 24 * 3600)], often, settings, 7);
    const b = r.batches[0];
    expect(r.interruptions).toBeGreaterThan(0);
    expect(r.lostTaskSeconds).toBeGreaterThan(0);
    expect(b?.chunks.reduce((n, c) => n + c.attempts, 0)).toBeGreaterThan(b?.chunks.length ?? 0);
    // Every request done once: the batch finished with nothing left over.
    expect(b?.remainingRequests).toBe(0);
    expect(b?.chunks.every((c) => c.status === 'done')).toBe(true);
    expect(r.tasks.filter((t) => t.interrupted).length).toBe(r.interruptions);
  });

  it('launches no Spot task during an outage', () => {
    const outage: InterruptionTrace = {
      name: 'outage',
      ratePerHour: 0,
      bursts: [],
      burstRatePerHour: 0,
      outages: [{ from: 0, to: 600 }],
    };
    const r = simulate(fixed('spot', 1), [spec('a', 1000)], outage, settings, 1);
    expect(r.failedSpotLaunches).toBeGreaterThan(0);
    expect(r.tasks[0]?.launchS).toBe(600);
  });

  it('with foresight, a Spot task starts no chunk its interruption would cut', () => {
    const foresight = { ...fixed('spot', 2), foresight: true };
    const r = simulate(foresight, [spec('a', 40_000, 0, 24 * 3600)], constantTrace(3), settings, 7);
    expect(r.lostTaskSeconds).toBe(0);
    expect(r.batches[0]?.remainingRequests).toBe(0);
  });

  it('is reproducible: the same seed gives the same run', () => {
    const workload = [spec('a', 30_000, 0, 4 * 3600), spec('b', 800, 600), spec('c', 5000, 900)];
    const run = (seed: number) => {
      const r = simulate(corePolicy(), workload, constantTrace(0.5), settings, seed);
      return { cost: r.cost, finish: r.batches.map((b) => b.finishS), interruptions: r.interruptions };
    };
    expect(run(3)).toEqual(run(3));
  });

  it('runs a batch that arrives later from its arrival', () => {
    const r = simulate(fixed('dedicated', 1), [spec('late', 2000, 1000)], none, settings, 1);
    expect(r.batches[0]?.firstStartS).toBe(1120);
  });
});
