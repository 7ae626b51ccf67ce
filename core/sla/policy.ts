import type { SlaSettings } from '../config.js';
import type { BatchPriority } from '../openai/schemas.js';

export type Pool = 'spot' | 'dedicated';

export interface RiskInput {
  nowMs: number;
  deadlineMs: number;
  remainingRequests: number;
  /** Requests per second the batch can count on (measured, or the configured assumption). */
  requestsPerSecond: number;
}

/**
 * The rule the system used before core/policy (kept for the simulator's comparison): a batch is at risk when finishing its remaining requests at the expected rate would take
 * more than `SLA_RISK_RATIO` of the time left. The ratio leaves room for spot capacity to
 * vanish after the check; escalation is cheaper than a missed window.
 */
export function isAtRisk(input: RiskInput, settings: Pick<SlaSettings, 'SLA_RISK_RATIO'>): boolean {
  const timeLeftS = (input.deadlineMs - input.nowMs) / 1000;
  if (timeLeftS <= 0) return true;
  const neededS = input.remainingRequests / input.requestsPerSecond;
  return neededS > timeLeftS * settings.SLA_RISK_RATIO;
}

/**
 * The rule the system used before core/policy (kept for the simulator's comparison, `todaysRule`):
 * high priority and at-risk batches on dedicated capacity, the rest on spot.
 */
export function choosePool(priority: BatchPriority, atRisk: boolean): Pool {
  return priority === 'high' || atRisk ? 'dedicated' : 'spot';
}
