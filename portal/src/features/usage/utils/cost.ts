import type { Batch } from '../../../types/api';
import type { BatchUsage, CostEstimate } from '../types';

export { formatUsd } from '../../../lib/format';

/**
 * What running on spot saved against running everything on dedicated, as the API reports it
 * (`saving`, `all_dedicated`), and its share of the all-dedicated cost. Null when there is
 * nothing to compare (no work priced yet); a negative saving (spot dearer) is reported as it is.
 */
export function costSaving(cost: Pick<CostEstimate, 'saving' | 'all_dedicated'>): {
  usd: number;
  percent: number;
} | null {
  if (!(cost.all_dedicated > 0)) return null;
  return { usd: cost.saving, percent: Math.round((cost.saving / cost.all_dedicated) * 100) };
}

/** The cost estimate of a batch, where the API reports one (older APIs have none). */
export const costOf = (b: Batch): CostEstimate | undefined => b.openbatch?.cost ?? undefined;

/** The usage of a batch, where the API reports it. */
export const usageOf = (b: Batch): BatchUsage | undefined => b.usage ?? undefined;

export interface UsageTotals {
  /** Batches that report usage, of those given. */
  batches: number;
  input: number;
  cached: number;
  output: number;
  reasoning: number;
  total: number;
}

/** Tokens over many batches (the dashboard); batches without `usage` are left out and not counted. */
export function sumUsage(batches: Batch[]): UsageTotals {
  const t: UsageTotals = { batches: 0, input: 0, cached: 0, output: 0, reasoning: 0, total: 0 };
  for (const b of batches) {
    const u = usageOf(b);
    if (!u) continue;
    t.batches += 1;
    t.input += u.input_tokens;
    t.cached += u.input_tokens_details?.cached_tokens ?? 0;
    t.output += u.output_tokens;
    t.reasoning += u.output_tokens_details?.reasoning_tokens ?? 0;
    t.total += u.total_tokens;
  }
  return t;
}

export interface CostTotals {
  /** Batches with an estimate, of those given. */
  batches: number;
  total: number;
  by_pool: { spot: number; dedicated: number };
  all_dedicated: number;
  saving: number;
}

/**
 * Estimated cost over many batches (the dashboard): the sums of each batch's estimate, by pool
 * and against all-dedicated. Null when no batch has an estimate, so nothing is shown rather
 * than $0.
 */
export function sumCost(batches: Batch[]): CostTotals | null {
  const t: CostTotals = {
    batches: 0,
    total: 0,
    by_pool: { spot: 0, dedicated: 0 },
    all_dedicated: 0,
    saving: 0,
  };
  for (const b of batches) {
    const c = costOf(b);
    if (!c) continue;
    t.batches += 1;
    t.total += c.total;
    t.by_pool.spot += c.by_pool.spot;
    t.by_pool.dedicated += c.by_pool.dedicated;
    t.all_dedicated += c.all_dedicated;
    t.saving += c.saving;
  }
  return t.batches === 0 ? null : t;
}
