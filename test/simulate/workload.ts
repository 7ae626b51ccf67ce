import { tailSizes } from '../../core/chunks/plan-chunks.js';
import type { Priority } from '../../core/policy/index.js';
import { Rng, subSeed } from './rng.js';

export interface BatchSpec {
  readonly id: string;
  readonly tenant: string;
  readonly priority: Priority;
  /** Simulated seconds from the start of the run. */
  readonly arrivalS: number;
  readonly windowS: number;
  readonly requests: number;
}

const HOUR = 3600;

/** Chunk sizes as the scheduler cuts them: CHUNK_MAX_LINES (2,000), the last 2,000 as 1,000, 500, 250, 250. */
export function chunkSizes(requests: number, maxLines = 2000, tailMinLines = 250): number[] {
  const sizes: number[] = [];
  let left = requests;
  while (left > maxLines) {
    sizes.push(maxLines);
    left -= maxLines;
  }
  const tail: number[] = [];
  for (const piece of tailSizes({ CHUNK_MAX_LINES: maxLines, CHUNK_TAIL_MIN_LINES: tailMinLines })) {
    if (left - piece < piece && left < 2 * piece) break;
    tail.unshift(piece);
    left -= piece;
  }
  if (left > 0) sizes.push(left);
  return [...sizes, ...tail];
}

/**
 * One day of arrivals from five tenants, drawn from `seed`:
 * - bulk: three 400,000-request batches with a 24 h window (08:00 apart);
 * - etl: a 60,000-request batch every 3 h with a 4 h window (every fourth high priority);
 * - eval: four 20,000-request batches with a 1 h window, high priority;
 * - nightly: two 150,000-request low-priority batches with a 24 h window;
 * - app: small batches of 200 to 3,000 requests with a 1 h window, about every 20 minutes
 *   (Poisson arrivals), of any priority.
 * Sizes and times carry up to 10 % seeded jitter.
 */
export function dailyWorkload(seed: number): BatchSpec[] {
  const rng = new Rng(subSeed(seed, 1));
  const jitter = (n: number) => Math.round(n * (0.9 + 0.2 * rng.next()));
  const specs: Omit<BatchSpec, 'id'>[] = [];
  for (const h of [0, 8, 16]) {
    specs.push({
      tenant: 'bulk',
      priority: 'normal',
      arrivalS: h * HOUR + rng.int(0, 600),
      windowS: 24 * HOUR,
      requests: jitter(400_000),
    });
  }
  for (let i = 0; i < 8; i++) {
    specs.push({
      tenant: 'etl',
      priority: i % 4 === 3 ? 'high' : 'normal',
      arrivalS: (1 + 3 * i) * HOUR + rng.int(0, 900),
      windowS: 4 * HOUR,
      requests: jitter(60_000),
    });
  }
  for (const h of [2, 9, 15, 21]) {
    specs.push({
      tenant: 'eval',
      priority: 'high',
      arrivalS: h * HOUR + rng.int(0, 900),
      windowS: HOUR,
      requests: jitter(20_000),
    });
  }
  for (const h of [4, 12]) {
    specs.push({
      tenant: 'nightly',
      priority: 'low',
      arrivalS: h * HOUR + rng.int(0, 900),
      windowS: 24 * HOUR,
      requests: jitter(150_000),
    });
  }
  for (let t = rng.exp() * 1200; t < 24 * HOUR; t += rng.exp() * 1200) {
    specs.push({
      tenant: 'app',
      priority: rng.pick(['low', 'normal', 'normal', 'high'] as const),
      arrivalS: Math.round(t),
      windowS: HOUR,
      requests: rng.int(200, 3000),
    });
  }
  specs.sort((a, b) => a.arrivalS - b.arrivalS);
  return specs.map((s, i) => ({ ...s, id: `b${String(i).padStart(3, '0')}-${s.tenant}` }));
}

/**
 * A surge: ten tenants submit 30,000 requests each at 01:00 with a 4 h window, beside a
 * 1,000,000-request batch (24 h window) that arrived at 00:00; two high-priority 150,000-request
 * batches with a 1 h window at 03:00 and 06:00 (most of what the dedicated pool can do in an
 * hour); small batches (100 to 2,000 requests, 1 h window) about every 10 minutes for 12 hours.
 */
export function surgeWorkload(seed: number): BatchSpec[] {
  const rng = new Rng(subSeed(seed, 2));
  const jitter = (n: number) => Math.round(n * (0.9 + 0.2 * rng.next()));
  const specs: Omit<BatchSpec, 'id'>[] = [
    {
      tenant: 'archive',
      priority: 'low',
      arrivalS: rng.int(0, 300),
      windowS: 24 * HOUR,
      requests: jitter(1_000_000),
    },
  ];
  for (let t = 0; t < 10; t++) {
    specs.push({
      tenant: `team${t}`,
      priority: 'normal',
      arrivalS: HOUR + rng.int(0, 120),
      windowS: 4 * HOUR,
      requests: jitter(30_000),
    });
  }
  for (const h of [3, 6]) {
    specs.push({
      tenant: 'rush',
      priority: 'high',
      arrivalS: h * HOUR + rng.int(0, 300),
      windowS: HOUR,
      requests: jitter(140_000),
    });
  }
  for (let t = rng.exp() * 600; t < 12 * HOUR; t += rng.exp() * 600) {
    specs.push({
      tenant: 'app',
      priority: rng.pick(['low', 'normal', 'high'] as const),
      arrivalS: Math.round(t),
      windowS: HOUR,
      requests: rng.int(100, 2000),
    });
  }
  specs.sort((a, b) => a.arrivalS - b.arrivalS);
  return specs.map((s, i) => ({ ...s, id: `s${String(i).padStart(3, '0')}-${s.tenant}` }));
}

export const workloads: Readonly<Record<string, (seed: number) => BatchSpec[]>> = {
  daily: dailyWorkload,
  surge: surgeWorkload,
};
