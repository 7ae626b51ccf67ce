import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Principal } from '../../core/app/deps.js';
import { finalizeBatch } from '../../core/batches/finalize-batch.js';
import type { ChunkMessage } from '../../core/chunks/chunk-message.js';
import { slaSweep } from '../../core/sla/sla-sweep.js';
import { SimulatedEngine } from '../../gpu-worker/src/engine/simulated-engine.js';
import { runChunk } from '../../gpu-worker/src/run-chunk.js';
import { chatLines, createAndSchedule, drainQueue, startTestAws, type TestAws } from '../support/test-aws.js';

/**
 * Windowed dispatch through the real adapters and queues (moto's SQS, DynamoDB Local), each flow
 * with exactly its own grants: two of a batch's five chunks are queued at first, each completion
 * sends the next, and a chain message lost on the way is sent again by the SLA monitor.
 */
let t: TestAws;
beforeAll(async () => {
  t = await startTestAws(
    {
      CHUNK_MAX_LINES: '10',
      CHUNK_TAIL_MIN_LINES: '0',
      DISPATCH_WINDOW_CHUNKS: '2',
      DISPATCH_STALL_SECONDS: '1',
    },
    { dynamoDbLocal: true },
  );
});
afterAll(() => t?.close());

const tenant = 'tenant-w';
const as = (principal: Principal) => t.depsOf(principal);
const engine = new SimulatedEngine({ latencyMs: 0, failureRate: 0 });
const stop = new AbortController().signal;

const drain = async (url: string, parse = true): Promise<ChunkMessage[]> =>
  (await drainQueue(t, url, parse)).messages;

const spot = () => drain(t.env.SPOT_QUEUE_URL as string);
const run = (msg: ChunkMessage) =>
  runChunk(as('worker'), msg, { pool: 'spot', engine, concurrency: 4, maxRetries: 0, stop });

describe('windowed dispatch', () => {
  it('queues a window of chunks, sends each next one on completion, and resends a lost one after a stall', async () => {
    const { ref, outcome } = await createAndSchedule(t, tenant, chatLines(50, { prefix: 'w' }));
    expect(outcome).toBe('scheduled');

    const first = await spot();
    expect(first.map((m) => [m.chunk, (m.chain ?? []).map(([c]) => c)])).toEqual([
      [0, [2, 4]],
      [1, [3]],
    ]);
    // Chunk 0 completes: the worker sends chunk 2 (with 4 after it) and stamps the batch.
    expect((await run(first[0] as ChunkMessage)).outcome).toBe('completed');
    const second = await spot();
    expect(second.map((m) => [m.chunk, m.lineStart, m.lineEnd, (m.chain ?? []).map(([c]) => c)])).toEqual([
      [2, 21, 30, [4]],
    ]);
    expect((await t.deps.batches.get(ref))?.last_chunk_at).toBeGreaterThan(0);
    // Chunk 1 completes and sends chunk 3, whose message is lost; chunks 2 and 4 run.
    await run(first[1] as ChunkMessage);
    expect((await spot()).map((m) => m.chunk)).toEqual([3]);
    await run(second[0] as ChunkMessage);
    const [fourth] = await spot();
    expect(fourth?.chunk).toBe(4);
    expect(fourth?.chain).toBeUndefined();
    expect((await run(fourth as ChunkMessage)).finalizeRequested).toBe(false);

    // No chunk completes for DISPATCH_STALL_SECONDS: the SLA monitor sends chunk 3 again.
    await new Promise((r) => setTimeout(r, 2_100));
    const report = await slaSweep(as('slaMonitor'));
    expect(report.redispatched).toEqual([{ batchId: ref.batchId, chunks: 1 }]);
    const [again] = await spot();
    expect(again).toMatchObject({ chunk: 3, lineStart: 31, lineEnd: 40 });
    expect((await run(again as ChunkMessage)).finalizeRequested).toBe(true);
    expect(await finalizeBatch(as('finalizer'), ref)).toBe('finalized');
    expect(await t.deps.batches.get(ref)).toMatchObject({ status: 'completed', completed: 50, failed: 0 });
  });
});
