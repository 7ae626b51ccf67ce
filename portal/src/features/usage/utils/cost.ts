import type { CostEstimate } from '../types';

const usd = new Intl.NumberFormat('en-US', { style: 'currency', currency: 'USD', maximumFractionDigits: 2 });
const smallUsd = new Intl.NumberFormat('en-US', {
  style: 'currency',
  currency: 'USD',
  maximumSignificantDigits: 2,
});

/** Dollars, with cents; amounts under a cent keep two significant digits rather than read "$0.00". */
export function formatUsd(amount: number): string {
  if (amount !== 0 && Math.abs(amount) < 0.01) return smallUsd.format(amount);
  return usd.format(amount);
}

/**
 * What running on spot saved against running everything on dedicated: the amount and its share
 * of the all-dedicated cost. Null when there is nothing to compare (no work priced yet); a
 * negative saving (spot dearer, e.g. many interruptions) is reported as it is.
 */
export function costSaving(cost: CostEstimate): { usd: number; percent: number } | null {
  if (!(cost.all_dedicated_usd > 0)) return null;
  const saved = cost.all_dedicated_usd - cost.estimated_usd;
  return { usd: saved, percent: Math.round((saved / cost.all_dedicated_usd) * 100) };
}
