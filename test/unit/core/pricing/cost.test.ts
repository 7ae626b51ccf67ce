import { describe, expect, it } from 'vitest';
import { slaSchema } from '../../../../core/config.js';
import { costRatesOf, estimateCost } from '../../../../core/pricing/cost.js';

const rates = { spotPerTaskHour: 0.3, onDemandPerTaskHour: 0.8, requestsPerSecondPerTask: 2 };

describe('estimateCost', () => {
  it.each([
    ['nothing run', { spot: 0, dedicated: 0 }, { total: 0, spot: 0, dedicated: 0, all: 0, saving: 0 }],
    // 7,200 requests at 2/s = 1 task-hour.
    [
      'all on spot',
      { spot: 7_200, dedicated: 0 },
      { total: 0.3, spot: 0.3, dedicated: 0, all: 0.8, saving: 0.5 },
    ],
    [
      'all on dedicated',
      { spot: 0, dedicated: 7_200 },
      { total: 0.8, spot: 0, dedicated: 0.8, all: 0.8, saving: 0 },
    ],
    [
      'split',
      { spot: 3_600, dedicated: 3_600 },
      { total: 0.55, spot: 0.15, dedicated: 0.4, all: 0.8, saving: 0.25 },
    ],
  ])('%s', (_name, ran, want) => {
    const c = estimateCost(ran, rates);
    expect(c).toMatchObject({
      estimate: true,
      currency: 'usd',
      total: want.total,
      by_pool: { spot: want.spot, dedicated: want.dedicated },
      all_dedicated: want.all,
      saving: want.saving,
    });
    expect(c.basis).toContain('2 requests/s per task');
  });

  it('prices only the requests that ran: reused answers are the saving by reuse, spread over the pools', () => {
    // 7,200 written on spot, half of them reused: half a task-hour ran.
    const c = estimateCost({ spot: 7_200, dedicated: 0, reused: 3_600 }, rates);
    expect(c).toMatchObject({ total: 0.15, by_pool: { spot: 0.15, dedicated: 0 }, all_dedicated: 0.4 });
    expect(c.saved_by_reuse).toBeCloseTo(0.15);
    const all = estimateCost({ spot: 100, dedicated: 100, reused: 500 }, rates);
    expect(all).toMatchObject({ total: 0, all_dedicated: 0 });
  });

  it('shows a negative saving when spot costs more than on-demand (price inversion), not a made-up one', () => {
    const c = estimateCost({ spot: 7_200, dedicated: 0 }, { ...rates, spotPerTaskHour: 1 });
    expect(c.saving).toBeCloseTo(-0.2);
  });

  it('takes the deployment’s rates from the SLA settings the policy uses', () => {
    const sla = slaSchema.parse({
      SLA_SPOT_PRICE_PER_TASK_HOUR: '0.25',
      SLA_ON_DEMAND_PRICE_PER_TASK_HOUR: '1.5',
      SLA_ASSUMED_REQUESTS_PER_SECOND: '10',
    });
    expect(costRatesOf(sla)).toEqual({
      spotPerTaskHour: 0.25,
      onDemandPerTaskHour: 1.5,
      requestsPerSecondPerTask: 10,
    });
  });
});
