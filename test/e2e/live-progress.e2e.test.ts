import type OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LocalRuntime, startLocalRuntime } from '../../localstack/runtime/runtime.js';
import { resultLines, sdk, upload, waitUntilEnded } from '../support/sdk.js';
import { chatLines } from '../support/test-aws.js';

/**
 * Live progress and partial output, end to end: request_counts move inside a chunk (the
 * worker shows its finished lines every few seconds), and a running batch's output so far can
 * be downloaded, marked partial. The SIMULATED engine answers in 40 ms, 2 at a time, so one
 * 300-line chunk runs for about 6 s and the batch for several seconds.
 */
const KEY = 'sk-live';
let rt: LocalRuntime;
let client: OpenAI;
beforeAll(async () => {
  rt = await startLocalRuntime({
    port: 0,
    apiKeys: { [KEY]: 'tenant-live' },
    workers: { spot: 1, dedicated: 0 },
    env: {
      CHUNK_MAX_LINES: '300',
      CHUNK_TAIL_MIN_LINES: '0',
      SIM_ENGINE_LATENCY_MS: '40',
      ENGINE_CONCURRENCY: '2',
      CHUNKS_IN_PARALLEL: '1',
    },
  });
  client = sdk(rt.url, KEY);
});
afterAll(() => rt?.close());

const partial = async (batchId: string, fromChunk?: number) => {
  const res = await fetch(
    `${rt.url}/v1/openbatch/batches/${batchId}/partial_output${fromChunk ? `?from_chunk=${fromChunk}` : ''}`,
    { headers: { authorization: `Bearer ${KEY}` }, redirect: 'manual' },
  );
  const text = await res.text();
  return {
    status: res.status,
    partial: res.headers.get('openbatch-partial'),
    chunksDone: res.headers.get('openbatch-chunks-done'),
    ids: text
      .split('\n')
      .filter(Boolean)
      .map((l) => (JSON.parse(l) as { custom_id: string }).custom_id),
  };
};

describe('live progress and partial output', () => {
  it('moves request_counts within a chunk and serves the output so far, in order, marked partial', async () => {
    const file = await upload(client, chatLines(600, { prefix: 'live' }));
    const created = await client.batches.create({
      input_file_id: file.id,
      endpoint: '/v1/chat/completions',
      completion_window: '24h',
    });
    // Seen while the first chunk still runs: counts above 0 and below its 300 lines.
    const within: number[] = [];
    let sawPartial: Awaited<ReturnType<typeof partial>> | undefined;
    for (let i = 0; i < 400; i++) {
      const b = await client.batches.retrieve(created.id);
      if (b.status !== 'in_progress') {
        if (['completed', 'failed', 'expired', 'cancelled'].includes(b.status)) break;
      } else {
        const done = b.request_counts?.completed ?? 0;
        if (done > 0 && done % 300 !== 0) within.push(done);
        if (done >= 300 && !sawPartial) {
          const p = await partial(created.id);
          if (p.ids.length > 0) sawPartial = p;
        }
      }
      if (within.length >= 2 && sawPartial) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(within.length).toBeGreaterThan(0);
    expect(sawPartial).toMatchObject({ status: 200, partial: 'true' });
    // Whole chunks, in input order, each line once.
    const ids = sawPartial?.ids ?? [];
    expect(ids.length % 300).toBe(0);
    expect(ids).toEqual(Array.from({ length: ids.length }, (_, i) => `live-${i}`));

    const batch = await waitUntilEnded(client, created.id);
    expect(batch.request_counts).toEqual({ total: 600, completed: 600, failed: 0 });
    const after = await partial(created.id);
    expect(after.partial).toBe('false');
    const output = await resultLines(client, batch.output_file_id);
    expect(after.ids).toEqual(output.map((l) => l.custom_id));
  });

  it('answers 404 in OpenAI’s shape for an unknown batch and 400 for a bad cursor', async () => {
    const res = await fetch(`${rt.url}/v1/openbatch/batches/batch_nope/partial_output`, {
      headers: { authorization: `Bearer ${KEY}` },
    });
    expect(res.status).toBe(404);
    expect(await res.json()).toMatchObject({ error: { type: 'invalid_request_error' } });
    const bad = await fetch(`${rt.url}/v1/openbatch/batches/batch_nope/partial_output?from_chunk=-1`, {
      headers: { authorization: `Bearer ${KEY}` },
    });
    expect(bad.status, await bad.clone().text()).toBe(400);
    expect(await bad.json()).toMatchObject({ error: { param: 'from_chunk' } });
  });
});
