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

/**
 * What the SLA monitor last asked a pool for (the `pools` table, under its own partition
 * `<group>#<pool>#asked`, so a pool's task reports never include it): the desired task count it
 * published, and when that count last went up. Tasks asked for and not reporting yet are the
 * ones ECS is still starting (`pendingTasks`).
 */
export interface AskedRecord {
  pool: string;
  task: 'asked';
  desired: number;
  /** When `desired` last went up, unix seconds. */
  raised_at: number;
  /** When it was written, unix seconds. */
  at: number;
  ttl: number;
}

export const askedKey = (group: string, pool: Pool): string => `${poolKey(group, pool)}#asked`;

/**
 * The record after a sweep at `nowS` asked for `desired`; undefined when nothing changed (the
 * stored one stays). A record older than `freshS` says nothing about now (the SLA monitor
 * stopped, or the pool had no work): it counts as a count of 0.
 */
export function nextAsked(
  prev: AskedRecord | undefined,
  key: string,
  desired: number,
  nowS: number,
  freshS: number,
): AskedRecord | undefined {
  const fresh = prev !== undefined && nowS - prev.at <= freshS;
  const before = fresh ? prev.desired : 0;
  // Rewritten while it changes, and now and then to stay fresh.
  if (fresh && desired === before && nowS - prev.at < freshS / 2) return undefined;
  const raisedAt = desired > before ? nowS : fresh ? prev.raised_at : nowS;
  return { pool: key, task: 'asked', desired, raised_at: raisedAt, at: nowS, ttl: nowS + 86_400 };
}

/**
 * Tasks asked for and not running yet, and the seconds until they serve: the start-up less the
 * time since the count went up. Asked for more than two start-ups ago and still not running,
 * they are not coming (no capacity to place them): none.
 */
export function pendingTasks(
  asked: AskedRecord | undefined,
  running: number,
  nowS: number,
  startupS: number,
): { pending: number; readySeconds: number } {
  const since = asked ? nowS - asked.raised_at : Number.POSITIVE_INFINITY;
  if (!asked || since > 2 * startupS) return { pending: 0, readySeconds: startupS };
  return { pending: Math.max(0, asked.desired - running), readySeconds: Math.max(0, startupS - since) };
}

/** What a pool's recent reports say, for core/policy. */
export interface PoolObservation {
  /** Requests per busy second per task over the fresh reports, when they hold enough busy time. */
  requestsPerSecondPerTask?: number;
  /** Tasks whose report is fresh: running now. */
  running: number;
  /** Of those, tasks that had requests at the engine in their last interval. */
  busy: number;
  /** Tasks asked for and still starting (`pendingTasks`), and the seconds until they serve. */
  pending?: number;
  pendingReadySeconds?: number;
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
 * the configured minimum, which ECS keeps running), and the busy ones are busy; tasks asked for
 * and not reporting yet are pending, up to the pool's maximum.
 */
export function observedCapacity(configured: PoolCapacity, o: PoolObservation): PoolCapacity {
  const running = Math.min(configured.max, Math.max(configured.running, o.running));
  const pending = Math.min(configured.max - running, Math.max(0, (o.pending ?? 0) - (running - o.running)));
  return {
    ...configured,
    running,
    pending,
    ...(pending > 0 && o.pendingReadySeconds !== undefined
      ? { pendingReadySeconds: o.pendingReadySeconds }
      : {}),
    busy: Math.min(running, Math.max(configured.busy ?? 0, o.busy)),
  };
}
