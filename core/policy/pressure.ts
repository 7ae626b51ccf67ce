import type { PolicyBatch, PoolCapacity } from './types.js';

/** Batches in earliest-deadline-first order (ties: created first, then id), those with work left only. */
export function byDeadline<
  B extends Pick<PolicyBatch, 'id' | 'deadlineMs' | 'createdMs' | 'remainingRequests'>,
>(batches: readonly B[]): B[] {
  return batches
    .filter((b) => b.remainingRequests > 0)
    .sort((a, b) => a.deadlineMs - b.deadlineMs || a.createdMs - b.createdMs || a.id.localeCompare(b.id));
}

/**
 * Seconds before a pool's largest capacity serves: none when every task it may run is running;
 * the pending tasks' time left when those make up the rest (they were launched a while ago);
 * else a whole start-up.
 */
export function startupOfMax(capacity: PoolCapacity, taskStartupSeconds: number): number {
  if (capacity.running >= capacity.max) return 0;
  if (capacity.running + capacity.pending >= capacity.max)
    return Math.min(taskStartupSeconds, Math.max(0, capacity.pendingReadySeconds ?? taskStartupSeconds));
  return taskStartupSeconds;
}

export interface PressureOptions {
  readonly nowMs: number;
  /** Requests per second of the whole fallback capacity (every dedicated task the pool may run). */
  readonly capacityRequestsPerSecond: number;
  /** Seconds before that capacity serves (0 when it is already running). */
  readonly startupSeconds: number;
  /**
   * Requests per second of one task and the largest chunk: a chunk runs on one task, so a batch
   * needs at least its largest chunk's time however many tasks serve it. @default no floor
   */
  readonly taskRequestsPerSecond?: number;
  readonly chunkRequests?: number;
}

/**
 * Deadline pressure of each batch: how much of its time left the fallback capacity would need to
 * finish it, serving batches earliest deadline first. For the k-th batch in deadline order it is
 * (start-up + the work of batches 1..k at the fallback rate) / time left to batch k's deadline;
 * never less than its largest chunk on one task. A batch then takes the largest pressure of itself and every later-deadline batch, because a
 * later batch that is short of time needs the earlier ones off the capacity first. Below 1 the
 * fallback can still finish every batch in time; at or past the deadline, or with no fallback
 * capacity, the pressure is infinite.
 */
export function deadlinePressure(
  batches: readonly PolicyBatch[],
  opts: PressureOptions,
): Map<string, number> {
  const ordered = byDeadline(batches);
  const own: number[] = [];
  let work = 0;
  for (const b of ordered) {
    work += b.remainingRequests;
    const leftS = (b.deadlineMs - opts.nowMs) / 1000;
    const chunkS =
      opts.taskRequestsPerSecond && opts.chunkRequests
        ? Math.min(b.remainingRequests, opts.chunkRequests) / opts.taskRequestsPerSecond
        : 0;
    const needS =
      opts.capacityRequestsPerSecond > 0
        ? opts.startupSeconds + Math.max(work / opts.capacityRequestsPerSecond, chunkS)
        : Number.POSITIVE_INFINITY;
    own.push(leftS <= 0 ? Number.POSITIVE_INFINITY : needS / leftS);
  }
  const result = new Map<string, number>();
  let worst = 0;
  for (let i = ordered.length - 1; i >= 0; i--) {
    worst = Math.max(worst, own[i] ?? 0);
    const b = ordered[i];
    if (b) result.set(b.id, worst);
  }
  return result;
}
