import type OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDeps } from '../../core/app/deps.js';
import { chunkMessage } from '../../core/chunks/dispatch.js';
import { type LocalRuntime, startLocalRuntime } from '../../localstack/runtime/runtime.js';
import { countIds, resultLines, sdk, upload, waitUntilEnded } from '../support/sdk.js';
import { chatLines, waitFor } from '../support/test-aws.js';

/**
 * Failures the design promises to survive, against real worker processes: a worker killed
 * mid-chunk, a spot interruption (SIGTERM), duplicate deliveries, and the completion window
 * running out. Every request still appears exactly once.
 */
let rt: LocalRuntime;
let client: OpenAI;
beforeAll(async () => {
  rt = await startLocalRuntime({
    port: 0,
    apiKeys: { 'sk-res': 'tenant-r' },
    workerVisibilityTimeoutSeconds: 3,
    // 100-line chunks at 20 ms a request, 4 at a time: about half a second per chunk.
    env: {
      CHUNK_MAX_LINES: '100',
      SIM_ENGINE_LATENCY_MS: '20',
      ENGINE_CONCURRENCY: '4',
      CHUNKS_IN_PARALLEL: '1',
      COMPLETION_WINDOWS: '24h,3s',
      // The 3 s window is meant to run out: admitted with a warning, not refused at create.
      SLA_ADMISSION: 'warn',
    },
    slaEverySeconds: 3600,
  });
  client = sdk(rt.url, 'sk-res');
});
afterAll(() => rt?.close());

const spotWorker = () => rt.fleet.workers.find((w) => w.pool === 'spot');

async function start(n: number, prefix: string, window: '24h' | '3s' = '24h') {
  const file = await upload(client, chatLines(n, { prefix }));
  const batch = await client.batches.create({
    input_file_id: file.id,
    endpoint: '/v1/chat/completions',
    completion_window: window as '24h',
  });
  await waitFor(
    async () => ((await client.batches.retrieve(batch.id)).status === 'in_progress' ? true : undefined),
    20_000,
    50,
  );
  return batch.id;
}

async function expectExactlyOnce(batchId: string, n: number, prefix: string) {
  const batch = await waitUntilEnded(client, batchId, 90_000);
  expect(batch.status).toBe('completed');
  const lines = [
    ...(await resultLines(client, batch.output_file_id)),
    ...(await resultLines(client, batch.error_file_id)),
  ];
  const counts = countIds(lines);
  expect(counts.size).toBe(n);
  expect([...counts.entries()].filter(([, c]) => c !== 1)).toEqual([]);
  expect([...counts.keys()].every((id) => id.startsWith(`${prefix}-`))).toBe(true);
  expect(batch.request_counts).toEqual({
    total: n,
    completed: lines.filter((l) => l.response?.status_code === 200).length,
    failed: lines.filter((l) => l.response?.status_code !== 200).length,
  });
  return batch;
}

describe('resilience of the batch path', () => {
  it('survives a worker killed mid-chunk: the chunk is redelivered and counted once', async () => {
    const id = await start(400, 'kill');
    await new Promise((r) => setTimeout(r, 300));
    const victim = spotWorker()?.child;
    victim?.kill('SIGKILL');
    await waitFor(async () => (spotWorker()?.child !== victim ? true : undefined), 10_000, 50);
    await expectExactlyOnce(id, 400, 'kill');
  });

  it('checkpoints on a spot interruption (SIGTERM) and finishes the rest on dedicated', async () => {
    const id = await start(400, 'term');
    await new Promise((r) => setTimeout(r, 300));
    const victim = spotWorker()?.child;
    victim?.kill('SIGTERM');
    const batch = (await expectExactlyOnce(id, 400, 'term')) as unknown as {
      openbatch: { chunks: { interruptions: number }; pools: { dedicated: number } };
    };
    expect(batch.openbatch.chunks.interruptions).toBeGreaterThanOrEqual(1);
    expect(batch.openbatch.pools.dedicated).toBeGreaterThan(0);
  });

  it('writes each request once although every chunk message is delivered twice', async () => {
    const id = await start(300, 'twice');
    // What the SLA monitor may do: send copies of chunks to the dedicated queue.
    const deps = createDeps('slaMonitor', rt.functionEnv('slaMonitor'), rt.aws);
    const ref = { tenant: 'tenant-r', batchId: id };
    const batch = await deps.batches.get(ref);
    const chunks = await deps.batches.listChunks(ref);
    // A second copy of every chunk, on the other pool's queue, so two workers race for each.
    await deps.queue.sendAll(
      'dedicated',
      chunks.map((c) => chunkMessage(batch as NonNullable<typeof batch>, c)),
    );
    await expectExactlyOnce(id, 300, 'twice');
  });

  it('expires at the completion window: finished requests kept, the rest batch_expired', async () => {
    const id = await start(2000, 'late', '3s');
    await new Promise((r) => setTimeout(r, 3200));
    await rt.runSlaMonitor();
    const batch = await waitUntilEnded(client, id, 30_000);
    expect(batch.status).toBe('expired');
    expect(batch.expired_at).toBeGreaterThan(0);
    const output = await resultLines(client, batch.output_file_id);
    const errors = await resultLines(client, batch.error_file_id);
    expect(output.length + errors.length).toBe(2000);
    expect(countIds([...output, ...errors]).size).toBe(2000);
    expect(errors.length).toBeGreaterThan(0);
    expect(errors.every((l) => l.error?.code === 'batch_expired' && l.response === null)).toBe(true);
    expect(batch.request_counts).toEqual({ total: 2000, completed: output.length, failed: errors.length });
  });
});
