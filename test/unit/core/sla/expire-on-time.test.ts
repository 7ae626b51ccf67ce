import { describe, expect, it } from 'vitest';
import { type BatchRef, batchKey } from '../../../../core/chunks/chunk-message.js';
import { toUnixSeconds } from '../../../../core/clock.js';
import { expireOnTime, slaSweep } from '../../../../core/sla/sla-sweep.js';
import { type FakeDeps, fakeDeps, scheduledBatch } from '../../../support/fakes.js';

/** Expiry at the window's second: the sweep lists the batches due before the next one, and the monitor waits for each. */

const settings = {
  COMPLETION_WINDOWS: '24h,1h,90s',
  CHUNK_MAX_LINES: '40',
  SLA_EXPIRY_LOOKAHEAD_SECONDS: '60',
};

const scheduled = async (deps: FakeDeps, window: string): Promise<BatchRef> =>
  (await scheduledBatch(deps, 10, { completion_window: window })).ref;

/** A sleep that moves the fake clock on, recording each wait. */
const fakeSleep = (deps: FakeDeps, waits: number[]) => async (ms: number) => {
  waits.push(ms);
  deps.clock.advance(ms);
};

describe('slaSweep dueSoon', () => {
  // A 1 h batch with 50 s left, a 90 s batch with 70 s left, a 24 h batch.
  it.each<[number, string[]]>([
    [60, ['b1h']],
    [120, ['b1h', 'b90s']],
    [0, []],
  ])('with a lookahead of %i s lists %j, soonest first', async (lookahead, expected) => {
    const deps = fakeDeps({ ...settings, SLA_EXPIRY_LOOKAHEAD_SECONDS: String(lookahead) });
    const names = new Map<string, string>();
    names.set((await scheduled(deps, '24h')).batchId, 'b24h');
    names.set((await scheduled(deps, '1h')).batchId, 'b1h');
    deps.clock.advance(3_600_000 - 70_000);
    names.set((await scheduled(deps, '90s')).batchId, 'b90s');
    deps.clock.advance(20_000);
    const report = await slaSweep(deps);
    expect(report.dueSoon.map((d) => names.get(d.batchId))).toEqual(expected);
    expect(report.expired).toEqual([]);
  });
});

describe('expireOnTime', () => {
  it('expires each due batch at its second, soonest first, and asks the finalizer', async () => {
    const deps = fakeDeps(settings);
    const a = await scheduled(deps, '90s');
    deps.clock.advance(30_000);
    const b = await scheduled(deps, '90s');
    deps.clock.advance(45_000); // a ends in 15 s, b in 45 s
    const report = await slaSweep(deps);
    expect(report.expired).toEqual([]);
    expect(report.dueSoon.map((d) => d.batchId)).toEqual([a.batchId, b.batchId]);

    const waits: number[] = [];
    expect(await expireOnTime(deps, report.dueSoon, fakeSleep(deps, waits))).toEqual([a.batchId, b.batchId]);
    expect(waits).toEqual([15_000, 30_000]);
    for (const ref of [a, b]) {
      const batch = deps.batches.batches.get(batchKey(ref));
      expect(batch).toMatchObject({ status: 'finalizing', end_reason: 'expired' });
      expect(batch?.finalizing_at).toBe(batch?.expires_at); // at the window, not a sweep later
    }
    expect(deps.queue.take('finalizing')).toEqual([a, b]);
  });

  it('leaves a batch that ended while it waited, and does not wait for one already due', async () => {
    const deps = fakeDeps(settings);
    const done = await scheduled(deps, '90s');
    const late = await scheduled(deps, '90s');
    deps.clock.advance(60_000);
    const report = await slaSweep(deps);
    await deps.batches.transition(done, 'finalizing', toUnixSeconds(deps.clock.now()), {}); // its last chunk completed
    deps.clock.advance(40_000); // both windows ended 10 s ago
    const waits: number[] = [];
    expect(await expireOnTime(deps, report.dueSoon, fakeSleep(deps, waits))).toEqual([late.batchId]);
    expect(waits).toEqual([]);
    expect(deps.batches.batches.get(batchKey(done))?.end_reason).toBeUndefined();
  });
});
