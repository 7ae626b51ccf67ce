import { afterAll, beforeAll, describe, type ExpectStatic, it } from 'vitest';
import { type RunRecord, summarize, table } from './check.js';
import { RestartTarget, runRestart, runShared, SharedRuntime, type Sizes } from './harness.js';
import { scenarios } from './scenarios.js';

/**
 * The chaos suite's short version (`npm run chaos` runs the full one, test/chaos/chaos.ts):
 * every scenario once, with small batches. The `shared` scenarios take turns on one local
 * runtime (those whose fault touches only their own batch side by side); the restart scenario
 * needs runtimes of its own (`npm start`'s program, killed and started again), so it runs beside
 * them from the start: two runtime start-ups are most of its time.
 */
const sizes: Sizes = {
  size: 'short',
  workers: { spot: 1, dedicated: 1 },
  terminalTimeoutMs: 60_000,
  settleTimeoutMs: 20_000,
};
const shared = scenarios.filter((s) => s.kind === 'shared');
const restart = scenarios.find((s) => s.kind === 'restart');
const records: RunRecord[] = [];

let runtime: SharedRuntime | undefined;
let target: RestartTarget | undefined;
let restartRun: Promise<RunRecord | Error> | undefined;

beforeAll(async () => {
  if (restart) {
    const t = new RestartTarget(restart.env, sizes.workers);
    target = t;
    restartRun = runRestart(t, restart, 0, sizes).catch((err: Error) => err);
  }
  runtime = await SharedRuntime.start(sizes.workers);
}, 120_000);

afterAll(async () => {
  await Promise.all([runtime?.close(), restartRun?.then(() => target?.close())]);
  if (records.length === 0) return;
  const moments = records.map(
    (r) =>
      `${r.scenario}: ${Object.entries({ terminal: r.secondsToTerminal ?? Number.NaN, ...r.timings })
        .map(([k, v]) => `${k} ${v.toFixed(1)} s`)
        .join(', ')}`,
  );
  console.log(`chaos (short):\n${table(summarize(records))}\n${moments.join('\n')}`);
}, 60_000);

/** The run is clean, and its fault was really injected. */
function expectClean(r: RunRecord, expect: ExpectStatic) {
  records.push(r);
  expect(r.problems).toEqual([]);
  expect(r.secondsToTerminal).not.toBeNull();
  expect({
    lost: r.lost,
    duplicated: r.duplicated,
    leftovers: r.leftovers,
    countsMatch: r.countsMatch,
  }).toEqual({
    lost: 0,
    duplicated: 0,
    leftovers: 0,
    countsMatch: true,
  });
  expect(Object.values(r.faults).some((n) => n > 0)).toBe(true);
}

describe('chaos (short): every request exactly once, nothing left on a queue', () => {
  for (const scenario of shared) {
    // Scenarios whose fault touches only their own batch run side by side (same workers).
    const test = scenario.alongside ? it.concurrent : it;
    test(`${scenario.name}: ${scenario.fault}`, async ({ expect }) => {
      if (!runtime) throw new Error('no runtime');
      expectClean(await runShared(runtime, scenario, 0, sizes), expect);
    }, 90_000);
  }

  if (restart) {
    it(`${restart.name}: ${restart.fault}`, async ({ expect }) => {
      const r = await restartRun;
      if (r instanceof Error || !r) throw r ?? new Error('not run');
      expectClean(r, expect);
      expect(r.faults['runtime restarts']).toBe(1);
    }, 240_000);
  }
});
