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

  it.each([
    ['planned at upload', false],
    ['validated at create', true],
  ])('fails the batch with invalid_file when the input object is gone (%s)', async (_how, unplanned) => {
    const deps = fakeDeps();
    const { file, ref } = await createdBatch(deps, jsonlOf(3), {}, tenant, { unplanned });
    await deps.blobs.delete(`${tenant}/files/${file.id}.jsonl`);
    expect(await scheduleBatch(deps, ref)).toBe('failed');
    expect((await deps.batches.get(ref))?.errors?.[0]?.code).toBe('invalid_file');
    expect(deps.queue.sent).toEqual([]);
  });

  it('schedules a file planned at upload without reading it, to the chunks validation would cut', async () => {
    const planned = fakeDeps({ CHUNK_MAX_LINES: '4' });
    const unplanned = fakeDeps({ CHUNK_MAX_LINES: '4' });
    const a = await created(planned, jsonlOf(10));
    const b = await createdBatch(unplanned, jsonlOf(10), {}, tenant, { unplanned: true });
    expect((await planned.batches.get(a.ref))?.plan).toBeDefined();
    const reads = { planned: 0, unplanned: 0 };
    for (const [deps, k] of [
      [planned, 'planned'],
      [unplanned, 'unplanned'],
    ] as const) {
      const stream = deps.blobs.stream.bind(deps.blobs);
      deps.blobs.stream = (...args) => {
        reads[k] += 1;
        return stream(...args);
      };
    }
    expect(await scheduleBatch(planned, a.ref)).toBe('scheduled');
    expect(await scheduleBatch(unplanned, b.ref)).toBe('scheduled');
    expect(reads).toEqual({ planned: 0, unplanned: 1 });
    const ranges = (deps: FakeDeps) =>
      deps.queue
        .take<ChunkMessage>('spot')
        .map((m) => [m.chunk, m.lineStart, m.lineEnd, m.byteStart, m.byteEnd]);
    expect(ranges(planned)).toEqual(ranges(unplanned));
    const batch = await planned.batches.get(a.ref);
    expect(batch).toMatchObject({ status: 'in_progress', total: 10, chunk_count: 3, model: 'm' });
    // Validation is over: the plan no longer weighs on every read of the batch.
    expect(batch?.plan).toBeUndefined();
  });

  it('validates a planned file again when the chunk size changed between upload and create', async () => {
    const deps = fakeDeps({ CHUNK_MAX_LINES: '4' });
    const { ref } = await created(deps, jsonlOf(10));
    const redeployed = { ...deps, limits: { ...deps.limits, CHUNK_MAX_LINES: 2, CHUNK_TAIL_MIN_LINES: 0 } };
    expect(await scheduleBatch(redeployed, ref)).toBe('scheduled');
    expect((await deps.batches.get(ref))?.chunk_count).toBe(5);
  });

  it('reports the errors of a file whose lines name another endpoint than the batch, as without a plan', async () => {
    const deps = fakeDeps();
    const { ref } = await created(deps, jsonlOf(2), { endpoint: '/v1/completions' });
    expect(await scheduleBatch(deps, ref)).toBe('failed');
    expect((await deps.batches.get(ref))?.errors?.map((e) => e.line)).toEqual([1, 2]);
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

  it.each([
    ['low', 1],
    ['normal', 2],
    ['high', 4],
  ] as const)(
    'keeps a %s-priority batch to its window of %i chunk messages, the rest chained',
    async (priority, sent) => {
      const deps = fakeDeps({ CHUNK_MAX_LINES: '2', CHUNK_TAIL_MIN_LINES: '0', DISPATCH_WINDOW_CHUNKS: '2' });
      const { ref } = await created(deps, jsonlOf(20), { priority });
      await scheduleBatch(deps, ref);
      const msgs = deps.queue.take<ChunkMessage>('spot');
      expect(msgs.map((m) => m.chunk)).toEqual(Array.from({ length: sent }, (_, i) => i));
      // Every one of the ten chunks is sent once: now, or by its chain.
      const chained = msgs.flatMap((m) => [m.chunk, ...(m.chain ?? []).map(([c]) => c)]);
      expect(chained.sort((a, b) => a - b)).toEqual(Array.from({ length: 10 }, (_, i) => i));
    },
  );

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
