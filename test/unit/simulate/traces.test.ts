import { describe, expect, it } from 'vitest';
import { Rng } from '../../simulate/rng.js';
import {
  burstyTrace,
  constantTrace,
  type InterruptionTrace,
  lifetime,
  spotLaunchable,
} from '../../simulate/traces.js';

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

describe('Rng', () => {
  it('gives the same sequence for the same seed, another for another seed', () => {
    const a = new Rng(42);
    const b = new Rng(42);
    const c = new Rng(43);
    const seq = (r: Rng) => Array.from({ length: 5 }, () => r.next());
    const sa = seq(a);
    expect(seq(b)).toEqual(sa);
    expect(seq(c)).not.toEqual(sa);
    expect(sa.every((x) => x >= 0 && x < 1)).toBe(true);
  });

  it('draws exponentials with mean 1', () => {
    const r = new Rng(7);
    expect(mean(Array.from({ length: 20_000 }, () => r.exp()))).toBeCloseTo(1, 1);
  });
});

describe('interruption traces', () => {
  it.each([0.05, 0.1, 0.2])('a constant %s per task-hour gives a mean life of 1/rate hours', (rate) => {
    const r = new Rng(1);
    const trace = constantTrace(rate);
    const lives = Array.from({ length: 20_000 }, () => lifetime(trace, 1000, r) / 3600);
    expect(mean(lives)).toBeGreaterThan((1 / rate) * 0.95);
    expect(mean(lives)).toBeLessThan((1 / rate) * 1.05);
  });

  it('never interrupts at a zero rate', () => {
    expect(lifetime(constantTrace(0), 0, new Rng(1))).toBe(Number.POSITIVE_INFINITY);
  });

  it('interrupts most tasks inside a burst, and launches nothing during its outage', () => {
    const trace: InterruptionTrace = {
      name: 'one burst',
      ratePerHour: 0.03,
      bursts: [{ from: 3600, to: 5400 }],
      burstRatePerHour: 3,
      outages: [{ from: 3600, to: 7200 }],
    };
    const r = new Rng(5);
    const lives = Array.from({ length: 4000 }, () => lifetime(trace, 3600, r));
    // 300 %/h for 30 minutes: 1 - e^-1.5 = 78 % lost within the burst.
    const within = lives.filter((l) => l <= 1800).length / lives.length;
    expect(within).toBeGreaterThan(0.75);
    expect(within).toBeLessThan(0.81);
    // Launched an hour before the burst: about 3 % lost before it, then the burst.
    const before = Array.from({ length: 4000 }, () => lifetime(trace, 0, r));
    expect(before.filter((l) => l <= 3600).length / before.length).toBeLessThan(0.05);
    expect(before.filter((l) => l <= 5400).length / before.length).toBeGreaterThan(0.75);
    expect([3599, 3600, 7199, 7200].map((t) => spotLaunchable(trace, t))).toEqual([true, false, false, true]);
  });

  it('makes bursty traces of four 30-minute bursts, each with a 1-hour outage', () => {
    const trace = burstyTrace(3, 36 * 3600);
    expect(trace.bursts).toHaveLength(4);
    for (const [i, b] of trace.bursts.entries()) {
      expect(b.to - b.from).toBe(1800);
      expect(trace.outages[i]).toEqual({ from: b.from, to: b.to + 1800 });
    }
  });

  it('is the same trace for the same seed', () => {
    expect(burstyTrace(9, 36 * 3600)).toEqual(burstyTrace(9, 36 * 3600));
    expect(burstyTrace(9, 36 * 3600)).not.toEqual(burstyTrace(10, 36 * 3600));
  });
});
