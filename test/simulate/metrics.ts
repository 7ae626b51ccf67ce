import type { SimResult } from './engine.js';

/** Nearest-rank percentile (p in [0, 100]) of `values`; NaN for none. Infinity sorts last. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[rank - 1] as number;
}

/** A batch counts as small at or under this many requests, and as large from LARGE_REQUESTS. */
export const SMALL_REQUESTS = 5_000;
export const LARGE_REQUESTS = 100_000;

export interface Summary {
  readonly policy: string;
  readonly trace: string;
  readonly runs: number;
  readonly batches: number;
  readonly rejected: number;
  /** Batches finished inside their window, of all that arrived (a refused batch did not). */
  readonly metShare: number;
  readonly cost: number;
  /** Cost over all-dedicated's cost on the same workloads and trace. */
  readonly costVsDedicated: number;
  readonly spotShareOfCost: number;
  /** Finish time (from creation) over the window, of accepted batches; Infinity for unfinished. */
  readonly finishP50: number;
  readonly finishP99: number;
  /** Minutes from arrival to the first chunk started, for small batches arriving while a large one runs. */
  readonly smallWaitP50Min: number;
  readonly smallWaitP99Min: number;
  readonly smallBatchesBehindLarge: number;
  readonly interruptions: number;
  readonly lostTaskHours: number;
}

/** Pools the runs of one policy over one trace (several seeds) into one summary. */
export function summarize(runs: readonly SimResult[], dedicatedCost: number): Summary {
  const first = runs[0];
  if (!first) throw new Error('no runs to summarize');
  let batches = 0;
  let rejected = 0;
  let met = 0;
  let cost = 0;
  let spot = 0;
  let interruptions = 0;
  let lost = 0;
  const finish: number[] = [];
  const waits: number[] = [];
  for (const r of runs) {
    cost += r.cost;
    spot += r.costByPool.spot;
    interruptions += r.interruptions;
    lost += r.lostTaskSeconds / 3600;
    for (const b of r.batches) {
      batches += 1;
      if (b.rejected) {
        rejected += 1;
        continue;
      }
      const took = b.finishS === undefined ? Number.POSITIVE_INFINITY : b.finishS - b.spec.arrivalS;
      if (took <= b.spec.windowS) met += 1;
      finish.push(took / b.spec.windowS);
      if (b.spec.requests <= SMALL_REQUESTS && largeRunning(r, b.spec.arrivalS)) {
        waits.push(((b.firstStartS ?? Number.POSITIVE_INFINITY) - b.spec.arrivalS) / 60);
      }
    }
  }
  return {
    policy: first.policy,
    trace: first.trace,
    runs: runs.length,
    batches,
    rejected,
    metShare: met / batches,
    cost,
    costVsDedicated: cost / dedicatedCost,
    spotShareOfCost: cost > 0 ? spot / cost : 0,
    finishP50: percentile(finish, 50),
    finishP99: percentile(finish, 99),
    smallWaitP50Min: percentile(waits, 50),
    smallWaitP99Min: percentile(waits, 99),
    smallBatchesBehindLarge: waits.length,
    interruptions,
    lostTaskHours: lost,
  };
}

function largeRunning(run: SimResult, atS: number): boolean {
  return run.batches.some(
    (b) =>
      b.spec.requests >= LARGE_REQUESTS &&
      !b.rejected &&
      b.spec.arrivalS <= atS &&
      (b.finishS === undefined || b.finishS > atS),
  );
}
