import { Rng, subSeed } from './rng.js';

/** A window of simulated time, seconds [from, to). */
export interface Window {
  readonly from: number;
  readonly to: number;
}

/**
 * A Spot interruption trace: each running Spot task is interrupted at `ratePerHour` (per
 * task-hour, a Poisson hazard), raised to `burst.ratePerHour` inside burst windows, in which no
 * Spot task can be launched either (the capacity pool is drained).
 */
export interface InterruptionTrace {
  readonly name: string;
  readonly ratePerHour: number;
  readonly bursts: readonly Window[];
  readonly burstRatePerHour: number;
  /** Spot launches fail in these windows (capacity not available). */
  readonly outages: readonly Window[];
}

export const constantTrace = (ratePerHour: number): InterruptionTrace => ({
  name: `spot-${Math.round(ratePerHour * 100)}%/h`,
  ratePerHour,
  bursts: [],
  burstRatePerHour: ratePerHour,
  outages: [],
});

/**
 * Bursty: 3 %/h most of the time, and `count` bursts of 30 minutes at 300 %/h (three in four
 * tasks lost within the burst) at seeded random times, each followed by 30 more minutes in which
 * no Spot capacity can be launched. About 20 %/h on average over 36 hours.
 */
export function burstyTrace(seed: number, horizonS: number, count = 4): InterruptionTrace {
  const rng = new Rng(subSeed(seed, 7));
  const bursts: Window[] = [];
  for (let i = 0; i < count; i++) {
    const from = Math.floor(rng.next() * (horizonS - 3600));
    bursts.push({ from, to: from + 1800 });
  }
  bursts.sort((a, b) => a.from - b.from);
  return {
    name: 'bursty',
    ratePerHour: 0.03,
    bursts,
    burstRatePerHour: 3,
    outages: bursts.map((b) => ({ from: b.from, to: b.to + 1800 })),
  };
}

export const inWindow = (windows: readonly Window[], t: number): boolean =>
  windows.some((w) => t >= w.from && t < w.to);

/** Whether a Spot task can be launched at time `t`. */
export const spotLaunchable = (trace: InterruptionTrace, t: number): boolean => !inWindow(trace.outages, t);

/**
 * Seconds from `launchAt` until a task launched then is interrupted (Infinity: never), drawn from
 * the trace's piecewise-constant hazard with one exponential variate: the hazard is integrated
 * forward until it reaches the variate.
 */
export function lifetime(trace: InterruptionTrace, launchAt: number, rng: Rng): number {
  let budget = rng.exp();
  let t = launchAt;
  const edges = trace.bursts.flatMap((b) => [b.from, b.to]).filter((e) => e > launchAt);
  edges.sort((a, b) => a - b);
  for (const edge of [...edges, Number.POSITIVE_INFINITY]) {
    const rate = (inWindow(trace.bursts, t) ? trace.burstRatePerHour : trace.ratePerHour) / 3600;
    if (rate > 0) {
      const reach = t + budget / rate;
      if (reach <= edge) return reach - launchAt;
      budget -= (edge - t) * rate;
    }
    if (!Number.isFinite(edge)) return Number.POSITIVE_INFINITY;
    t = edge;
  }
  return Number.POSITIVE_INFINITY;
}
