import type { MeasuredThroughput, Pool, PoolCapacity } from '../policy/index.js';

/**
 * What one worker task says about itself every METRICS_INTERVAL_SECONDS (the `pools` table, one
 * item per task, overwritten): that it runs, and what it did over the interval. The SLA monitor
 * reads a pool's reports to measure its throughput and count its tasks (`observePool`).
 */
export interface TaskReport {
  /** `<pool group>#<pool>`: the partition, one per pool of each pool group. */
  pool: string;
  /** The task (on ECS its host name, unique per task), with the worker's process id. */
  task: string;
  /** When the report was written, unix seconds. */
  at: number;
  /** Seconds the report covers. */
  interval_s: number;
  /** Requests the engine answered in the interval (any status: the engine's work, not the batch's). */
  answered: number;
  /** Milliseconds of the interval with at least one request at the engine. */
  busy_ms: number;
  /** DynamoDB TTL: a task gone for an hour leaves the table. */
  ttl: number;
}

export const poolKey = (group: string, pool: Pool): string => `${group}#${pool}`;

/** What a pool's recent reports say, for core/policy. */
export interface PoolObservation {
  /** Requests per busy second per task over the fresh reports, when they hold enough busy time. */
  requestsPerSecondPerTask?: number;
  /** Tasks whose report is fresh: running now. */
  running: number;
  /** Of those, tasks that had requests at the engine in their last interval. */
  busy: number;
}

/**
 * Reads a pool's reports at `nowS`. Fresh: written within two intervals and a half (a task that
 * stopped reporting is gone, or about to be). The rate is answered requests over busy seconds,
 * summed over the fresh reports, so a task that was busy a few seconds counts for a few seconds;
 * below `minBusySeconds` of busy time in all there is no measurement (the policy falls back).
 */
export function observePool(
  reports: readonly TaskReport[],
  nowS: number,
  opts: { minBusySeconds?: number } = {},
): PoolObservation {
  const fresh = reports.filter((r) => nowS - r.at <= Math.max(1, r.interval_s) * 2.5);
  const busy = fresh.filter((r) => r.busy_ms > 0);
  const busySeconds = busy.reduce((s, r) => s + r.busy_ms / 1000, 0);
  const answered = busy.reduce((n, r) => n + r.answered, 0);
  const measured = busySeconds >= (opts.minBusySeconds ?? 30) && answered > 0;
  return {
    ...(measured ? { requestsPerSecondPerTask: answered / busySeconds } : {}),
    running: fresh.length,
    busy: busy.length,
  };
}

/** The policy's measured throughput for `model`, from its pool group's pools. */
export function measuredFor(
  model: string,
  observations: Readonly<Record<Pool, PoolObservation>>,
): MeasuredThroughput[] {
  return (Object.entries(observations) as [Pool, PoolObservation][]).flatMap(([pool, o]) =>
    o.requestsPerSecondPerTask === undefined
      ? []
      : [{ pool, model, requestsPerSecondPerTask: o.requestsPerSecondPerTask }],
  );
}

/**
 * A pool's capacity with what its reports say: tasks that report are running (never fewer than
 * the configured minimum, which ECS keeps running), and the busy ones are busy.
 */
export function observedCapacity(configured: PoolCapacity, o: PoolObservation): PoolCapacity {
  const running = Math.min(configured.max, Math.max(configured.running, o.running));
  return { ...configured, running, busy: Math.min(running, Math.max(configured.busy ?? 0, o.busy)) };
}
