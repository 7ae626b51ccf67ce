import { describe, expect, it } from 'vitest';
import { scheduleBatch } from '../../../../core/batches/schedule-batch.js';
import type { ChunkMessage } from '../../../../core/chunks/chunk-message.js';
import type { CreateBatchBody } from '../../../../core/openai/schemas.js';
import { createdBatch, type FakeDeps, fakeDeps, jsonlOf } from '../../../support/fakes.js';

const tenant = 'acme';

const created = (deps: FakeDeps, content: string, body: Partial<CreateBatchBody> = {}) =>
  createdBatch(deps, content, body, tenant);

describe('scheduleBatch (in-memory ports, fake clock)', () => {
  it('plans chunks, starts the batch and sends one descriptor per chunk to spot', async () => {
    const deps = fakeDeps({ CHUNK_MAX_LINES: '4' });
    const { file, ref } = await created(deps, jsonlOf(10));
    expect(await scheduleBatch(deps, ref)).toBe('scheduled');
    const batch = await deps.batches.get(ref);
    expect(batch).toMatchObject({ status: 'in_progress', total: 10, chunk_count: 3, enqueued: true });
    const sent = deps.queue.take<ChunkMessage>('spot');
    expect(sent.map((m) => [m.chunk, m.lineStart, m.lineEnd])).toEqual([
      [0, 1, 4],
      [1, 5, 8],
      [2, 9, 10],
    ]);
    // The key was resolved at create; the descriptor carries no payload.
    expect(sent.every((m) => m.key === `${tenant}/files/${file.id}.jsonl`)).toBe(true);
    expect(deps.queue.sent).toEqual([]);
  });

  it('reads the input only through the key stored on the batch, not the files table', async () => {
    const deps = fakeDeps();
    const { ref } = await created(deps, jsonlOf(3));
    deps.files.files.clear(); // record gone, object still there
    expect(await scheduleBatch(deps, ref)).toBe('scheduled');
  });

  it('fails the batch with invalid_file when the input object is gone', async () => {
    const deps = fakeDeps();
    const { file, ref } = await created(deps, jsonlOf(3));
    await deps.blobs.delete(`${tenant}/files/${file.id}.jsonl`);
    expect(await scheduleBatch(deps, ref)).toBe('failed');
    expect((await deps.batches.get(ref))?.errors?.[0]?.code).toBe('invalid_file');
    expect(deps.queue.sent).toEqual([]);
  });

  it('fails a malformed file with line-numbered errors and sends nothing', async () => {
    const deps = fakeDeps();
    const { ref } = await created(deps, `${jsonlOf(1)}\nnot json\n`);
    expect(await scheduleBatch(deps, ref)).toBe('failed');
    const batch = await deps.batches.get(ref);
    expect(batch?.status).toBe('failed');
    expect(batch?.errors?.[0]?.line).toBe(2);
    expect(deps.queue.sent).toEqual([]);
  });

  // 2,000 requests at 1 request/s on the one dedicated task need 0.56 of a 1 h window: past high
  // priority's escalation pressure (0.5), under normal's (0.7). More cases: test/unit/core/sla/routing.test.ts.
  it.each([
    ['high', 'dedicated'],
    ['normal', 'spot'],
  ] as const)('sends %s-priority work where core/policy routes it (%s)', async (priority, pool) => {
    const deps = fakeDeps({ COMPLETION_WINDOWS: '24h,1h', SLA_ASSUMED_REQUESTS_PER_SECOND: '1' });
    const { ref } = await created(deps, jsonlOf(2000), { priority, completion_window: '1h' });
    await scheduleBatch(deps, ref);
    expect(deps.queue.take(pool).length).toBeGreaterThan(0);
    expect(deps.queue.sent).toEqual([]); // nothing on the other pool's queue
    expect((await deps.batches.get(ref))?.route_pool).toBe(pool);
  });

  it('resends the pending chunks of a batch whose fan-out was cut short, and is a no-op after', async () => {
    const deps = fakeDeps({ CHUNK_MAX_LINES: '2' });
    const { ref } = await created(deps, jsonlOf(6));
    await scheduleBatch(deps, ref);
    deps.queue.take('spot');
    await deps.batches.update(ref, { enqueued: false }); // crashed before marking the send done
    expect(await scheduleBatch(deps, ref)).toBe('resent');
    expect(deps.queue.take('spot')).toHaveLength(3);
    expect(await scheduleBatch(deps, ref)).toBe('not-validating');
  });
});
