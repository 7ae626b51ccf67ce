import { describe, expect, it } from 'vitest';
import { scheduleBatch } from '../../../../core/batches/schedule-batch.js';
import { batchKey, type ChunkMessage } from '../../../../core/chunks/chunk-message.js';
import { slaSweep } from '../../../../core/sla/sla-sweep.js';
import { createdBatch, fakeDeps, jsonlOf } from '../../../support/fakes.js';

/**
 * The scheduler and the SLA monitor send each batch's chunks to its model's pool group (the
 * catalog's): `m` runs on group `gpu`, `other` on the default group.
 */

const MODEL_CATALOG = JSON.stringify({ models: [{ id: 'other' }, { id: 'm', pool: 'gpu' }] });
const settings = { MODEL_CATALOG, COMPLETION_WINDOWS: '24h,1h', CHUNK_MAX_LINES: '40' };

describe('chunks go to their model pool group', () => {
  it("the scheduler sends to the model's group's spot queue, escalation to its dedicated queue", async () => {
    const deps = fakeDeps(settings);
    const { ref } = await createdBatch(deps, jsonlOf(80), { completion_window: '1h' });
    expect(await scheduleBatch(deps, ref)).toBe('scheduled');
    expect(deps.queue.take('spot')).toEqual([]);
    expect(deps.queue.take<ChunkMessage>('spot@gpu')).toHaveLength(2);

    deps.clock.advance((3_600 - 20) * 1000); // 80 requests with 20 s left: escalates
    const report = await slaSweep(deps);
    expect(report.escalated).toEqual([{ batchId: ref.batchId, chunks: 2 }]);
    expect(deps.queue.take('dedicated')).toEqual([]);
    expect(deps.queue.take<ChunkMessage>('dedicated@gpu')).toHaveLength(2);
    // The group's pools are sized for its batch; the default group's stay at their minimum.
    expect(report.groupDesiredTasks.gpu?.dedicated).toBeGreaterThan(0);
    expect(report.groupDesiredTasks.default).toEqual({ spot: 1, dedicated: 1 });
  });

  it("decides each group's pools within the group's own bounds, the others within SLA_*", async () => {
    const bounded = JSON.stringify({
      pools: { gpu: { spot: { min_tasks: 0, max_tasks: 2 }, dedicated: { min_tasks: 0, max_tasks: 3 } } },
      models: [{ id: 'other' }, { id: 'm', pool: 'gpu' }],
    });
    // SLA_*: at least 1 of each, at most 8.
    const deps = fakeDeps({
      ...settings,
      MODEL_CATALOG: bounded,
      SLA_SPOT_MIN_TASKS: '1',
      SLA_SPOT_MAX_TASKS: '8',
      SLA_DEDICATED_MIN_TASKS: '1',
      SLA_DEDICATED_MAX_TASKS: '8',
    });
    const { ref } = await createdBatch(deps, jsonlOf(80), { completion_window: '1h' });
    expect(await scheduleBatch(deps, ref)).toBe('scheduled');
    deps.clock.advance((3_600 - 20) * 1000); // 80 requests with 20 s left: every dedicated task it may have
    const report = await slaSweep(deps);
    expect(report.escalated).toEqual([{ batchId: ref.batchId, chunks: 2 }]);
    // Both pools at the group's maximum (the escalated batch's Spot copies still help), not SLA_*'s 8.
    expect(report.groupDesiredTasks.gpu).toEqual({ spot: 2, dedicated: 3 });
    // The default group, without bounds of its own, idles at SLA_*'s minimum.
    expect(report.groupDesiredTasks.default).toEqual({ spot: 1, dedicated: 1 });
  });

  it('refuses a catalog whose pool bounds are upside down', () => {
    const upsideDown = JSON.stringify({
      pools: { gpu: { spot: { min_tasks: 3, max_tasks: 2 } } },
      models: [{ id: 'm', pool: 'gpu' }],
    });
    expect(() => fakeDeps({ MODEL_CATALOG: upsideDown })).toThrow(/min_tasks is above max_tasks/);
  });

  it('fails a model outside the catalog with model_not_found naming the line', async () => {
    const deps = fakeDeps(settings);
    const lines = jsonlOf(3).split('\n');
    lines[1] = (lines[1] as string).replace('"model":"m"', '"model":"gpt-9"');
    const { ref } = await createdBatch(deps, lines.join('\n'));
    expect(await scheduleBatch(deps, ref)).toBe('failed');
    expect(deps.batches.batches.get(batchKey(ref))?.errors).toEqual([
      expect.objectContaining({ code: 'model_not_found', line: 2, param: 'body.model' }),
    ]);
    expect(deps.queue.sent).toEqual([]);
  });
});
