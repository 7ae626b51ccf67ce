import { afterEach, describe, expect, it } from 'vitest';
import { rssOf, treeRssOf } from '../../bench/proc-stats.js';
import { quantile, type RssSample, rssGrowth, soakSettings } from '../../bench/soak-scenario.js';

const MB = 1024 * 1024;
const samples = (pid: number, points: [number, number][]): RssSample[] =>
  points.map(([at, mb]) => ({ at, pid, bytes: mb * MB }));

describe('quantile', () => {
  it('takes the nearest rank', () => {
    const xs = Array.from({ length: 20 }, (_, i) => i + 1);
    expect(quantile(xs, 0.5)).toBe(10);
    expect(quantile(xs, 0.95)).toBe(19);
    expect(quantile([3, 1, 2], 1)).toBe(3);
    expect(quantile([], 0.95)).toBeNaN();
  });
});

describe('rssGrowth', () => {
  it('compares the median of the window after the warm-up with the median of the last window', () => {
    // A garbage collection just before the end (the 90 MB sample) does not read as shrinkage.
    const list = samples(7, [
      [5, 300], // warm-up: left out
      [20, 100],
      [25, 104],
      [30, 102],
      [80, 120],
      [85, 90],
      [90, 121],
    ]);
    expect(rssGrowth(list, 20, 95, 15)).toEqual({ baseMb: 102, endMb: 120, percent: 17.6 });
  });

  it('compares only samples of the process sampled last: a restarted one is a new process', () => {
    const list = [...samples(1, [[20, 100]]), ...samples(2, [[80, 300]])];
    expect(rssGrowth(list, 20, 95, 30)).toBeUndefined();
  });
});

describe('soakSettings', () => {
  const saved = { ...process.env };
  afterEach(() => {
    process.env = { ...saved };
  });

  it('defaults to five minutes of 50-line batches every 200–500 ms', () => {
    for (const k of Object.keys(process.env)) if (k.startsWith('SOAK_')) delete process.env[k];
    expect(soakSettings()).toMatchObject({
      seconds: 300,
      lines: 50,
      minIntervalMs: 200,
      maxIntervalMs: 500,
      warmupSeconds: 60,
    });
  });

  it('reports every bad setting at once', () => {
    process.env.SOAK_SECONDS = '30';
    process.env.SOAK_MIN_INTERVAL_MS = '900';
    process.env.SOAK_MAX_INTERVAL_MS = '100';
    expect(() => soakSettings()).toThrow(/MAX_INTERVAL_MS is below[\s\S]*must cover the warm-up/);
  });
});

describe('RSS of processes', () => {
  it('reads this process and its tree from /proc', () => {
    const own = rssOf(process.pid) ?? 0;
    expect(own).toBeGreaterThan(10 * MB);
    expect(treeRssOf(process.pid) ?? 0).toBeGreaterThanOrEqual(own);
    expect(rssOf(2 ** 22 + 1)).toBeUndefined();
  });
});
