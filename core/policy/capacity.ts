import { byDeadline } from './pressure.js';
import type { PolicyBatch, PolicySettings, PoolCapacity } from './types.js';

export interface DesiredTasksInput {
  readonly nowMs: number;
  /** The batches whose work this pool serves now, with their remaining requests. */
  readonly batches: readonly Pick<PolicyBatch, 'id' | 'deadlineMs' | 'createdMs' | 'remainingRequests'>[];
  /** Useful requests per second of one task (for Spot: net of interruption losses). */
  readonly requestsPerSecondPerTask: number;
  readonly capacity: PoolCapacity;
  readonly settings: Pick<PolicySettings, 'minWorkSecondsPerTask' | 'taskStartupSeconds'>;
}

/**
 * Tasks a pool should run (started and starting together), between its min and max:
 * - enough to finish every batch by its deadline, serving earliest deadline first (counting the
 *   start-up of new tasks when the pool has fewer than that running), and
 * - otherwise as many as the work keeps busy for `minWorkSecondsPerTask` each: the work costs
 *   the same task-hours on few tasks or many, so it is drained fast, which leaves slack for
 *   interruptions, but not so thinly that start-up dominates the bill;
 * - never fewer than the tasks busy with a chunk now; none (the pool's min) without work.
 * With no throughput (a rate of 0) and work waiting, the pool asks for its max.
 */
export function desiredTasks(input: DesiredTasksInput): number {
  const { capacity, settings } = input;
  const ordered = byDeadline(input.batches);
  const rate = input.requestsPerSecondPerTask;
  let wanted = 0;
  if (ordered.length > 0) {
    if (!(rate > 0)) {
      wanted = capacity.max;
    } else {
      const total = ordered.reduce((n, b) => n + b.remainingRequests, 0);
      wanted = Math.ceil(total / rate / settings.minWorkSecondsPerTask);
      let work = 0;
      for (const b of ordered) {
        work += b.remainingRequests;
        const leftS = (b.deadlineMs - input.nowMs) / 1000;
        // Tasks already running serve at once; any more pay their start-up first.
        const running = capacity.running;
        const withRunning = leftS > 0 ? Math.ceil(work / rate / leftS) : Number.POSITIVE_INFINITY;
        const needed =
          withRunning <= running
            ? withRunning
            : leftS > settings.taskStartupSeconds
              ? Math.ceil(work / rate / (leftS - settings.taskStartupSeconds))
              : Number.POSITIVE_INFINITY;
        wanted = Math.max(wanted, needed);
      }
    }
  }
  const floor = Math.max(capacity.min, capacity.busy ?? 0);
  return Math.max(floor, Math.min(capacity.max, wanted));
}
