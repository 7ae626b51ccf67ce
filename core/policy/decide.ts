import { desiredTasks } from './capacity.js';
import { type Route, routeBatch } from './escalation.js';
import { fairShares } from './fair-share.js';
import { deadlinePressure, startupOfMax } from './pressure.js';
import { spotIsCheaper, spotLossFraction, type TaskRate, taskRate } from './throughput.js';
import type { PolicyInput, Pool } from './types.js';

export interface PolicyDecision {
  readonly nowMs: number;
  /** One route per batch with work left, in the order of the input. */
  readonly routes: readonly Route[];
  /** Tasks each pool should run (started and starting together), within its min and max. */
  readonly desiredTasks: Readonly<Record<Pool, number>>;
  /** Each batch's fair share of each pool that serves it (`pickNext` weighs chunks with it). */
  readonly shares: Readonly<Record<Pool, ReadonlyMap<string, number>>>;
  /** The per-task rates the decision assumed (measured, or the documented fallback). */
  readonly rates: Readonly<Record<Pool, TaskRate>>;
  /** Share of Spot time lost to interruptions, from the interruption rate. */
  readonly spotLoss: number;
  /** False on a price inversion: every batch goes to dedicated capacity while it lasts. */
  readonly spotIsCheaper: boolean;
  readonly atRisk: readonly string[];
}

/**
 * The policy for one model's two pools, from the inputs alone: where each batch's next chunks
 * go (escalation and de-escalation), how many tasks each pool should run, and the fair shares
 * that order the chunks within a pool. Pure: the same input gives the same decision.
 */
export function decide(input: PolicyInput): PolicyDecision {
  const { settings, capacity } = input;
  const rates: Record<Pool, TaskRate> = {
    spot: taskRate('spot', input.model, input.measured, settings),
    dedicated: taskRate('dedicated', input.model, input.measured, settings),
  };
  const spotLoss = spotLossFraction(input.interruptionsPerTaskHour, settings);
  const cheaper = spotIsCheaper(input.prices, input.interruptionsPerTaskHour, settings);
  const active = input.batches.filter((b) => b.remainingRequests > 0);
  const pressure = deadlinePressure(active, {
    nowMs: input.nowMs,
    capacityRequestsPerSecond: capacity.dedicated.max * rates.dedicated.requestsPerSecondPerTask,
    startupSeconds: startupOfMax(capacity.dedicated, settings.taskStartupSeconds),
    taskRequestsPerSecond: rates.dedicated.requestsPerSecondPerTask,
    chunkRequests: settings.chunkRequests,
  });
  const routes = active.map((b) =>
    routeBatch(b, {
      nowMs: input.nowMs,
      pressure: pressure.get(b.id) ?? 0,
      spotIsCheaper: cheaper,
      spotMax: capacity.spot.max,
      dedicatedMax: capacity.dedicated.max,
      settings,
    }),
  );
  const poolsOf = new Map(routes.map((r) => [r.batchId, r.pools]));
  const onPool = (pool: Pool) => active.filter((b) => poolsOf.get(b.id)?.includes(pool));
  const useful: Record<Pool, number> = {
    spot: rates.spot.requestsPerSecondPerTask * (1 - spotLoss),
    dedicated: rates.dedicated.requestsPerSecondPerTask,
  };
  const desired = {} as Record<Pool, number>;
  const shares = {} as Record<Pool, ReadonlyMap<string, number>>;
  for (const pool of ['spot', 'dedicated'] as const) {
    const batches = onPool(pool);
    desired[pool] = desiredTasks({
      nowMs: input.nowMs,
      batches,
      requestsPerSecondPerTask: useful[pool],
      capacity: capacity[pool],
      settings,
    });
    shares[pool] = fairShares(batches, settings);
  }
  return {
    nowMs: input.nowMs,
    routes,
    desiredTasks: desired,
    shares,
    rates,
    spotLoss,
    spotIsCheaper: cheaper,
    atRisk: routes.filter((r) => r.atRisk).map((r) => r.batchId),
  };
}
