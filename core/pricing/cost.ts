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
export function estimateCost(ran: { spot: number; dedicated: number }, rates: CostRates): CostEstimate {
  const hours = (requests: number) => requests / rates.requestsPerSecondPerTask / 3600;
  const spot = hours(ran.spot) * rates.spotPerTaskHour;
  const dedicated = hours(ran.dedicated) * rates.onDemandPerTaskHour;
  const allDedicated = hours(ran.spot + ran.dedicated) * rates.onDemandPerTaskHour;
  return {
    estimate: true,
    currency: 'usd',
    total: micro(spot + dedicated),
    by_pool: { spot: micro(spot), dedicated: micro(dedicated) },
    all_dedicated: micro(allDedicated),
    saving: micro(allDedicated - spot - dedicated),
    basis: `${rates.requestsPerSecondPerTask} requests/s per task; $${rates.spotPerTaskHour} (spot) and $${rates.onDemandPerTaskHour} (on-demand) per task-hour`,
  };
}
