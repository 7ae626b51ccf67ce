import { describe, expect, it } from 'vitest';
import { createBatch } from '../../../../core/batches/batches-service.js';
import { finalizeBatch } from '../../../../core/batches/finalize-batch.js';
import { scheduleBatch } from '../../../../core/batches/schedule-batch.js';
import type { BatchRef, ChunkMessage } from '../../../../core/chunks/chunk-message.js';
import { toUnixSeconds } from '../../../../core/clock.js';
import { createFile } from '../../../../core/files/files-service.js';
import type { Engine } from '../../../../gpu-worker/src/engine/engine.js';
import { runChunk } from '../../../../gpu-worker/src/run-chunk.js';
import { type FakeDeps, fakeDeps, jsonlOf } from '../../../support/fakes.js';

const tenant = 'acme';
const ok: Engine = { name: 'fake', send: async () => ({ status: 200, body: { choices: [] } }) };
const run = (deps: FakeDeps, m: ChunkMessage) =>
  runChunk(deps, m, {
    pool: 'spot',
    engine: ok,
    concurrency: 4,
    maxRetries: 0,
    stop: new AbortController().signal,
  });

async function scheduled(deps: FakeDeps, n: number): Promise<{ ref: BatchRef; msgs: ChunkMessage[] }> {
  const file = await createFile(deps, tenant, {
    filename: 'in.jsonl',
    purpose: 'batch',
    content: Buffer.from(jsonlOf(n)),
  });
  const batch = await createBatch(deps, tenant, {
    input_file_id: file.id,
    endpoint: '/v1/chat/completions',
    completion_window: '24h',
  });
  const ref = { tenant, batchId: batch.id };
  await scheduleBatch(deps, ref);
  return { ref, msgs: deps.queue.take<ChunkMessage>('spot') };
}

const ids = (text: string) =>
  text
    .trim()
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l).custom_id as string);

describe('finalizeBatch (in-memory ports, fake clock)', () => {
  it('is not ready while a chunk is pending', async () => {
    const deps = fakeDeps({ CHUNK_MAX_LINES: '3' });
    const { ref, msgs } = await scheduled(deps, 6);
    await run(deps, msgs[0] as ChunkMessage);
    expect(await finalizeBatch(deps, ref)).toBe('not-ready');
  });

  it('stitches parts in input order, counts from the chunk records, and removes the work files', async () => {
    const deps = fakeDeps({ CHUNK_MAX_LINES: '3' });
    const { ref, msgs } = await scheduled(deps, 7);
    for (const m of [...msgs].reverse()) await run(deps, m);
    deps.clock.advance(5_000);
    expect(await finalizeBatch(deps, ref)).toBe('finalized');
    const batch = await deps.batches.get(ref);
    expect(batch).toMatchObject({
      status: 'completed',
      completed: 7,
      failed: 0,
      completed_at: toUnixSeconds(deps.clock.now()),
    });
    const output = await deps.files.get(tenant, batch?.output_file_id ?? '');
    expect(ids(deps.blobs.text(output?.s3_key ?? ''))).toEqual(
      Array.from({ length: 7 }, (_, i) => `req-${i}`),
    );
    expect([...deps.blobs.objects.keys()].filter((k) => k.includes('/batches/'))).toEqual([]);
    expect(await finalizeBatch(deps, ref)).toBe('already-final');
  });

  it('writes batch_expired lines for the chunks an expired batch never ran, so every line lands once', async () => {
    const deps = fakeDeps({ CHUNK_MAX_LINES: '4' });
    const { ref, msgs } = await scheduled(deps, 10);
    await run(deps, msgs[1] as ChunkMessage);
    await deps.batches.transition(ref, 'finalizing', 0, { end_reason: 'expired' }, ['in_progress']);
    expect(await finalizeBatch(deps, ref)).toBe('finalized');
    const batch = await deps.batches.get(ref);
    expect(batch).toMatchObject({ status: 'expired', completed: 4, failed: 6 });
    const out = ids(
      deps.blobs.text((await deps.files.get(tenant, batch?.output_file_id ?? ''))?.s3_key ?? ''),
    );
    const err = ids(
      deps.blobs.text((await deps.files.get(tenant, batch?.error_file_id ?? ''))?.s3_key ?? ''),
    );
    expect(new Set([...out, ...err]).size).toBe(10);
    expect(out.length + err.length).toBe(10);
  });

  it('lets only one finalizer hold the claim until it lapses', async () => {
    const deps = fakeDeps();
    const { ref, msgs } = await scheduled(deps, 2);
    await run(deps, msgs[0] as ChunkMessage);
    const nowS = toUnixSeconds(deps.clock.now());
    await deps.batches.transition(ref, 'finalizing', nowS, { end_reason: 'completed' }, ['in_progress']);
    expect(await deps.batches.claimFinalization(ref, nowS, nowS + 60)).toBe(true);
    expect(await finalizeBatch(deps, ref)).toBe('claimed-elsewhere');
    deps.clock.advance(61_000);
    expect(await finalizeBatch(deps, ref)).toBe('finalized');
  });
});
