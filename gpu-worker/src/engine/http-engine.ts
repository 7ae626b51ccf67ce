import { Pool } from 'undici';
import type { Engine, EngineResponse } from './engine.js';

export interface HttpEngineOptions {
  apiKey?: string;
  /**
   * How long the engine may take to start answering, and then how long it may pause between
   * two pieces of the body. Enforced per connection by the pool (undici's headers and body
   * timeouts), so a request allocates no timer and no signal of its own.
   */
  timeoutMs: number;
  /** Keep-alive connections to the engine: the worker's engine budget (one request per connection). */
  connections?: number;
}

const TIMEOUT_CODES = new Set(['UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT']);

/**
 * The real engine path: an OpenAI-compatible HTTP server (vLLM, llama.cpp's server, TGI…)
 * reached at ENGINE_URL. The batch line's `url` (e.g. /v1/chat/completions) is appended to
 * the engine's base URL. One bounded pool of keep-alive connections per engine: requests reuse
 * connections instead of opening one each, and never more than `connections` are open.
 */
export class HttpEngine implements Engine {
  readonly name = 'http';
  private readonly pool: Pool;
  private readonly prefix: string;
  private readonly headers: Record<string, string>;

  constructor(baseUrl: string, options: HttpEngineOptions) {
    const url = new URL(baseUrl);
    this.prefix = url.pathname.replace(/\/+$/, '').replace(/\/v1$/, '').replace(/\/+$/, '');
    this.pool = new Pool(url.origin, {
      connections: options.connections ?? 256,
      pipelining: 1,
      headersTimeout: options.timeoutMs,
      bodyTimeout: options.timeoutMs,
      connectTimeout: Math.min(options.timeoutMs, 10_000),
    });
    this.headers = {
      'content-type': 'application/json',
      ...(options.apiKey ? { authorization: `Bearer ${options.apiKey}` } : {}),
    };
  }

  async send(path: string, body: Record<string, unknown>, signal?: AbortSignal): Promise<EngineResponse> {
    if (signal?.aborted) throw signal.reason;
    let text: string;
    let status: number;
    try {
      const res = await this.pool.request({
        path: `${this.prefix}${path}`,
        method: 'POST',
        headers: this.headers,
        body: JSON.stringify(body),
        ...(signal ? { signal } : {}),
      });
      status = res.statusCode;
      text = await res.body.text();
    } catch (err) {
      throw asTimeout(err);
    }
    let parsed: unknown;
    try {
      parsed = text.length > 0 ? JSON.parse(text) : null;
    } catch {
      parsed = { error: { message: text.slice(0, 2000), type: 'engine_error', param: null, code: null } };
    }
    return { status, body: parsed };
  }

  /** Closes the pool's connections once the requests in flight are answered. */
  close(): Promise<void> {
    return this.pool.close();
  }
}

/** undici's headers and body timeouts, as the `TimeoutError` an `AbortSignal.timeout` would give. */
function asTimeout(err: unknown): unknown {
  const code = (err as { code?: unknown } | undefined)?.code;
  if (typeof code !== 'string' || !TIMEOUT_CODES.has(code)) return err;
  return Object.assign(new Error(`The engine did not answer in time (${code})`, { cause: err }), {
    name: 'TimeoutError',
  });
}
