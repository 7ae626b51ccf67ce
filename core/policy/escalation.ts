import type { Escalation, PolicyBatch, PolicySettings, Pool } from './types.js';

/** Why a batch's work goes where it goes. */
export type RouteReason =
  /** Spot, with time to spare. */
  | 'spot'
  /** Escalated: the deadline pressure reached the priority's threshold (or stays above the de-escalation one). */
  | 'deadline'
  /** Past its deadline with work left: finish it as fast as possible. */
  | 'deadline-passed'
  /** Spot costs as much as On-Demand or more per unit of work (price inversion, or heavy interruptions). */
  | 'spot-not-cheaper'
  /** The deployment has no Spot capacity (max 0). */
  | 'no-spot-capacity'
  /** Escalation is due, but there is no dedicated capacity (max 0): the work stays on Spot, at risk. */
  | 'no-dedicated-capacity';

export interface Route {
  readonly batchId: string;
  /** The pool that answers for the batch's deadline: its chunks go there. */
  readonly pool: Pool;
  /**
   * Every pool that may serve the batch's chunks, `pool` first. An escalated batch keeps Spot as
   * a helper while Spot is cheaper (`spotHelpsEscalated`): dedicated capacity is the guarantee,
   * and whatever Spot does meanwhile is done for less.
   */
  readonly pools: readonly Pool[];
  /** The escalation to hand back in with the batch next time (hysteresis state). */
  readonly escalation: Escalation;
  /** The batch may miss its window: escalated for its deadline, or with nowhere better to go. */
  readonly atRisk: boolean;
  readonly pressure: number;
  readonly reason: RouteReason;
}

export interface RouteContext {
  readonly nowMs: number;
  /** The batch's deadline pressure (`deadlinePressure`). */
  readonly pressure: number;
  readonly spotIsCheaper: boolean;
  readonly spotMax: number;
  readonly dedicatedMax: number;
  readonly settings: Pick<
    PolicySettings,
    'escalateAt' | 'deescalateAt' | 'minEscalatedSeconds' | 'spotHelpsEscalated'
  >;
}

/**
 * Escalation with hysteresis: a batch on Spot escalates when its pressure reaches `escalateAt`
 * (by priority), or when its deadline has passed; an escalated batch comes back to Spot only
 * when its pressure is below `deescalateAt` and it has been escalated `minEscalatedSeconds`.
 * Between the two thresholds a batch keeps its state, so it does not flap.
 */
export function nextEscalation(
  batch: Pick<PolicyBatch, 'priority' | 'deadlineMs' | 'escalation'>,
  ctx: Pick<RouteContext, 'nowMs' | 'pressure' | 'settings'>,
): Escalation {
  const was = batch.escalation ?? { escalated: false, sinceMs: ctx.nowMs };
  const passed = ctx.nowMs >= batch.deadlineMs;
  if (!was.escalated) {
    return passed || ctx.pressure >= ctx.settings.escalateAt[batch.priority]
      ? { escalated: true, sinceMs: ctx.nowMs }
      : was;
  }
  const dwelt = ctx.nowMs - was.sinceMs >= ctx.settings.minEscalatedSeconds * 1000;
  if (!passed && dwelt && ctx.pressure < ctx.settings.deescalateAt[batch.priority]) {
    return { escalated: false, sinceMs: ctx.nowMs };
  }
  return was;
}

/** Which pool a batch's next chunks go to (and which may help), and why. */
export function routeBatch(batch: PolicyBatch, ctx: RouteContext): Route {
  const escalation = nextEscalation(batch, ctx);
  const base = { batchId: batch.id, escalation, pressure: ctx.pressure };
  const passed = ctx.nowMs >= batch.deadlineMs;
  const only = (pool: Pool) => ({ pool, pools: [pool] });
  if (ctx.dedicatedMax > 0 && (ctx.spotMax <= 0 || !ctx.spotIsCheaper)) {
    return {
      ...base,
      ...only('dedicated'),
      atRisk: escalation.escalated,
      reason: ctx.spotMax <= 0 ? 'no-spot-capacity' : 'spot-not-cheaper',
    };
  }
  if (!escalation.escalated) return { ...base, ...only('spot'), atRisk: false, reason: 'spot' };
  if (ctx.dedicatedMax <= 0)
    return { ...base, ...only('spot'), atRisk: true, reason: 'no-dedicated-capacity' };
  const pools: Pool[] = ctx.settings.spotHelpsEscalated ? ['dedicated', 'spot'] : ['dedicated'];
  return { ...base, pool: 'dedicated', pools, atRisk: true, reason: passed ? 'deadline-passed' : 'deadline' };
}
