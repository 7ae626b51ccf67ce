import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type BatchRecord, newBatchRecord, toBatchObject } from '../../core/batches/batch-record.js';
import type { ChunkRange } from '../../core/chunks/plan-chunks.js';
import { startTestAws, type TestAws } from '../support/test-aws.js';

/**
 * DynamoDB runs on DynamoDB Local here: exactly-once completion rests on conditional writes
 * excluding each other under concurrency, which moto's DynamoDB does not guarantee (about one
 * run in two let two of eight concurrent transactions through).
 */
let t: TestAws;
beforeAll(async () => {
  t = await startTestAws({}, { dynamoDbLocal: true });
});
afterAll(() => t?.close());

let n = 0;
async function runningBatch(chunks: number, fields: Partial<BatchRecord> = {}) {
  const id = `batch_${String(++n).padStart(4, '0')}`;
  const ref = { tenant: 'tenant-a', batchId: id };
  const record = newBatchRecord({
    tenant: 'tenant-a',
    id,
    endpoint: '/v1/chat/completions',
    inputFileId: 'file-x',
    inputKey: 'tenant-a/files/file-x.jsonl',
    inputBytes: 1000,
    completionWindow: '24h',
    windowMs: 86_400_000,
    metadata: null,
    priority: 'normal',
    nowMs: Date.now(),
  });
  await t.deps.batches.create({ ...record, ...fields });
  const ranges: ChunkRange[] = Array.from({ length: chunks }, (_, i) => ({
    chunk: i,
    byteStart: i * 100,
    byteEnd: (i + 1) * 100,
    lineStart: i * 10 + 1,
    lineEnd: (i + 1) * 10,
    requests: 10,
  }));
  await t.deps.batches.putChunks(ref, ranges, 0);
  await t.deps.batches.transition(ref, 'in_progress', 1, { total: chunks * 10, chunk_count: chunks });
  return ref;
}

const outcome = { completed: 9, failed: 1, outputKey: 'o', errorKey: 'e', pool: 'spot' as const };

describe('BatchStore against the emulator', () => {
  it('shows live progress of running chunks and replaces it with the final counts at completion, once', async () => {
    const ref = await runningBatch(2);
    expect(await t.deps.batches.reportProgress(ref, 0, { completed: 3, failed: 1 })).toBe(true);
    expect(await t.deps.batches.reportProgress(ref, 1, { completed: 2, failed: 0 })).toBe(true);
    expect(await t.deps.batches.reportProgress(ref, 0, { completed: 5, failed: 1 })).toBe(true); // set, not added
    const live = await t.deps.batches.get(ref);
    expect(toBatchObject(live as BatchRecord).request_counts).toEqual({ total: 20, completed: 7, failed: 1 });
    expect(await t.deps.batches.completeChunk(ref, 0, outcome)).toBe(true);
    // A late report from another attempt of the done chunk is refused.
    expect(await t.deps.batches.reportProgress(ref, 0, { completed: 6, failed: 1 })).toBe(false);
    const after = await t.deps.batches.get(ref);
    expect(after?.progress_0).toBeUndefined();
    expect(toBatchObject(after as BatchRecord).request_counts).toEqual({
      total: 20,
      completed: 11,
      failed: 1,
    });
  });

  it('completes a chunk exactly once under concurrent completions', async () => {
    const ref = await runningBatch(2);
    const wins = await Promise.all(
      Array.from({ length: 8 }, () => t.deps.batches.completeChunk(ref, 0, outcome)),
    );
    expect(wins.filter(Boolean)).toHaveLength(1);
    const chunks = await t.deps.batches.listChunks(ref);
    expect(chunks.map((c) => c.status)).toEqual(['done', 'pending']);
    const batch = await t.deps.batches.get(ref);
    expect([batch?.completed, batch?.failed, batch?.chunks_done, batch?.spot_requests]).toEqual([
      9, 1, 1, 10,
    ]);
  });

  it('refuses to complete a chunk once the batch stopped running', async () => {
    const ref = await runningBatch(1);
    await t.deps.batches.transition(ref, 'cancelling', 2);
    expect(await t.deps.batches.completeChunk(ref, 0, outcome)).toBe(false);
    expect((await t.deps.batches.listChunks(ref))[0]?.status).toBe('pending');
  });

  it('moves status only from allowed predecessors, stamping the timestamp', async () => {
    const ref = await runningBatch(1);
    expect(await t.deps.batches.transition(ref, 'completed', 5)).toBeUndefined();
    const finalizing = await t.deps.batches.transition(ref, 'finalizing', 7);
    expect(finalizing?.status).toBe('finalizing');
    expect(finalizing?.finalizing_at).toBe(7);
    const done = await t.deps.batches.transition(ref, 'completed', 8);
    expect(done?.active).toBeUndefined();
  });

  it("drops the file's plan with the move out of validating, in the same write", async () => {
    const ref = await runningBatch(1, { plan: '{"v":1}' });
    const batch = await t.deps.batches.get(ref);
    expect(batch?.status).toBe('in_progress');
    expect(batch?.plan).toBeUndefined();
  });

  it('lists only running batches from the sparse index', async () => {
    const running = await runningBatch(1);
    const ended = await runningBatch(1);
    await t.deps.batches.transition(ended, 'cancelling', 3);
    await t.deps.batches.transition(ended, 'cancelled', 4);
    const ids = (await t.deps.batches.listActive()).map((b) => b.id);
    expect(ids).toContain(running.batchId);
    expect(ids).not.toContain(ended.batchId);
  });

  it('records a checkpoint only while the chunk is pending', async () => {
    const ref = await runningBatch(1);
    expect(await t.deps.batches.saveCheckpoint(ref, 0, { key: 'ck', lines: 4 })).toBe(true);
    const [chunk] = await t.deps.batches.listChunks(ref);
    expect([chunk?.checkpoint_key, chunk?.checkpoint_lines, chunk?.interruptions]).toEqual(['ck', 4, 1]);
    await t.deps.batches.completeChunk(ref, 0, outcome);
    expect(await t.deps.batches.saveCheckpoint(ref, 0, { key: 'ck2', lines: 5 })).toBe(false);
  });

  it('records the part sizes of a completed chunk, for the per-request view', async () => {
    const ref = await runningBatch(2);
    await t.deps.batches.completeChunk(ref, 0, { ...outcome, outputBytes: 4_321, errorBytes: 87 });
    await t.deps.batches.completeChunk(ref, 1, { ...outcome, failed: 0, errorKey: undefined });
    const [first, second] = await t.deps.batches.listChunks(ref);
    expect([first?.output_bytes, first?.error_bytes]).toEqual([4_321, 87]);
    // A worker that records no sizes leaves them unset (readers count lines instead).
    expect(second).not.toHaveProperty('output_bytes');
  });

  it('appends retries to a batch, in order, and refuses a batch that does not exist', async () => {
    const ref = await runningBatch(1);
    await t.deps.batches.addRetry(ref, 'batch_r1');
    await t.deps.batches.addRetry(ref, 'batch_r2');
    expect((await t.deps.batches.get(ref))?.retries).toEqual(['batch_r1', 'batch_r2']);
    await expect(t.deps.batches.addRetry({ ...ref, batchId: 'batch_none' }, 'batch_r3')).rejects.toThrow();
  });

  it('lists batches newest first with has_more', async () => {
    for (let i = 0; i < 3; i++) await runningBatch(1);
    const page = await t.deps.batches.list('tenant-a', { limit: 2 });
    expect(page.items).toHaveLength(2);
    expect(page.hasMore).toBe(true);
    expect((page.items[0]?.id ?? '') > (page.items[1]?.id ?? '')).toBe(true);
    const next = await t.deps.batches.list('tenant-a', { limit: 100, after: page.items[1]?.id });
    expect(next.items.every((b) => b.id < (page.items[1]?.id ?? ''))).toBe(true);
    expect(await t.deps.batches.list('tenant-b', { limit: 10 })).toEqual({ items: [], hasMore: false });
  });
});

describe('finalization claims', () => {
  it('lets one finalizer in at a time, and another once the claim lapsed', async () => {
    const ref = await runningBatch(1);
    const claims = await Promise.all([1, 2, 3].map(() => t.deps.batches.claimFinalization(ref, 100, 200)));
    expect(claims.filter(Boolean)).toHaveLength(1);
    expect(await t.deps.batches.claimFinalization(ref, 150, 250)).toBe(false);
    expect(await t.deps.batches.claimFinalization(ref, 201, 300)).toBe(true);
  });
});
