import { describe, expect, it } from 'vitest';
import { finalizeBatch } from '../../../../core/batches/finalize-batch.js';
import { partialOutput } from '../../../../core/batches/partial-output.js';
import type { ChunkMessage } from '../../../../core/chunks/chunk-message.js';
import { ConflictError, NotFoundError } from '../../../../core/errors.js';
import type { Engine } from '../../../../gpu-worker/src/engine/engine.js';
import { runChunk } from '../../../../gpu-worker/src/run-chunk.js';
import { type FakeDeps, fakeDeps, scheduledBatch } from '../../../support/fakes.js';

const ok: Engine = { name: 'fake', send: async () => ({ status: 200, body: { choices: [] } }) };
const run = (deps: FakeDeps, m: ChunkMessage) =>
  runChunk(deps, m, {
    pool: 'spot',
    engine: ok,
    concurrency: 4,
    maxRetries: 0,
    stop: new AbortController().signal,
  });
const ids = (b: Buffer) =>
  b
    .toString()
    .trim()
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l).custom_id as string);

describe('partialOutput', () => {
  it('gives a running batch’s done chunks in input order, whichever finished first, and says it is partial', async () => {
    const deps = fakeDeps({ CHUNK_MAX_LINES: '3', CHUNK_TAIL_MIN_LINES: '0' });
    const { ref, msgs } = await scheduledBatch(deps, 9);
    expect(await partialOutput(deps, ref)).toMatchObject({ partial: true, chunksDone: 0, chunkCount: 3 });
    await run(deps, msgs[2] as ChunkMessage);
    await run(deps, msgs[0] as ChunkMessage);
    const got = await partialOutput(deps, ref);
    expect(got).toMatchObject({ partial: true, chunksDone: 2, chunkCount: 3 });
    expect(got.partial && ids(got.body)).toEqual(['req-0', 'req-1', 'req-2', 'req-6', 'req-7', 'req-8']);
    const later = await partialOutput(deps, ref, 1);
    expect(later.partial && ids(later.body)).toEqual(['req-6', 'req-7', 'req-8']);
  });

  it('stops at the inline limit and names the chunk to continue from', async () => {
    const deps = fakeDeps({
      CHUNK_MAX_LINES: '2',
      CHUNK_TAIL_MIN_LINES: '0',
      MAX_INLINE_CONTENT_BYTES: '400',
    });
    const { ref, msgs } = await scheduledBatch(deps, 8);
    for (const m of msgs.slice(0, 3)) await run(deps, m);
    const first = await partialOutput(deps, ref);
    if (!first.partial) throw new Error('expected partial');
    expect(first.body.length).toBeLessThanOrEqual(400);
    expect(first.nextChunk).toBeGreaterThan(0);
    const all = ids(first.body);
    let next = first.nextChunk;
    while (next !== undefined) {
      const more = await partialOutput(deps, ref, next);
      if (!more.partial) throw new Error('expected partial');
      expect(more.body.length).toBeLessThanOrEqual(400);
      all.push(...ids(more.body));
      next = more.nextChunk;
    }
    expect(all).toEqual(Array.from({ length: 6 }, (_, i) => `req-${i}`));
  });

  it('answers 409 rather than a cursor back to itself when the finalizer has removed the parts', async () => {
    const deps = fakeDeps({ CHUNK_MAX_LINES: '2', CHUNK_TAIL_MIN_LINES: '0' });
    const { ref, msgs } = await scheduledBatch(deps, 4);
    for (const m of msgs) await run(deps, m);
    for (const key of [...deps.blobs.objects.keys()])
      if (key.includes('/parts/')) deps.blobs.objects.delete(key);
    await expect(partialOutput(deps, ref)).rejects.toBeInstanceOf(ConflictError);
  });

  it('reads the parts of one answer side by side', async () => {
    const deps = fakeDeps({ CHUNK_MAX_LINES: '2', CHUNK_TAIL_MIN_LINES: '0' });
    const { ref, msgs } = await scheduledBatch(deps, 20);
    for (const m of msgs) await run(deps, m);
    const read = deps.blobs.read.bind(deps.blobs);
    let inFlight = 0;
    let most = 0;
    deps.blobs.read = async (key) => {
      inFlight += 1;
      most = Math.max(most, inFlight);
      await new Promise((r) => setTimeout(r, 5));
      inFlight -= 1;
      return read(key);
    };
    const got = await partialOutput(deps, ref);
    expect(got.partial && ids(got.body)).toEqual(Array.from({ length: 20 }, (_, i) => `req-${i}`));
    expect(most).toBeGreaterThan(1);
  });

  it('serves the output file once the batch has ended, and 404 for an unknown batch', async () => {
    const deps = fakeDeps({ CHUNK_MAX_LINES: '5' });
    const { ref, msgs } = await scheduledBatch(deps, 5);
    for (const m of msgs) await run(deps, m);
    await finalizeBatch(deps, ref);
    const done = await partialOutput(deps, ref);
    expect(done.partial).toBe(false);
    expect(!done.partial && 'inline' in done && ids(done.inline)).toHaveLength(5);
    await expect(partialOutput(deps, { ...ref, batchId: 'batch_nope' })).rejects.toBeInstanceOf(
      NotFoundError,
    );
  });
});
