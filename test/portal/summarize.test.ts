import { describe, expect, it } from 'vitest';
import { summarize } from '../../portal/src/features/dashboard/utils/summarize.js';
import { batch } from './support/fixtures.js';

const NOW = 1_800_000_000_000;
const s = NOW / 1000;

describe('summarize (dashboard figures)', () => {
  it('counts batches, requests, pools, SLA states and the last 24 hours from the batches loaded', () => {
    const batches = [
      batch(
        { id: 'b1', status: 'completed', completed_at: s - 60, in_progress_at: s - 120, created_at: s - 200 },
        {
          total: 10,
          completed: 9,
          failed: 1,
        },
      ),
      batch({ id: 'b2', status: 'in_progress', created_at: s - 100 }, { total: 10, completed: 4, failed: 0 }),
      batch({ id: 'b3', status: 'failed', failed_at: s - 90_000, created_at: s - 90_100 }),
      batch(
        { id: 'b4', status: 'cancelled', cancelled_at: s - 10, created_at: s - 50 },
        {
          total: 5,
          completed: 1,
          failed: 0,
        },
      ),
    ];
    const r = summarize(batches, NOW);
    expect(r).toMatchObject({
      batches: 4,
      active: 1,
      completed24h: 1,
      failed24h: 0,
      requests: { total: 25, completed: 14, failed: 1, pending: 6, notRun: 4 },
      poolsRun: { spot: 11, dedicated: 3 },
      sla: { on_track: 1, at_risk: 0, met: 1, breached: 0 },
    });
    expect(r.byStatus).toEqual([
      { status: 'in_progress', count: 1 },
      { status: 'completed', count: 1 },
      { status: 'failed', count: 1 },
      { status: 'cancelled', count: 1 },
    ]);
    expect(r.processing).toEqual([{ id: 'b1', label: 'b1', seconds: 120 - 60 }]);
    expect(r.recentOutcomes.map((o) => o.id)).toEqual(['b1', 'b2', 'b4']);
  });

  it('names the per-pool figure for what it counts: requests run, failed ones included', () => {
    // The API's openbatch.pools adds succeeded and failed requests of each pool's chunks.
    const b = batch({ id: 'b', status: 'completed' }, { total: 10, completed: 6, failed: 4 });
    b.openbatch.pools = { spot: 7, dedicated: 3 };
    const r = summarize([b], NOW);
    expect(r.poolsRun).toEqual({ spot: 7, dedicated: 3 });
    expect(r.poolsRun.spot + r.poolsRun.dedicated).toBe(r.requests.completed + r.requests.failed);
    expect(r).not.toHaveProperty('pools');
  });
});
