import { describe, expect, it } from 'vitest';
import { type BatchRef, batchKey, type ChunkMessage } from '../../../../core/chunks/chunk-message.js';
import type { BatchPriority } from '../../../../core/openai/schemas.js';
import { slaSweep } from '../../../../core/sla/sla-sweep.js';
import { type FakeDeps, fakeDeps, scheduledBatch } from '../../../support/fakes.js';

/**
 * The SLA monitor's decisions through core/policy `decide`, with the fake clock: escalation by
 * priority, de-escalation after the dwell, the state stored on the batch, price inversion and the
 * desired tasks per pool.
 */

const HOUR_S = 3_600;
const base = { COMPLETION_WINDOWS: '24h,1h', CHUNK_MAX_LINES: '40' };

async function scheduled(deps: FakeDeps, n: number, priority: BatchPriority = 'normal'): Promise<BatchRef> {
  return (await scheduledBatch(deps, n, { completion_window: '1h', priority })).ref;
}

const record = (deps: FakeDeps, ref: BatchRef) => deps.batches.batches.get(batchKey(ref));

describe('slaSweep escalates by deadline pressure and priority', () => {
  // 80 requests at the assumed 5 requests/s on the one dedicated task (already running) need 16 s:
  // the pressure is 16 s over the time left. Thresholds: high 0.5, normal 0.7, low 0.8.
  it.each<[BatchPriority, number, boolean]>([
    ['normal', 30, false], // 0.53
    ['normal', 20, true], // 0.8
    ['high', 30, true], // 0.53 >= 0.5
    ['high', 40, false], // 0.4
    ['low', 21, false], // 0.76
    ['low', 19, true], // 0.84
  ])('%s priority with %i s left: escalated %s', async (priority, leftS, escalated) => {
    const deps = fakeDeps(base);
    const ref = await scheduled(deps, 80, priority);
    deps.clock.advance((HOUR_S - leftS) * 1000);
    const report = await slaSweep(deps);
    expect(report.escalated).toEqual(escalated ? [{ batchId: ref.batchId, chunks: 2 }] : []);
    expect(report.atRisk).toEqual(escalated ? [ref.batchId] : []);
    expect(deps.queue.take<ChunkMessage>('dedicated')).toHaveLength(escalated ? 2 : 0);
    expect(record(deps, ref)).toMatchObject({
      route_pool: escalated ? 'dedicated' : 'spot',
      at_risk: escalated,
      escalation: { escalated },
    });
  });

  it('writes the batch only when its route changes', async () => {
    const deps = fakeDeps(base);
    const ref = await scheduled(deps, 80);
    const before = structuredClone(record(deps, ref));
    await slaSweep(deps);
    expect(record(deps, ref)).toEqual(before);
  });
});

describe('slaSweep de-escalates with hysteresis', () => {
  // 2,000 requests at 1 request/s: pressure 2,000 s over the time left (0.56 at start).
  const settings = { ...base, SLA_ASSUMED_REQUESTS_PER_SECOND: '1' };

  it('escalates at 0.7, keeps the batch on dedicated for 600 s, then sends its next chunks to Spot', async () => {
    const deps = fakeDeps(settings);
    const ref = await scheduled(deps, 2000);
    expect(record(deps, ref)?.route_pool).toBe('spot');
    deps.clock.advance(900_000); // 2,700 s left: 0.74
    expect((await slaSweep(deps)).escalated).toHaveLength(1);
    deps.queue.take('dedicated');
    const escalatedAt = deps.clock.now();
    expect(record(deps, ref)?.escalation).toEqual({ escalated: true, since_ms: escalatedAt });

    // Most of the work is done: 300 requests left, pressure 0.13 (under normal's 0.35).
    const r = record(deps, ref);
    if (r) r.completed = 1700;
    deps.clock.advance(300_000);
    expect(await slaSweep(deps)).toMatchObject({ deescalated: [], atRisk: [ref.batchId] });
    expect(record(deps, ref)?.route_pool).toBe('dedicated');

    deps.clock.advance(300_000); // 600 s escalated
    expect(await slaSweep(deps)).toMatchObject({ deescalated: [ref.batchId], atRisk: [], escalated: [] });
    expect(record(deps, ref)).toMatchObject({
      route_pool: 'spot',
      at_risk: false,
      escalation: { escalated: false, since_ms: deps.clock.now() },
    });
    expect(deps.queue.sent).toEqual([]); // nothing moved back: copies on dedicated stay there
  });
});

describe('slaSweep on a price inversion', () => {
  it('routes every batch to dedicated capacity from the start, without calling it at risk', async () => {
    const deps = fakeDeps({
      ...base,
      SLA_SPOT_PRICE_PER_TASK_HOUR: '0.9',
      SLA_ON_DEMAND_PRICE_PER_TASK_HOUR: '0.8',
    });
    const ref = await scheduledBatch(deps, 80, { completion_window: '1h' }).then((b) => b.ref);
    expect(deps.queue.take('dedicated')).toHaveLength(2);
    const report = await slaSweep(deps);
    expect(report).toMatchObject({ escalated: [], atRisk: [] });
    expect(deps.queue.sent).toEqual([]);
    expect(record(deps, ref)).toMatchObject({ route_pool: 'dedicated', at_risk: false });
  });
});

describe('slaSweep desired tasks per pool', () => {
  const pools = {
    SLA_SPOT_MIN_TASKS: '0',
    SLA_SPOT_MAX_TASKS: '4',
    SLA_DEDICATED_MIN_TASKS: '0',
    SLA_DEDICATED_MAX_TASKS: '2',
  };

  it.each<[string, Record<string, string>, number, { spot: number; dedicated: number }]>([
    ['no work, pools that scale to zero', pools, 0, { spot: 0, dedicated: 0 }],
    ['no work, the local fleet (min 1 each)', {}, 0, { spot: 1, dedicated: 1 }],
    // 2,000 requests at 1 request/s (0.99 useful on Spot): one task finishes them in 1 h, with start-up.
    [
      'a batch with time to spare: one Spot task',
      { ...pools, SLA_ASSUMED_REQUESTS_PER_SECOND: '1' },
      2000,
      { spot: 1, dedicated: 0 },
    ],
    // 2,000 requests at 0.4 request/s: 5,000 task-seconds in a 1 h window need two Spot tasks,
    // and the dedicated pool (0.8 request/s) would need 2,680 s of 3,600: pressure 0.74, escalated.
    [
      'a batch that needs two tasks by its deadline and escalates',
      { ...pools, SLA_ASSUMED_REQUESTS_PER_SECOND: '0.4' },
      2000,
      { spot: 2, dedicated: 2 },
    ],
  ])('%s', async (_, env, n, desired) => {
    const deps = fakeDeps({ ...base, ...env });
    if (n > 0) await scheduled(deps, n);
    expect((await slaSweep(deps)).desiredTasks).toEqual(desired);
  });
});
