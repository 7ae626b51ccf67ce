import type { MeasuredThroughput, PolicySettings, Pool, Prices } from './types.js';

export interface TaskRate {
  readonly requestsPerSecondPerTask: number;
  /** Where the figure comes from: this pool's measurement, the other pool's, or the assumption. */
  readonly source: 'measured' | 'other-pool' | 'assumed';
}

/**
 * Requests per second one busy task of `pool` completes for `model`. Fallback when the pool has
 * no measurement for the model: the other pool's (same engine, same instance types), then
 * `assumedRequestsPerSecondPerTask`. Non-positive or non-finite measurements are ignored.
 */
export function taskRate(
  pool: Pool,
  model: string,
  measured: readonly MeasuredThroughput[],
  settings: Pick<PolicySettings, 'assumedRequestsPerSecondPerTask'>,
): TaskRate {
  const usable = (p: Pool) =>
    measured.find(
      (m) =>
        m.pool === p &&
        m.model === model &&
        Number.isFinite(m.requestsPerSecondPerTask) &&
        m.requestsPerSecondPerTask > 0,
    );
  const own = usable(pool);
  if (own) return { requestsPerSecondPerTask: own.requestsPerSecondPerTask, source: 'measured' };
  const other = usable(pool === 'spot' ? 'dedicated' : 'spot');
  if (other) return { requestsPerSecondPerTask: other.requestsPerSecondPerTask, source: 'other-pool' };
  return { requestsPerSecondPerTask: settings.assumedRequestsPerSecondPerTask, source: 'assumed' };
}

/**
 * Recent Spot interruptions per task-hour, smoothed by a prior so that the first minutes of Spot
 * time (no interruption yet, or one) do not swing the estimate to 0 or to hundreds per hour:
 * (interruptions + prior rate x prior hours) / (observed hours + prior hours).
 */
export function interruptionRate(
  observed: { interruptions: number; spotTaskHours: number },
  settings: Pick<PolicySettings, 'priorInterruptionsPerTaskHour' | 'priorTaskHours'>,
): number {
  const hours = Math.max(0, observed.spotTaskHours) + settings.priorTaskHours;
  if (hours <= 0) return settings.priorInterruptionsPerTaskHour;
  return (
    (Math.max(0, observed.interruptions) + settings.priorInterruptionsPerTaskHour * settings.priorTaskHours) /
    hours
  );
}

/** Share of a Spot task's time lost to interruptions (re-run work and replacement start-up), at most 0.95. */
export function spotLossFraction(
  interruptionsPerTaskHour: number,
  settings: Pick<PolicySettings, 'secondsLostPerInterruption'>,
): number {
  const lost = (Math.max(0, interruptionsPerTaskHour) * settings.secondsLostPerInterruption) / 3600;
  return Math.min(0.95, lost);
}

/**
 * Whether Spot is worth using at all: its price per unit of useful work (the price over the share
 * of time not lost to interruptions) is below On-Demand's. False on a price inversion, where
 * Spot costs as much as On-Demand or more.
 */
export function spotIsCheaper(
  prices: Prices,
  interruptionsPerTaskHour: number,
  settings: Pick<PolicySettings, 'secondsLostPerInterruption'>,
): boolean {
  const useful = 1 - spotLossFraction(interruptionsPerTaskHour, settings);
  return prices.spotPerTaskHour / useful < prices.onDemandPerTaskHour;
}
