import type { Pool } from '../sla/policy.js';

export type { Pool };

/** The two capacity pools of a model: Spot (cheap, interruptible) and On-Demand ("dedicated"). */
export const pools: readonly Pool[] = ['spot', 'dedicated'];

export type Priority = 'low' | 'normal' | 'high';

/** Whether a batch's work was moved to dedicated capacity for its deadline, and since when. */
export interface Escalation {
  readonly escalated: boolean;
  /** When `escalated` last changed (ms since the epoch); the de-escalation dwell counts from here. */
  readonly sinceMs: number;
}

/** A running batch as the policy sees it: every figure is handed in, nothing is looked up. */
export interface PolicyBatch {
  readonly id: string;
  readonly tenant: string;
  readonly priority: Priority;
  readonly createdMs: number;
  /** The end of the completion window (ms since the epoch). */
  readonly deadlineMs: number;
  /** Requests not yet completed. */
  readonly remainingRequests: number;
  /** The escalation the previous decision returned for this batch; absent for a new batch. */
  readonly escalation?: Escalation;
}

/** A throughput measurement: completed requests per second of one busy task of a pool, for one model. */
export interface MeasuredThroughput {
  readonly pool: Pool;
  readonly model: string;
  readonly requestsPerSecondPerTask: number;
}

/** Prices per task-hour (one task is one GPU instance's engine). */
export interface Prices {
  readonly spotPerTaskHour: number;
  readonly onDemandPerTaskHour: number;
}

export interface PoolCapacity {
  /** Tasks running (started and serving). */
  readonly running: number;
  /** Tasks launched and still starting. */
  readonly pending: number;
  /** Seconds until the pending tasks serve (at most the start-up). @default the start-up */
  readonly pendingReadySeconds?: number;
  /** Bounds of the pool's task count (the deployment's minWorkers and maxWorkers). */
  readonly min: number;
  readonly max: number;
  /** Tasks working on a chunk now: the desired count never drops below it. @default 0 */
  readonly busy?: number;
}

export interface PolicySettings {
  /**
   * Requests per second of one task when nothing is measured yet for the pool and model, nor for
   * the other pool of the same model (the same engine on the same instance types). The same
   * meaning as SLA_ASSUMED_REQUESTS_PER_SECOND; keep it on the low side, it only makes the
   * policy escalate earlier.
   */
  readonly assumedRequestsPerSecondPerTask: number;
  /** Requests in the largest chunk (CHUNK_MAX_LINES): one chunk runs on one task. */
  readonly chunkRequests: number;
  /** Seconds from launching a task to its engine serving (instance, image, weights, engine start). */
  readonly taskStartupSeconds: number;
  /**
   * Work lost per Spot interruption, in task-seconds: the replacement's start-up plus the part of
   * the chunk in flight that runs again. Turns an interruption rate into a throughput loss.
   */
  readonly secondsLostPerInterruption: number;
  /**
   * Spot interruption rate (per task-hour) assumed before any Spot time was observed, and the
   * weight of that prior in task-hours (see `interruptionRate`).
   */
  readonly priorInterruptionsPerTaskHour: number;
  readonly priorTaskHours: number;
  /**
   * Deadline pressure (see `deadlinePressure`) at which a batch escalates to dedicated capacity,
   * by priority: lower for high priority, which keeps a wider margin.
   */
  readonly escalateAt: Readonly<Record<Priority, number>>;
  /** Pressure under which an escalated batch goes back to Spot: well below `escalateAt` (hysteresis). */
  readonly deescalateAt: Readonly<Record<Priority, number>>;
  /** An escalated batch stays on dedicated capacity at least this long (no flapping). */
  readonly minEscalatedSeconds: number;
  /**
   * Spot keeps serving an escalated batch beside dedicated capacity (while Spot is cheaper): the
   * dedicated pool is sized to finish it alone, and every chunk Spot takes costs less. @default true
   */
  readonly spotHelpsEscalated: boolean;
  /**
   * A pool runs no more tasks than its queued work keeps busy for this long each: a task that
   * starts for a minute of work spends most of its bill starting.
   */
  readonly minWorkSecondsPerTask: number;
  /**
   * The window over which fair shares are measured: a batch's recent service is the requests of
   * its chunks started on the pool in the last this many seconds (see `pickNext`).
   */
  readonly fairShareWindowSeconds: number;
  /** Fair-share weights of the priorities. */
  readonly priorityWeights: Readonly<Record<Priority, number>>;
  /** A batch that cannot meet its window on the largest dedicated capacity: refused, or accepted with a warning. */
  readonly admission: 'reject' | 'warn';
}

/**
 * Defaults, chosen in the simulator (docs/policy.md): thresholds leave a margin of 1/0.7 (normal)
 * over the time the remaining work needs on full dedicated capacity, and de-escalation waits for
 * half that pressure and ten minutes.
 */
export const defaultPolicySettings: PolicySettings = {
  assumedRequestsPerSecondPerTask: 5,
  chunkRequests: 2000,
  taskStartupSeconds: 180,
  secondsLostPerInterruption: 300,
  priorInterruptionsPerTaskHour: 0.1,
  priorTaskHours: 1,
  escalateAt: { low: 0.8, normal: 0.7, high: 0.5 },
  deescalateAt: { low: 0.4, normal: 0.35, high: 0.25 },
  minEscalatedSeconds: 600,
  spotHelpsEscalated: true,
  minWorkSecondsPerTask: 7200,
  fairShareWindowSeconds: 900,
  priorityWeights: { low: 1, normal: 2, high: 4 },
  admission: 'reject',
};

/** Everything one decision needs, for the two pools of one model. */
export interface PolicyInput {
  readonly nowMs: number;
  readonly model: string;
  /** The model's running batches (those with no work left are ignored). */
  readonly batches: readonly PolicyBatch[];
  readonly measured: readonly MeasuredThroughput[];
  /** Recent Spot interruptions per task-hour (see `interruptionRate`). */
  readonly interruptionsPerTaskHour: number;
  readonly prices: Prices;
  readonly capacity: Readonly<Record<Pool, PoolCapacity>>;
  readonly settings: PolicySettings;
}
