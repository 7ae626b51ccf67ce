import { describe, expect, it } from 'vitest';
import { createBatch } from '../../../../core/batches/batches-service.js';
import { finalizeBatch } from '../../../../core/batches/finalize-batch.js';
import { scheduleBatch } from '../../../../core/batches/schedule-batch.js';
import type { BatchRef, ChunkMessage } from '../../../../core/chunks/chunk-message.js';
import { toUnixSeconds } from '../../../../core/clock.js';
import { createFile } from '../../../../core/files/files-service.js';
import type { Engine } from '../../../../gpu-worker/src/engine/engine.js';
import { runChunk } from '../../../../gpu-worker/src/run-chunk.js';
import { type FakeDeps, fakeDeps, jsonlOf, scheduledBatch } from '../../../support/fakes.js';

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

const scheduled = (deps: FakeDeps, n: number) => scheduledBatch(deps, n);

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

  it("writes the output at the length its parts' recorded sizes add up to, and no other", async () => {
    const deps = fakeDeps({ CHUNK_MAX_LINES: '3' });
    const { ref, msgs } = await scheduled(deps, 7);
    for (const m of msgs) await run(deps, m);
    const lengths: (number | undefined)[] = [];
    const upload = deps.blobs.upload.bind(deps.blobs);
    deps.blobs.upload = (key, source, type, known) => {
      lengths.push(known);
      return upload(key, source, type, known);
    };
    // A part's recorded size off by one: the write is refused (S3 holds a PutObject to its length).
    const sizes = (await deps.batches.listChunks(ref)).map((c) => c.output_bytes ?? 0);
    const stored = [...deps.batches.chunks.values()][0]?.get(1);
    if (stored?.output_bytes !== undefined) stored.output_bytes += 1;
    await expect(finalizeBatch(deps, ref)).rejects.toThrow(/length/);
    expect(lengths).toEqual([sizes.reduce((a, b) => a + b, 0) + 1]);
    expect(sizes.every((s) => s > 0)).toBe(true);
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

  it('claims the batch in the same write that moves it to finalizing: a second finalizer meanwhile stands aside', async () => {
    const deps = fakeDeps();
    const { ref, msgs } = await scheduled(deps, 2);
    await run(deps, msgs[0] as ChunkMessage);
    const claims: string[] = [];
    const claim = deps.batches.claimFinalization.bind(deps.batches);
    deps.batches.claimFinalization = async (...a) => {
      claims.push(a[0].batchId);
      return claim(...a);
    };
    // The second finalizer reads the batch while the first has moved it on.
    const transition = deps.batches.transition.bind(deps.batches);
    let second: Promise<unknown> | undefined;
    deps.batches.transition = async (...a) => {
      const moved = await transition(...a);
      if (a[1] === 'finalizing') second ??= finalizeBatch(deps, ref);
      return moved;
    };
    expect(await finalizeBatch(deps, ref)).toBe('finalized');
    expect(await second).toBe('claimed-elsewhere');
    expect(claims).toEqual([ref.batchId]); // only the one that did not move the batch asked
    expect((await deps.batches.get(ref))?.status).toBe('completed');
  });

  /** The custom ids of the batch's output file, in file order. */
  async function outputIds(deps: FakeDeps, ref: BatchRef): Promise<string[]> {
    const batch = await deps.batches.get(ref);
    const output = await deps.files.get(tenant, batch?.output_file_id ?? '');
    return ids(deps.blobs.text(output?.s3_key ?? ''));
  }

  /** Each part's read held up, earlier parts the longest; the most reads in flight at once. */
  function slowReads(deps: FakeDeps): { most: number; streamed: string[] } {
    const seen = { most: 0, streamed: [] as string[] };
    let inFlight = 0;
    const delayed =
      <A extends unknown[], R>(f: (key: string, ...rest: A) => Promise<R>) =>
      async (key: string, ...rest: A): Promise<R> => {
        inFlight += 1;
        seen.most = Math.max(seen.most, inFlight);
        const part = Number(key.match(/\/parts\/(\d+)\//)?.[1]);
        await new Promise((r) => setTimeout(r, 40 - (part % 10) * 4));
        inFlight -= 1;
        return f(key, ...rest);
      };
    const stream = delayed(deps.blobs.stream.bind(deps.blobs));
    deps.blobs.stream = (key, range) => {
      seen.streamed.push(key);
      return stream(key, range);
    };
    deps.blobs.read = delayed(deps.blobs.read.bind(deps.blobs));
    return seen;
  }

  it('keeps the parts in chunk order when their reads, sent ahead, answer out of order', async () => {
    const deps = fakeDeps({ CHUNK_MAX_LINES: '2', CHUNK_TAIL_MIN_LINES: '0' });
    const { ref, msgs } = await scheduled(deps, 24);
    for (const m of msgs) await run(deps, m);
    const seen = slowReads(deps);
    expect(await finalizeBatch(deps, ref)).toBe('finalized');
    expect(await outputIds(deps, ref)).toEqual(Array.from({ length: 24 }, (_, i) => `req-${i}`));
    // Parts of a recorded size are read whole, eight at a time: none is streamed.
    expect(seen.most).toBe(8);
    expect(seen.streamed).toEqual([]);
  });

  it('streams a part of unknown size when its turn comes, in order, the parts after it read ahead', async () => {
    const deps = fakeDeps({ CHUNK_MAX_LINES: '2', CHUNK_TAIL_MIN_LINES: '0' });
    const { ref, msgs } = await scheduled(deps, 12);
    for (const m of msgs) await run(deps, m);
    // A part written before workers recorded sizes.
    const stored = [...deps.batches.chunks.values()][0]?.get(2);
    if (stored) delete stored.output_bytes;
    const seen = slowReads(deps);
    expect(await finalizeBatch(deps, ref)).toBe('finalized');
    expect(await outputIds(deps, ref)).toEqual(Array.from({ length: 12 }, (_, i) => `req-${i}`));
    expect(seen.streamed).toEqual([stored?.output_key]);
  });

  const BOM = Buffer.from([0xef, 0xbb, 0xbf]);

  /** A scheduled batch over `content`, created with `extra` create parameters. */
  async function scheduledOver(
    deps: FakeDeps,
    content: Buffer,
    extra: Partial<Parameters<typeof createBatch>[2]> = {},
  ): Promise<{ ref: BatchRef; msgs: ChunkMessage[] }> {
    const file = await createFile(deps, tenant, { filename: 'in.jsonl', purpose: 'batch', content });
    const batch = await createBatch(deps, tenant, {
      input_file_id: file.id,
      endpoint: '/v1/chat/completions',
      completion_window: '24h',
      ...extra,
    });
    const ref = { tenant, batchId: batch.id };
    await scheduleBatch(deps, ref);
    return { ref, msgs: deps.queue.take<ChunkMessage>('spot') };
  }

  it("dates the output and error files by the batch's output_expires_after, counted from their creation", async () => {
    const deps = fakeDeps({ CHUNK_MAX_LINES: '2' });
    const { ref, msgs } = await scheduledOver(deps, Buffer.from(jsonlOf(4)), {
      output_expires_after: { anchor: 'created_at', seconds: 7_200 },
    });
    await run(deps, msgs[0] as ChunkMessage);
    deps.clock.advance(3_600_000);
    await deps.batches.transition(ref, 'finalizing', 0, { end_reason: 'expired' }, ['in_progress']);
    expect(await finalizeBatch(deps, ref)).toBe('finalized');
    const batch = await deps.batches.get(ref);
    const createdAt = toUnixSeconds(deps.clock.now());
    for (const id of [batch?.output_file_id, batch?.error_file_id]) {
      expect(await deps.files.get(tenant, id ?? '')).toMatchObject({
        created_at: createdAt,
        expires_at: createdAt + 7_200,
      });
    }
  });

  it('dates result files by the retention period when the batch set no output_expires_after', async () => {
    const deps = fakeDeps({ FILE_RETENTION_DAYS: '3' });
    const { ref, msgs } = await scheduledOver(deps, Buffer.from(jsonlOf(2)));
    await run(deps, msgs[0] as ChunkMessage);
    expect(await finalizeBatch(deps, ref)).toBe('finalized');
    const output = await deps.files.get(tenant, (await deps.batches.get(ref))?.output_file_id ?? '');
    expect(output?.expires_at).toBe((output?.created_at ?? 0) + 3 * 86_400);
  });

  it('writes batch_expired lines for the first chunk of a file that starts with a UTF-8 BOM', async () => {
    const deps = fakeDeps({ CHUNK_MAX_LINES: '3' });
    const { ref, msgs } = await scheduledOver(deps, Buffer.concat([BOM, Buffer.from(jsonlOf(5))]));
    expect(msgs).toHaveLength(2);
    await run(deps, msgs[1] as ChunkMessage);
    await deps.batches.transition(ref, 'finalizing', 0, { end_reason: 'expired' }, ['in_progress']);
    expect(await finalizeBatch(deps, ref)).toBe('finalized');
    const batch = await deps.batches.get(ref);
    expect(batch).toMatchObject({ status: 'expired', completed: 2, failed: 3 });
    const err = deps.blobs.text((await deps.files.get(tenant, batch?.error_file_id ?? ''))?.s3_key ?? '');
    expect(ids(err)).toEqual(['req-0', 'req-1', 'req-2']);
  });
});
