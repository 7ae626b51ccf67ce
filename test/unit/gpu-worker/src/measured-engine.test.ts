import { describe, expect, it } from 'vitest';
import type { Engine, EngineResponse } from '../../../../gpu-worker/src/engine/engine.js';
import { MeasuredEngine } from '../../../../gpu-worker/src/measured-engine.js';

/** An engine that answers from a script, one entry per call; a string entry throws an error of that name. */
function scripted(script: (EngineResponse | string)[]): Engine {
  let i = 0;
  return {
    name: 'scripted',
    send: async () => {
      const next = script[i++];
      if (typeof next === 'string') throw Object.assign(new Error(next), { name: next });
      return next as EngineResponse;
    },
  };
}

const ok = (usage: Record<string, number>): EngineResponse => ({ status: 200, body: { usage } });

describe('MeasuredEngine', () => {
  it('measures latency and generated tokens of every answered call', async () => {
    let t = 0;
    const engine = new MeasuredEngine(
      scripted([ok({ completion_tokens: 7, prompt_tokens: 3 }), ok({ output_tokens: 5 }), ok({})]),
      { now: () => (t += 10) },
    );
    for (let i = 0; i < 3; i++) await engine.send('/v1/chat/completions', { n: i });
    const f = engine.take();
    expect(f.latenciesMs).toEqual([10, 10, 10]);
    expect(f.tokens).toBe(12);
    expect(f.retries).toBe(0);
    expect(f.errors.size).toBe(0);
    expect(f.answered).toBe(3);
    expect(engine.take()).toEqual({ latenciesMs: [], answered: 0, tokens: 0, retries: 0, errors: new Map() });
  });

  it('counts errors by code and a body sent again as a retry', async () => {
    const engine = new MeasuredEngine(
      scripted([{ status: 500, body: null }, 'TimeoutError', 'Error', { status: 429, body: null }, ok({})]),
    );
    const body = { model: 'm' };
    await engine.send('/v1/chat/completions', body);
    await expect(engine.send('/v1/chat/completions', body)).rejects.toThrow();
    await expect(engine.send('/v1/chat/completions', body)).rejects.toThrow();
    await engine.send('/v1/chat/completions', body);
    await engine.send('/v1/chat/completions', { model: 'other' });
    const f = engine.take();
    expect(f.retries).toBe(3);
    expect([...f.errors].sort()).toEqual([
      ['429', 1],
      ['500', 1],
      ['timeout', 1],
      ['unreachable', 1],
    ]);
    expect(f.latenciesMs).toHaveLength(3);
  });

  it('does not count a call cut short by the worker stopping as an engine error', async () => {
    const engine = new MeasuredEngine(scripted(['AbortError']));
    const stop = new AbortController();
    stop.abort('SIGTERM');
    await expect(engine.send('/v1/embeddings', {}, stop.signal)).rejects.toThrow();
    expect(engine.take().errors.size).toBe(0);
  });

  it('keeps a uniform sample of at most maxSamples latencies, and counts every call', async () => {
    let t = 0;
    const engine = new MeasuredEngine(
      { name: 'x', send: async () => ({ status: 200, body: {} }) },
      // Call i takes i ms; the random draw always keeps the newest call in slot 0.
      { now: () => t, maxSamples: 4, random: () => 0 },
    );
    for (let i = 1; i <= 10; i++) {
      const p = engine.send('/v1/chat/completions', {});
      t += i;
      await p;
    }
    const f = engine.take();
    expect(f.answered).toBe(10);
    expect(f.latenciesMs).toEqual([10, 2, 3, 4]);
  });
});
