import { describe, expect, it } from 'vitest';
import { simulate } from '../../simulate/engine.js';
import { percentile, summarize } from '../../simulate/metrics.js';
import { allDedicated, corePolicy, todaysRule } from '../../simulate/policies.js';
import { constantTrace } from '../../simulate/traces.js';
import type { BatchSpec } from '../../simulate/workload.js';
import { chunkSizes } from '../../simulate/workload.js';

describe('percentile', () => {
  it.each<[number[], number, number]>([
    [[1, 2, 3, 4], 50, 2],
    [[4, 3, 2, 1], 100, 4],
    [[5], 99, 5],
    [[1, Number.POSITIVE_INFINITY], 99, Number.POSITIVE_INFINITY],
  ])('%j at p%s is %s', (values, p, expected) => {
    expect(percentile(values, p)).toBe(expected);
  });

  it('is NaN for no values', () => {
    expect(percentile([], 50)).toBeNaN();
  });
});

describe('chunkSizes', () => {
  it.each([100, 2000, 2300, 5000, 77_777])(
    'cuts %s requests into chunks of at most 2,000 that add up',
    (n) => {
      const sizes = chunkSizes(n);
      expect(sizes.reduce((a, b) => a + b, 0)).toBe(n);
      expect(Math.max(...sizes)).toBeLessThanOrEqual(2000);
    },
  );
});

const settings = {
  capacity: { spot: { min: 0, max: 4 }, dedicated: { min: 0, max: 2 } },
  prices: { spotPerTaskHour: 0.3, onDemandPerTaskHour: 0.8 },
  requestsPerSecondPerTask: 10,
  startupSeconds: { spot: 120, dedicated: 120 },
  tickSeconds: 60,
  idleGraceSeconds: 300,
  horizonSeconds: 48 * 3600,
  model: 'm',
};
const spec = (
  id: string,
  tenant: string,
  requests: number,
  arrivalS: number,
  windowS: number,
): BatchSpec => ({
  id,
  tenant,
  priority: 'normal',
  arrivalS,
  windowS,
  requests,
});

describe('summarize', () => {
  // A large batch, then a small one from another tenant while it runs.
  const workload = [spec('large', 'A', 120_000, 0, 24 * 3600), spec('small', 'B', 1000, 600, 3600)];

  it("measures a small batch's wait behind a large one: FIFO waits, fair shares do not", () => {
    const fifo = summarize([simulate(allDedicated, workload, constantTrace(0), settings, 1)], 1);
    const fair = summarize([simulate(corePolicy(), workload, constantTrace(0), settings, 1)], 1);
    expect(fifo.smallBatchesBehindLarge).toBe(1);
    // Behind 120,000 requests on 2 tasks (20 requests/s): most of 100 minutes.
    expect(fifo.smallWaitP50Min).toBeGreaterThan(60);
    expect(fair.smallWaitP50Min).toBeLessThan(5);
    expect(fifo.metShare).toBe(0.5);
    expect(fair.metShare).toBe(1);
  });

  it('counts a refused batch as not met, and cost against the reference', () => {
    // 200,000 requests in 1 h cannot be done on 2 dedicated tasks: the new policy refuses it.
    const tooBig = [spec('big', 'A', 200_000, 0, 3600), spec('ok', 'B', 1000, 0, 3600)];
    const run = simulate(corePolicy(), tooBig, constantTrace(0), settings, 1);
    const s = summarize([run], run.cost * 2);
    expect(s.rejected).toBe(1);
    expect(s.metShare).toBe(0.5);
    expect(s.costVsDedicated).toBeCloseTo(0.5, 10);
  });

  it("today's rule escalates a large batch at once (the assumed 5 requests/s makes it look at risk)", () => {
    const run = simulate(
      todaysRule(),
      [spec('large', 'A', 300_000, 0, 24 * 3600)],
      constantTrace(0),
      settings,
      1,
    );
    expect(run.costByPool.dedicated).toBeGreaterThan(0);
    expect(run.costByPool.spot).toBe(0);
  });
});
