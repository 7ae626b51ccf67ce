import { describe, expect, it } from 'vitest';
import { estimateCost } from '../../core/pricing/cost.js';
import { costSaving, formatUsd, sumCost, sumUsage } from '../../portal/src/features/usage/utils/cost.js';
import { formatTokens } from '../../portal/src/lib/format.js';
import { batch, extension, FIXTURE_COST_RATES } from './support/fixtures.js';

describe('costSaving', () => {
  it("is the API's saving against all on dedicated, and its share", () => {
    expect(costSaving({ saving: 9, all_dedicated: 12 })).toEqual({ usd: 9, percent: 75 });
  });

  it('reports a negative saving as it is, and nothing without a priced comparison', () => {
    expect(costSaving({ saving: -1, all_dedicated: 4 })).toEqual({ usd: -1, percent: -25 });
    expect(costSaving({ saving: 0, all_dedicated: 0 })).toBeNull();
  });

  it("agrees with the server's estimate: spot's share saved at its price gap", () => {
    const cost = estimateCost({ spot: 9_000, dedicated: 9_000 }, FIXTURE_COST_RATES);
    // Half the work on spot at $0.30 instead of $0.8048: 31% of the all-dedicated cost saved.
    expect(costSaving(cost)).toEqual({ usd: cost.saving, percent: 31 });
  });
});

describe('formatUsd and formatTokens', () => {
  it('writes dollars with cents, and fractions of a cent with two significant digits', () => {
    expect(formatUsd(1234.5)).toBe('$1,234.50');
    expect(formatUsd(0)).toBe('$0.00');
    expect(formatUsd(0.0042)).toBe('$0.0042');
  });

  it('writes token counts compactly for narrow cells', () => {
    expect(formatTokens(950)).toBe('950');
    expect(formatTokens(12_345)).toBe('12.3K');
    expect(formatTokens(4_500_000)).toBe('4.5M');
  });
});

describe('sumUsage and sumCost', () => {
  const usage = (input: number, cached: number, output: number, reasoning: number) => ({
    input_tokens: input,
    input_tokens_details: { cached_tokens: cached },
    output_tokens: output,
    output_tokens_details: { reasoning_tokens: reasoning },
    total_tokens: input + output,
  });
  const ext = (spot: number, dedicated: number) =>
    extension({
      priority: 'normal',
      sla: { deadline_at: 0, state: 'met' },
      pools: { spot, dedicated },
      chunks: { total: 1, done: 1, escalated: 0, interruptions: 0 },
    });

  it('adds up the tokens of every batch that reports usage', () => {
    const a = batch({ id: 'batch_a', usage: usage(100, 10, 50, 5) });
    const b = batch({ id: 'batch_b', usage: usage(1_000, 0, 200, 0) });
    // An API without usage: not counted, rather than counted as zero tokens.
    const old = batch({ id: 'batch_old' });
    delete (old as Partial<typeof old>).usage;
    expect(sumUsage([a, b, old])).toEqual({
      batches: 2,
      input: 1_100,
      cached: 10,
      output: 250,
      reasoning: 5,
      total: 1_350,
    });
  });

  it('adds up the estimates by pool and against all-dedicated, and is null when none has one', () => {
    const a = batch({ id: 'batch_a', openbatch: ext(18_000, 0) });
    const b = batch({ id: 'batch_b', openbatch: ext(0, 18_000) });
    const t = sumCost([a, b]);
    // 18,000 requests at 5/s are one task-hour on each pool.
    expect(t?.batches).toBe(2);
    expect(t?.by_pool).toEqual({ spot: 0.3, dedicated: 0.8048 });
    expect(t?.total).toBeCloseTo(1.1048);
    expect(t?.all_dedicated).toBeCloseTo(1.6096);
    expect(t?.saving).toBeCloseTo(0.5048);
    const noCost = batch({ id: 'batch_old', openbatch: { ...ext(1, 0), cost: undefined as never } });
    expect(sumCost([noCost])).toBeNull();
  });
});
