import type { SlaSettings } from '../config.js';

export type Pool = 'spot' | 'dedicated';

export interface RiskInput {
  nowMs: number;
  deadlineMs: number;
  remainingRequests: number;
  /** Requests per second the batch can count on (measured, or the configured assumption). */
  requestsPerSecond: number;
}

/**
 * A batch is at risk when finishing its remaining requests at the expected rate would take
 * more than `SLA_RISK_RATIO` of the time left. The ratio leaves room for spot capacity to
 * vanish after the check; escalation is cheaper than a missed window.
 */
export function isAtRisk(input: RiskInput, settings: Pick<SlaSettings, 'SLA_RISK_RATIO'>): boolean {
  const timeLeftS = (input.deadlineMs - input.nowMs) / 1000;
  if (timeLeftS <= 0) return true;
  const neededS = input.remainingRequests / input.requestsPerSecond;
  return neededS > timeLeftS * settings.SLA_RISK_RATIO;
}

/** Where new work goes: high priority and at-risk batches on dedicated capacity, the rest on spot. */
export function choosePool(priority: 'normal' | 'high', atRisk: boolean): Pool {
  return priority === 'high' || atRisk ? 'dedicated' : 'spot';
}
