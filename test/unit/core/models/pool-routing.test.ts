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
