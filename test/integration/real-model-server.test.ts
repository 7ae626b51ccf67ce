import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RealModelServer, startRealModelServer } from '../support/real-engine/real-model-server.js';

let server: RealModelServer;

beforeAll(async () => {
  const t0 = performance.now();
  server = await startRealModelServer();
  console.log(
    `real model server up at ${server.url} in ${Math.round(performance.now() - t0)} ms (${server.modelPath})`,
  );
}, 60_000);

afterAll(async () => {
  await server?.close();
});

async function post(path: string, body: unknown): Promise<{ status: number; json: Record<string, unknown> }> {
  const res = await fetch(`${server.url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  expect(res.headers.get('content-type')).toBe('application/json');
  return { status: res.status, json: (await res.json()) as Record<string, unknown> };
}

const usageShape = {
  prompt_tokens: expect.any(Number),
  completion_tokens: expect.any(Number),
  total_tokens: expect.any(Number),
};

describe('real model server (llama.cpp, tiny generated GGUF)', () => {
  it('serves POST /v1/chat/completions with an OpenAI chat.completion body', async () => {
    const t0 = performance.now();
    const { status, json } = await post('/v1/chat/completions', {
      model: 'tiny',
      messages: [
        { role: 'system', content: 'You are a test.' },
        { role: 'user', content: 'Say hello' },
      ],
      max_tokens: 8,
    });
    const ms = performance.now() - t0;
    expect(status).toBe(200);
    expect(json).toMatchObject({
      id: expect.stringMatching(/^chatcmpl-/),
      object: 'chat.completion',
      created: expect.any(Number),
      model: 'tiny',
      choices: [
        { index: 0, message: { role: 'assistant', content: expect.any(String) }, finish_reason: 'length' },
      ],
      usage: usageShape,
    });
    const usage = json.usage as { prompt_tokens: number; completion_tokens: number; total_tokens: number };
    expect(usage.completion_tokens).toBeGreaterThan(0);
    expect(usage.completion_tokens).toBe(8); // max_tokens honoured
    expect(usage.prompt_tokens).toBeGreaterThan(0);
    expect(usage.total_tokens).toBe(usage.prompt_tokens + usage.completion_tokens);
    expect(ms).toBeLessThan(2000); // ~10-100 ms in practice; slack for a loaded 2-core CI box
  });

  it('serves POST /v1/completions with an OpenAI text_completion body (default max_tokens 16)', async () => {
    const { status, json } = await post('/v1/completions', { model: 'tiny', prompt: 'Once upon a time' });
    expect(status).toBe(200);
    expect(json).toMatchObject({
      id: expect.stringMatching(/^cmpl-/),
      object: 'text_completion',
      created: expect.any(Number),
      model: 'tiny',
      choices: [{ index: 0, text: expect.any(String), finish_reason: 'length' }],
      usage: usageShape,
    });
    const usage = json.usage as { prompt_tokens: number; completion_tokens: number; total_tokens: number };
    expect(usage.completion_tokens).toBe(16);
    expect(usage.total_tokens).toBe(usage.prompt_tokens + usage.completion_tokens);
  });

  it('is deterministic by default (greedy) and really runs the model (output depends on the prompt)', async () => {
    const a = await post('/v1/completions', { model: 'tiny', prompt: 'abc', max_tokens: 12 });
    const b = await post('/v1/completions', { model: 'tiny', prompt: 'abc', max_tokens: 12 });
    const c = await post('/v1/completions', { model: 'tiny', prompt: 'xyz 123', max_tokens: 12 });
    const text = (r: { json: Record<string, unknown> }) => (r.json.choices as { text: string }[])[0]?.text;
    expect(text(a)).toBe(text(b));
    expect(text(a)).not.toBe(text(c));
  });

  it("honours stop strings with finish_reason 'stop'", async () => {
    const first = await post('/v1/completions', { model: 'tiny', prompt: 'stop test', max_tokens: 16 });
    const full = (first.json.choices as { text: string }[])[0]?.text ?? '';
    const stop = full.slice(4, 6); // a string the model is known to produce
    const { json } = await post('/v1/completions', {
      model: 'tiny',
      prompt: 'stop test',
      max_tokens: 16,
      stop,
    });
    const choice = (json.choices as { text: string; finish_reason: string }[])[0];
    expect(choice?.finish_reason).toBe('stop');
    expect(choice?.text).toBe(full.slice(0, full.indexOf(stop)));
  });

  it('handles a batch of prompts in one /v1/completions call', async () => {
    const { status, json } = await post('/v1/completions', {
      model: 'tiny',
      prompt: ['a', 'b', 'c'],
      max_tokens: 4,
    });
    expect(status).toBe(200);
    expect((json.choices as { index: number }[]).map((c) => c.index)).toEqual([0, 1, 2]);
    expect((json.usage as { completion_tokens: number }).completion_tokens).toBe(12);
  });

  it('serves POST /v1/embeddings with unit-length vectors', async () => {
    const { status, json } = await post('/v1/embeddings', { model: 'tiny', input: ['hello', 'world'] });
    expect(status).toBe(200);
    expect(json).toMatchObject({
      object: 'list',
      model: 'tiny',
      usage: { prompt_tokens: expect.any(Number), total_tokens: expect.any(Number) },
    });
    const data = json.data as { object: string; index: number; embedding: number[] }[];
    expect(data.map((d) => [d.object, d.index])).toEqual([
      ['embedding', 0],
      ['embedding', 1],
    ]);
    expect(data[0]?.embedding.length).toBe(64);
    expect(Math.hypot(...(data[0]?.embedding ?? []))).toBeCloseTo(1, 4);
    expect(data[0]?.embedding).not.toEqual(data[1]?.embedding);
  });

  it('serves GET /v1/models and /health', async () => {
    const models = await (await fetch(`${server.url}/v1/models`)).json();
    expect(models).toMatchObject({ object: 'list', data: [{ id: server.modelId, object: 'model' }] });
    expect((await fetch(`${server.url}/health`)).status).toBe(200);
  });

  it.each([
    ['invalid JSON', '/v1/chat/completions', '{not json', null],
    ['non-object body', '/v1/chat/completions', '[1,2]', null],
    ['missing messages', '/v1/chat/completions', { model: 'tiny' }, 'messages'],
    [
      'bad role',
      '/v1/chat/completions',
      { model: 'tiny', messages: [{ role: 'robot', content: 'x' }] },
      'messages[0].role',
    ],
    ['missing model', '/v1/chat/completions', { messages: [{ role: 'user', content: 'x' }] }, 'model'],
    ['bad max_tokens', '/v1/completions', { model: 'tiny', prompt: 'x', max_tokens: -1 }, 'max_tokens'],
    ['missing prompt', '/v1/completions', { model: 'tiny' }, 'prompt'],
    ['empty embeddings input', '/v1/embeddings', { model: 'tiny', input: '' }, 'input'],
    ['over context length', '/v1/completions', { model: 'tiny', prompt: 'x', max_tokens: 100_000 }, 'prompt'],
  ])('returns 400 with an OpenAI error body for %s', async (_name, path, body, param) => {
    const { status, json } = await post(path, body);
    expect(status).toBe(400);
    expect(json).toEqual({
      error: { message: expect.any(String), type: 'invalid_request_error', param, code: null },
    });
  });

  it('returns 404 for unknown routes', async () => {
    const { status, json } = await post('/v1/nope', {});
    expect(status).toBe(404);
    expect(json).toMatchObject({ error: { type: 'invalid_request_error' } });
  });

  it('listens on an explicit port, and rejects (without leaking the engine) when it is taken', async () => {
    const port = Number(new URL(server.url).port);
    await expect(startRealModelServer({ port })).rejects.toThrow(/EADDRINUSE/);
  });

  it('serialises concurrent requests and answers them all', async () => {
    const results = await Promise.all(
      Array.from({ length: 6 }, (_, i) =>
        post('/v1/chat/completions', {
          model: 'tiny',
          messages: [{ role: 'user', content: `req ${i}` }],
          max_tokens: 5,
        }),
      ),
    );
    for (const r of results) {
      expect(r.status).toBe(200);
      expect((r.json.usage as { completion_tokens: number }).completion_tokens).toBe(5);
    }
  });
});
