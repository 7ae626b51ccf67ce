import type { SlaSettings } from '../config.js';

/** What a task-hour costs in each pool and how much one task serves: the estimate's inputs. */
export interface CostRates {
  spotPerTaskHour: number;
  onDemandPerTaskHour: number;
  /** Requests one task (one GPU) serves a second: the deployment's throughput figure. */
  requestsPerSecondPerTask: number;
}

/** The batch's `openbatch.cost`: an estimate in US dollars, never a bill. */
export interface CostEstimate {
  estimate: true;
  currency: 'usd';
  /** Task time the requests took at the throughput figure, priced per pool. */
  total: number;
  by_pool: { spot: number; dedicated: number };
  /** The same requests all on on-demand (dedicated) capacity, and the difference. */
  all_dedicated: number;
  saving: number;
  /** What the answers reused from earlier requests (deduplication) would have cost to run. */
  saved_by_reuse?: number;
  basis: string;
}

/** The deployment's rates, from the SLA settings the policy uses too (core/config.ts). */
export const costRatesOf = (
  sla: Pick<
    SlaSettings,
    'SLA_SPOT_PRICE_PER_TASK_HOUR' | 'SLA_ON_DEMAND_PRICE_PER_TASK_HOUR' | 'SLA_ASSUMED_REQUESTS_PER_SECOND'
  >,
): CostRates => ({
  spotPerTaskHour: sla.SLA_SPOT_PRICE_PER_TASK_HOUR,
  onDemandPerTaskHour: sla.SLA_ON_DEMAND_PRICE_PER_TASK_HOUR,
  requestsPerSecondPerTask: sla.SLA_ASSUMED_REQUESTS_PER_SECOND,
});

// Micro-dollars: a small batch costs fractions of a cent.
const micro = (usd: number) => Math.round(usd * 1e6) / 1e6;

/**
 * Estimated GPU cost of the requests run so far, from the requests each pool ran (kept per
 * chunk as chunks complete): task-hours = requests / throughput / 3600, times the pool's price
 * per task-hour. Pure; start-up, idle time and storage are not in it, which is why it is named
 * an estimate wherever it is shown.
 */
export function estimateCost(
  done: { spot: number; dedicated: number; reused?: number },
  rates: CostRates,
): CostEstimate {
  const hours = (requests: number) => requests / rates.requestsPerSecondPerTask / 3600;
  // Each pool's count holds the lines its chunks wrote, reused answers among them (which took
  // no GPU time); they are spread over the pools in proportion, as the count is not kept per pool.
  const written = done.spot + done.dedicated;
  const reused = Math.min(done.reused ?? 0, written);
  const ranShare = written > 0 ? (written - reused) / written : 1;
  const spot = hours(done.spot * ranShare) * rates.spotPerTaskHour;
  const dedicated = hours(done.dedicated * ranShare) * rates.onDemandPerTaskHour;
  const allDedicated = hours(written * ranShare) * rates.onDemandPerTaskHour;
  const savedByReuse =
    hours(done.spot * (1 - ranShare)) * rates.spotPerTaskHour +
    hours(done.dedicated * (1 - ranShare)) * rates.onDemandPerTaskHour;
  return {
    estimate: true,
    currency: 'usd',
    total: micro(spot + dedicated),
    by_pool: { spot: micro(spot), dedicated: micro(dedicated) },
    all_dedicated: micro(allDedicated),
    saving: micro(allDedicated - spot - dedicated),
    saved_by_reuse: micro(savedByReuse),
    basis: `${rates.requestsPerSecondPerTask} requests/s per task; $${rates.spotPerTaskHour} (spot) and $${rates.onDemandPerTaskHour} (on-demand) per task-hour`,
  };
}
