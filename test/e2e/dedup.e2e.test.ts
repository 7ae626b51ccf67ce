import type OpenAI from 'openai';
import type { Batch, BatchCreateParams } from 'openai/resources/batches';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LocalRuntime, startLocalRuntime } from '../../localstack/runtime/runtime.js';
import { resultLines, sdk, upload, waitUntilEnded } from '../support/sdk.js';

/**
 * Exact deduplication end to end (docs/dedup.md): the official SDK for the OpenAI contract
 * (the `openbatch` create extension travels in the body it sends), plain HTTP for the
 * per-request view, against the local runtime (functions and workers in their own processes,
 * every AWS call checked against its declared access). The SIMULATED engine answers a body the
 * same way every time, so a reused answer is told apart from a fresh one by its `request_id`,
 * which the worker issues per engine call.
 */
const KEY = 'sk-dedup';
let rt: LocalRuntime;
let client: OpenAI;
beforeAll(async () => {
  rt = await startLocalRuntime({
    port: 0,
    apiKeys: { [KEY]: 'tenant-dedup' },
    env: { CHUNK_MAX_LINES: '4', CHUNK_TAIL_MIN_LINES: '0' },
    slaEverySeconds: 3600,
  });
  client = sdk(rt.url, KEY);
});
afterAll(() => rt?.close());

type Extended = Batch & { openbatch: { dedup: string; reused: number } };
interface Row {
  custom_id: string;
  line: number;
  status: string;
  reused: boolean;
}

/** A chat request; `greedy` ones set temperature 0, the rest sample (no temperature). */
const request = (customId: string, content: string, greedy = true) =>
  JSON.stringify({
    custom_id: customId,
    method: 'POST',
    url: '/v1/chat/completions',
    body: greedy
      ? { model: 'sim', temperature: 0, messages: [{ role: 'user', content }] }
      : { model: 'sim', messages: [{ role: 'user', content }] },
  });

async function runBatch(lines: string[], openbatch?: { dedup: boolean | 'include_sampling' }) {
  const file = await upload(client, `${lines.join('\n')}\n`);
  const created = await client.batches.create({
    input_file_id: file.id,
    endpoint: '/v1/chat/completions',
    completion_window: '24h',
    ...(openbatch ? { openbatch } : {}),
  } as BatchCreateParams);
  const batch = (await waitUntilEnded(client, created.id)) as Extended;
  expect(batch.status).toBe('completed');
  const out = new Map((await resultLines(client, batch.output_file_id)).map((l) => [l.custom_id, l]));
  const res = await fetch(`${rt.url}/v1/openbatch/batches/${batch.id}/requests?limit=100`, {
    headers: { authorization: `Bearer ${KEY}` },
  });
  expect(res.status).toBe(200);
  const rows = ((await res.json()) as { data: Row[] }).data;
  return { batch, out, rows };
}

describe('dedup with the official SDK', () => {
  const greedy = Array.from({ length: 6 }, (_, i) => request(`first-${i}`, `greedy question ${i}`));
  const sampled = [
    request('first-s0', 'sampled question 0', false),
    request('first-s1', 'sampled question 1', false),
  ];
  let first: Awaited<ReturnType<typeof runBatch>>;

  beforeAll(async () => {
    first = await runBatch([...greedy, ...sampled]);
  });

  it('reuses the answers of the requests answered before: half of the second batch, marked and counted', async () => {
    expect(first.batch.openbatch).toMatchObject({ dedup: 'on', reused: 0 });
    // Three earlier requests (one with its body's keys in another order), three new ones, and
    // the two sampling requests again.
    const reordered = JSON.stringify({
      method: 'POST',
      url: '/v1/chat/completions',
      custom_id: 'second-2',
      body: { messages: [{ content: 'greedy question 4', role: 'user' }], temperature: 0, model: 'sim' },
    });
    const second = await runBatch([
      request('second-0', 'greedy question 0'),
      request('second-1', 'new question 1'),
      reordered,
      request('second-3', 'new question 3'),
      request('second-4', 'greedy question 5'),
      request('second-5', 'new question 5'),
      request('second-s0', 'sampled question 0', false),
      request('second-s1', 'sampled question 1', false),
    ]);
    expect(second.batch.request_counts).toMatchObject({ total: 8, completed: 8, failed: 0 });
    expect(second.batch.openbatch).toMatchObject({ dedup: 'on', reused: 3 });
    const pairs: [string, string][] = [
      ['second-0', 'first-0'],
      ['second-2', 'first-4'],
      ['second-4', 'first-5'],
    ];
    for (const [now, before] of pairs) {
      const line = second.out.get(now);
      const earlier = first.out.get(before);
      // The earlier answer as it was (body and the engine call's request_id), in a line of its own.
      expect(line?.response).toEqual(earlier?.response);
      expect(line?.id).not.toBe(earlier?.id);
    }
    // New and sampling requests ran again: their own engine calls.
    expect(second.out.get('second-s0')?.response?.request_id).not.toBe(
      first.out.get('first-s0')?.response?.request_id,
    );
    expect(second.rows.filter((r) => r.reused).map((r) => r.custom_id)).toEqual([
      'second-0',
      'second-2',
      'second-4',
    ]);
    expect(second.rows.every((r) => r.status === 'succeeded')).toBe(true);
  });

  it('reuses nothing for a batch created with dedup off', async () => {
    const off = await runBatch(greedy.slice(0, 3), { dedup: false });
    expect(off.batch.openbatch).toMatchObject({ dedup: 'off', reused: 0 });
    expect(off.rows.some((r) => r.reused)).toBe(false);
    for (let i = 0; i < 3; i++)
      expect(off.out.get(`first-${i}`)?.response?.request_id).not.toBe(
        first.out.get(`first-${i}`)?.response?.request_id,
      );
  });

  it('reuses sampling requests only when the batch asks for include_sampling', async () => {
    // Recorded by a batch that includes sampling, reused by the next one that does.
    const recorder = await runBatch([request('rec-0', 'sampled question 9', false)], {
      dedup: 'include_sampling',
    });
    expect(recorder.batch.openbatch).toMatchObject({ dedup: 'include_sampling', reused: 0 });
    const onlyOn = await runBatch([request('on-0', 'sampled question 9', false)]);
    expect(onlyOn.batch.openbatch.reused).toBe(0);
    const asks = await runBatch([request('ask-0', 'sampled question 9', false)], {
      dedup: 'include_sampling',
    });
    expect(asks.batch.openbatch.reused).toBe(1);
    expect(asks.out.get('ask-0')?.response).toEqual(recorder.out.get('rec-0')?.response);
  });

  it('refuses an unknown dedup value with a 400 naming it', async () => {
    const file = await upload(client, `${greedy[0]}\n`);
    await expect(
      client.batches.create({
        input_file_id: file.id,
        endpoint: '/v1/chat/completions',
        completion_window: '24h',
        openbatch: { dedup: 'sometimes' },
      } as unknown as BatchCreateParams),
    ).rejects.toMatchObject({ status: 400 });
  });
});
