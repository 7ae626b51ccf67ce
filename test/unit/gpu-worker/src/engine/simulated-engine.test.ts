import { afterEach, describe, expect, it, vi } from 'vitest';
import { isRetryableStatus } from '../../../../../gpu-worker/src/engine/engine.js';
import { SimulatedEngine } from '../../../../../gpu-worker/src/engine/simulated-engine.js';

const engine = (options: Partial<ConstructorParameters<typeof SimulatedEngine>[0]> = {}) =>
  new SimulatedEngine({ latencyMs: 0, failureRate: 0, ...options });

const chat = { model: 'llama-3', messages: [{ role: 'user', content: 'Tell me about spot instances' }] };

afterEach(() => {
  vi.useRealTimers();
});

/** Records how a promise settles, without leaving a rejection unhandled. */
function settle(promise: Promise<{ status: number }>): { value: string | undefined } {
  const outcome: { value: string | undefined } = { value: undefined };
  promise.then(
    (r) => {
      outcome.value = `resolved: ${r.status}`;
    },
    (err: unknown) => {
      outcome.value = `rejected: ${err instanceof Error ? err.message : String(err)}`;
    },
  );
  return outcome;
}

describe('SimulatedEngine', () => {
  it('answers /v1/chat/completions with a chat.completion', async () => {
    const res = await engine().send('/v1/chat/completions', chat);
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      id: expect.stringMatching(/^chatcmpl-[0-9a-f]{24}$/),
      object: 'chat.completion',
      created: expect.any(Number),
      model: 'llama-3',
      choices: [
        {
          index: 0,
          message: {
            role: 'assistant',
            content: 'Simulated reply to: Tell me about spot instances',
            refusal: null,
          },
          logprobs: null,
          finish_reason: 'stop',
        },
      ],
      usage: { prompt_tokens: 5, completion_tokens: 8, total_tokens: 13 },
    });
  });

  it('answers /v1/completions with a text_completion from the prompt', async () => {
    const res = await engine().send('/v1/completions', { model: 'm', prompt: 'Once upon a time' });
    expect(res).toEqual({
      status: 200,
      body: {
        id: expect.stringMatching(/^cmpl-/),
        object: 'text_completion',
        created: expect.any(Number),
        model: 'm',
        choices: [
          { index: 0, text: 'Simulated reply to: Once upon a time', logprobs: null, finish_reason: 'stop' },
        ],
        usage: { prompt_tokens: 4, completion_tokens: 7, total_tokens: 11 },
      },
    });
  });

  it('answers /v1/embeddings with one vector per input, in order', async () => {
    const res = await engine().send('/v1/embeddings', { model: 'embed', input: ['alpha', 'beta', 'alpha'] });
    expect(res.status).toBe(200);
    const body = res.body as {
      object: string;
      model: string;
      data: { object: string; index: number; embedding: number[] }[];
      usage: { prompt_tokens: number; total_tokens: number };
    };
    expect(body.object).toBe('list');
    expect(body.model).toBe('embed');
    expect(body.data.map((d) => [d.object, d.index, d.embedding.length])).toEqual([
      ['embedding', 0, 8],
      ['embedding', 1, 8],
      ['embedding', 2, 8],
    ]);
    for (const d of body.data) for (const x of d.embedding) expect(Math.abs(x)).toBeLessThanOrEqual(1);
    expect(body.data[0]?.embedding).toEqual(body.data[2]?.embedding);
    expect(body.data[0]?.embedding).not.toEqual(body.data[1]?.embedding);
    expect(body.usage.total_tokens).toBe(body.usage.prompt_tokens);
  });

  it('answers /v1/embeddings with a single string input as one vector', async () => {
    const res = await engine().send('/v1/embeddings', { model: 'embed', input: 'just one' });
    expect((res.body as { data: unknown[] }).data).toHaveLength(1);
  });

  it('answers /v1/responses with a completed response', async () => {
    const res = await engine().send('/v1/responses', { model: 'm', input: 'Hello there' });
    expect(res).toEqual({
      status: 200,
      body: {
        id: expect.stringMatching(/^resp_/),
        object: 'response',
        created_at: expect.any(Number),
        status: 'completed',
        model: 'm',
        output: [
          {
            type: 'message',
            id: expect.stringMatching(/^msg_/),
            status: 'completed',
            role: 'assistant',
            content: [{ type: 'output_text', text: 'Simulated reply to: Hello there', annotations: [] }],
          },
        ],
        usage: { input_tokens: 2, output_tokens: 5, total_tokens: 7 },
      },
    });
  });

  it("falls back to model 'simulated' when the request names none", async () => {
    const res = await engine().send('/v1/completions', { prompt: 'x' });
    expect((res.body as { model: string }).model).toBe('simulated');
  });

  it('answers an unknown path with a 404 in OpenAI error shape', async () => {
    const res = await engine().send('/v1/images/generations', { model: 'm' });
    expect(res).toEqual({
      status: 404,
      body: {
        error: {
          message: 'Unknown endpoint /v1/images/generations',
          type: 'invalid_request_error',
          param: null,
          code: null,
        },
      },
    });
  });

  it('is deterministic: the same request gets the same answer, from this engine or another', async () => {
    const a = engine();
    const first = await a.send('/v1/chat/completions', chat);
    const again = await a.send('/v1/chat/completions', chat);
    const elsewhere = await engine().send('/v1/chat/completions', chat);
    expect(again).toEqual(first);
    expect(elsewhere).toEqual(first);
  });

  it('answers different requests differently', async () => {
    const e = engine();
    const a = await e.send('/v1/chat/completions', chat);
    const b = await e.send('/v1/chat/completions', {
      ...chat,
      messages: [{ role: 'user', content: 'other' }],
    });
    expect((a.body as { id: string }).id).not.toBe((b.body as { id: string }).id);
  });

  it('fails every request with a retryable 500 at failureRate 1', async () => {
    const e = engine({ failureRate: 1 });
    for (let i = 0; i < 20; i++) {
      const res = await e.send('/v1/chat/completions', { ...chat, n: i });
      expect(res).toEqual({
        status: 500,
        body: {
          error: { message: 'Simulated engine failure', type: 'server_error', param: null, code: null },
        },
      });
      expect(isRetryableStatus(res.status)).toBe(true);
    }
  });

  it('fails no request at failureRate 0', async () => {
    const e = engine({ failureRate: 0 });
    for (let i = 0; i < 50; i++)
      expect((await e.send('/v1/completions', { prompt: `p${i}` })).status).toBe(200);
  });

  it('fails a share of requests near the failure rate, the same ones for the same seed', async () => {
    const run = async (seed: string) => {
      const e = engine({ failureRate: 0.3, seed });
      const statuses: number[] = [];
      for (let i = 0; i < 400; i++)
        statuses.push((await e.send('/v1/completions', { prompt: `p${i}` })).status);
      return statuses;
    };
    const first = await run('seed-a');
    expect(await run('seed-a')).toEqual(first);
    const failures = first.filter((s) => s === 500).length;
    expect(failures).toBeGreaterThan(80);
    expect(failures).toBeLessThan(160);
    expect(await run('seed-b')).not.toEqual(first);
  });

  it('retries of a failed request can succeed (the decision depends on the attempt)', async () => {
    const e = engine({ failureRate: 0.5, seed: 'retry' });
    const statuses = new Set<number>();
    for (let i = 0; i < 40; i++) statuses.add((await e.send('/v1/completions', { prompt: 'same' })).status);
    expect(statuses).toEqual(new Set([200, 500]));
  });

  it('waits latencyMs before answering', async () => {
    vi.useFakeTimers();
    const e = engine({ latencyMs: 250 });
    let settled = false;
    const pending = e.send('/v1/completions', { prompt: 'x' }).then((r) => {
      settled = true;
      return r;
    });
    await vi.advanceTimersByTimeAsync(249);
    expect(settled).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    expect(settled).toBe(true);
    expect((await pending).status).toBe(200);
  });

  it('stops waiting with the abort reason when the signal aborts', async () => {
    vi.useFakeTimers();
    const controller = new AbortController();
    const pending = engine({ latencyMs: 10_000 }).send('/v1/completions', { prompt: 'x' }, controller.signal);
    const outcome = settle(pending);
    await vi.advanceTimersByTimeAsync(100);
    expect(outcome.value).toBeUndefined();
    controller.abort(new Error('spot interruption'));
    await vi.advanceTimersByTimeAsync(0);
    expect(outcome.value).toBe('rejected: spot interruption');
  });

  it('rejects at once when the signal was already aborted', async () => {
    vi.useFakeTimers();
    const controller = new AbortController();
    controller.abort(new Error('already stopped'));
    const outcome = settle(
      engine({ latencyMs: 10_000 }).send('/v1/completions', { prompt: 'x' }, controller.signal),
    );
    await vi.advanceTimersByTimeAsync(0);
    // Like fetch: an aborted signal stops the call before any work, instead of after the full latency.
    expect(outcome.value).toBe('rejected: already stopped');
  });
});

describe('isRetryableStatus', () => {
  it.each([
    [408, true],
    [429, true],
    [500, true],
    [502, true],
    [503, true],
    [200, false],
    [400, false],
    [401, false],
    [404, false],
    [422, false],
  ])('%i is retryable: %s', (status, expected) => {
    expect(isRetryableStatus(status)).toBe(expected);
  });
});
