import { describe, expect, it } from 'vitest';
import { costSaving, formatUsd } from '../../portal/src/features/usage/utils/cost.js';

describe('costSaving', () => {
  it('is what spot saved against all on dedicated, and its share', () => {
    expect(
      costSaving({ estimated_usd: 3, by_pool: { spot: 2, dedicated: 1 }, all_dedicated_usd: 12 }),
    ).toEqual({
      usd: 9,
      percent: 75,
    });
  });

  it('reports a negative saving as it is, and nothing without a priced comparison', () => {
    expect(
      costSaving({ estimated_usd: 5, by_pool: { spot: 5, dedicated: 0 }, all_dedicated_usd: 4 }),
    ).toEqual({
      usd: -1,
      percent: -25,
    });
    expect(
      costSaving({ estimated_usd: 0, by_pool: { spot: 0, dedicated: 0 }, all_dedicated_usd: 0 }),
    ).toBeNull();
  });
});

describe('formatUsd', () => {
  it('writes dollars with cents, and fractions of a cent with two significant digits', () => {
    expect(formatUsd(1234.5)).toBe('$1,234.50');
    expect(formatUsd(0)).toBe('$0.00');
    expect(formatUsd(0.0042)).toBe('$0.0042');
  });
});
