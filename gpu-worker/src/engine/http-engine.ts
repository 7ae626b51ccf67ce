import type { Engine, EngineResponse } from './engine.js';

/**
 * The real engine path: an OpenAI-compatible HTTP server (vLLM, llama.cpp's server, TGI…)
 * reached at ENGINE_URL. The batch line's `url` (e.g. /v1/chat/completions) is appended to
 * the engine's base URL.
 */
export class HttpEngine implements Engine {
  readonly name = 'http';
  private readonly base: string;

  constructor(
    baseUrl: string,
    private readonly options: { apiKey?: string; timeoutMs: number },
  ) {
    this.base = baseUrl.replace(/\/+$/, '').replace(/\/v1$/, '');
  }

  async send(path: string, body: Record<string, unknown>, signal?: AbortSignal): Promise<EngineResponse> {
    const timeout = AbortSignal.timeout(this.options.timeoutMs);
    const res = await fetch(`${this.base}${path}`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        ...(this.options.apiKey ? { authorization: `Bearer ${this.options.apiKey}` } : {}),
      },
      body: JSON.stringify(body),
      signal: signal ? AbortSignal.any([signal, timeout]) : timeout,
    });
    const text = await res.text();
    let parsed: unknown;
    try {
      parsed = text.length > 0 ? JSON.parse(text) : null;
    } catch {
      parsed = { error: { message: text.slice(0, 2000), type: 'engine_error', param: null, code: null } };
    }
    return { status: res.status, body: parsed };
  }
}
