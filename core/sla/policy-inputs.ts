import type { BatchRecord } from '../batches/batch-record.js';
import type { Limits, SlaSettings } from '../config.js';
import { catalogOf, type PoolBounds, poolBoundsOf, poolGroupOf } from '../models/catalog.js';
import {
  defaultPolicySettings,
  interruptionRate,
  type MeasuredThroughput,
  type PolicyBatch,
  type PolicyInput,
  type PolicySettings,
  type Pool,
  type PoolCapacity,
  type Prices,
  taskRate,
} from '../policy/index.js';

/**
 * What core/policy is handed in the real system, from the deployment's settings, the batch
 * records and (in the SLA monitor) the pools' task reports: prices and the pools' bounds are what
 * the configuration says (core/config.ts, set by the CDK app from cdk/config.ts); throughput and
 * the tasks running are measured from the reports when there are any.
 */

type Settings = Pick<
  SlaSettings,
  | 'SLA_ASSUMED_REQUESTS_PER_SECOND'
  | 'SLA_TASK_STARTUP_SECONDS'
  | 'SLA_ADMISSION'
  | 'SLA_SPOT_MIN_TASKS'
  | 'SLA_SPOT_MAX_TASKS'
  | 'SLA_DEDICATED_MIN_TASKS'
  | 'SLA_DEDICATED_MAX_TASKS'
  | 'SLA_SPOT_PRICE_PER_TASK_HOUR'
  | 'SLA_ON_DEMAND_PRICE_PER_TASK_HOUR'
>;

export function policySettings(sla: Settings, limits: Pick<Limits, 'CHUNK_MAX_LINES'>): PolicySettings {
  return {
    ...defaultPolicySettings,
    assumedRequestsPerSecondPerTask: sla.SLA_ASSUMED_REQUESTS_PER_SECOND,
    chunkRequests: limits.CHUNK_MAX_LINES,
    taskStartupSeconds: sla.SLA_TASK_STARTUP_SECONDS,
    admission: sla.SLA_ADMISSION,
  };
}

/**
 * Each pool's bounds from the configuration: the pool group's own, where the model catalog gives
 * them (core/models/catalog.ts `poolBoundsOf`), else the deployment's SLA_* bounds. The tasks
 * surely running are the pool's minimum (kept running when idle); the policy counts a start-up
 * before any more serve, so it may ask for dedicated capacity a little early, never late.
 */
export function configuredCapacity(
  sla: Settings,
  group: Partial<Record<Pool, PoolBounds | undefined>> = {},
): Record<Pool, PoolCapacity> {
  const pool = (b: PoolBounds | undefined, min: number, max: number): PoolCapacity => {
    const [lo, hi] = b ? [b.min_tasks, b.max_tasks] : [min, max];
    return { running: Math.min(lo, hi), pending: 0, min: Math.min(lo, hi), max: hi };
  };
  return {
    spot: pool(group.spot, sla.SLA_SPOT_MIN_TASKS, sla.SLA_SPOT_MAX_TASKS),
    dedicated: pool(group.dedicated, sla.SLA_DEDICATED_MIN_TASKS, sla.SLA_DEDICATED_MAX_TASKS),
  };
}

type CapacityDeps = { sla: Settings; limits: Pick<Limits, 'MODEL_CATALOG' | 'MODELS'> };

/** The configured capacity of a pool group's pools. */
export const groupCapacity = (deps: CapacityDeps, group: string): Record<Pool, PoolCapacity> =>
  configuredCapacity(deps.sla, poolBoundsOf(catalogOf(deps.limits), group));

/** The configured capacity of the pools that run `model` (its pool group's). */
export const modelCapacity = (deps: CapacityDeps, model: string | undefined): Record<Pool, PoolCapacity> =>
  groupCapacity(deps, poolGroupOf(catalogOf(deps.limits), model || undefined));

export function configuredPrices(sla: Settings): Prices {
  return {
    spotPerTaskHour: sla.SLA_SPOT_PRICE_PER_TASK_HOUR,
    onDemandPerTaskHour: sla.SLA_ON_DEMAND_PRICE_PER_TASK_HOUR,
  };
}

/** Requests of a batch not yet completed, from its counters (the display fast path). */
export const remainingRequests = (r: Pick<BatchRecord, 'total' | 'completed' | 'failed'>): number =>
  Math.max(0, r.total - (r.completed ?? 0) - (r.failed ?? 0));

/** A batch record as the policy sees it; `remaining` overrides the counters (e.g. the exact count). */
export function toPolicyBatch(r: BatchRecord, remaining = remainingRequests(r)): PolicyBatch {
  return {
    id: r.id,
    tenant: r.tenant,
    priority: r.priority,
    createdMs: r.created_at * 1000,
    deadlineMs: r.expires_at * 1000,
    remainingRequests: remaining,
    ...(r.escalation
      ? { escalation: { escalated: r.escalation.escalated, sinceMs: r.escalation.since_ms } }
      : {}),
  };
}

/**
 * Recent Spot interruptions per task-hour, from the running batches' counters: the interruptions
 * their chunks met, over the Spot task-hours their Spot requests took at `requestsPerSecondPerTask`
 * (smoothed by the policy's prior, `interruptionRate`).
 */
export function observedInterruptionRate(
  batches: readonly Pick<BatchRecord, 'interruptions' | 'spot_requests'>[],
  requestsPerSecondPerTask: number,
  settings: Pick<PolicySettings, 'priorInterruptionsPerTaskHour' | 'priorTaskHours'>,
): number {
  const interruptions = batches.reduce((n, b) => n + (b.interruptions ?? 0), 0);
  const spotRequests = batches.reduce((n, b) => n + (b.spot_requests ?? 0), 0);
  const spotTaskHours = requestsPerSecondPerTask > 0 ? spotRequests / requestsPerSecondPerTask / 3600 : 0;
  return interruptionRate({ interruptions, spotTaskHours }, settings);
}

/**
 * What the pools' task reports say (core/pools/task-report.ts): measured throughput and the
 * tasks running and busy. Absent (the scheduler, admission at create), the policy falls back to
 * the assumed rate and the configured minimum.
 */
export interface Observed {
  measured: readonly MeasuredThroughput[];
  capacity: Record<Pool, PoolCapacity>;
}

/** The policy's input for `batches` at `nowMs`, with the configured capacity and prices, or the observed ones. */
export function policyInput(
  deps: { sla: Settings; limits: Pick<Limits, 'CHUNK_MAX_LINES' | 'MODEL_CATALOG' | 'MODELS'> },
  nowMs: number,
  model: string,
  batches: readonly PolicyBatch[],
  records: readonly Pick<BatchRecord, 'interruptions' | 'spot_requests'>[],
  observed?: Observed,
): PolicyInput {
  const settings = policySettings(deps.sla, deps.limits);
  const measured = observed?.measured ?? [];
  return {
    nowMs,
    model,
    batches,
    measured,
    // Spot task-hours from the Spot requests at Spot's rate, measured when it is.
    interruptionsPerTaskHour: observedInterruptionRate(
      records,
      taskRate('spot', model, measured, settings).requestsPerSecondPerTask,
      settings,
    ),
    prices: configuredPrices(deps.sla),
    capacity: observed?.capacity ?? modelCapacity(deps, model),
    settings,
  };
}
