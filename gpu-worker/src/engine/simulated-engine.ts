import { createHash } from 'node:crypto';
import type { Engine, EngineResponse } from './engine.js';

/**
 * SIMULATED engine, for tests and local runs without a GPU: answers every batch endpoint with
 * well-formed, deterministic OpenAI responses derived from the request. Latency and a failure
 * rate (HTTP 500, which the worker retries) are configurable. It performs no inference.
 */
export class SimulatedEngine implements Engine {
  readonly name = 'simulated';
  private calls = 0;

  constructor(private readonly options: { latencyMs: number; failureRate: number; seed?: string }) {}

  /** A number in [0, 1) from the seed, the call count and the body: deterministic per run. */
  private failureDraw(json: string): number {
    const digest = createHash('sha1')
      .update(`${this.options.seed ?? ''}${this.calls}${json}`)
      .digest();
    return (digest[0] ?? 0) / 256;
  }

  async send(path: string, body: Record<string, unknown>, signal?: AbortSignal): Promise<EngineResponse> {
    this.calls += 1;
    if (this.options.latencyMs > 0) await sleep(this.options.latencyMs, signal);
    const json = JSON.stringify(body);
    if (this.options.failureRate > 0 && this.failureDraw(json) < this.options.failureRate) {
      return {
        status: 500,
        body: {
          error: { message: 'Simulated engine failure', type: 'server_error', param: null, code: null },
        },
      };
    }
    const model = typeof body.model === 'string' ? body.model : 'simulated';
    const created = 1_700_000_000;
    const id = createHash('sha1').update(json).digest('hex').slice(0, 24);
    const prompt = promptOf(body);
    const text = `Simulated reply to: ${prompt.slice(0, 60)}`;
    const usage = {
      prompt_tokens: words(prompt),
      completion_tokens: words(text),
      total_tokens: words(prompt) + words(text),
    };
    switch (path) {
      case '/v1/chat/completions':
        return {
          status: 200,
          body: {
            id: `chatcmpl-${id}`,
            object: 'chat.completion',
            created,
            model,
            choices: [
              {
                index: 0,
                message: { role: 'assistant', content: text, refusal: null },
                logprobs: null,
                finish_reason: 'stop',
              },
            ],
            usage,
          },
        };
      case '/v1/completions':
        return {
          status: 200,
          body: {
            id: `cmpl-${id}`,
            object: 'text_completion',
            created,
            model,
            choices: [{ index: 0, text, logprobs: null, finish_reason: 'stop' }],
            usage,
          },
        };
      case '/v1/embeddings': {
        const inputs = Array.isArray(body.input) ? body.input : [body.input];
        return {
          status: 200,
          body: {
            object: 'list',
            model,
            data: inputs.map((input, index) => ({
              object: 'embedding',
              index,
              embedding: vectorOf(String(input)),
            })),
            usage: { prompt_tokens: usage.prompt_tokens, total_tokens: usage.prompt_tokens },
          },
        };
      }
      case '/v1/responses':
        return {
          status: 200,
          body: {
            id: `resp_${id}`,
            object: 'response',
            created_at: created,
            status: 'completed',
            model,
            output: [
              {
                type: 'message',
                id: `msg_${id}`,
                status: 'completed',
                role: 'assistant',
                content: [{ type: 'output_text', text, annotations: [] }],
              },
            ],
            usage: {
              input_tokens: usage.prompt_tokens,
              output_tokens: usage.completion_tokens,
              total_tokens: usage.total_tokens,
            },
          },
        };
      default:
        return {
          status: 404,
          body: {
            error: {
              message: `Unknown endpoint ${path}`,
              type: 'invalid_request_error',
              param: null,
              code: null,
            },
          },
        };
    }
  }
}

function promptOf(body: Record<string, unknown>): string {
  if (Array.isArray(body.messages)) {
    const last = body.messages.at(-1) as { content?: unknown } | undefined;
    return typeof last?.content === 'string' ? last.content : JSON.stringify(last?.content ?? '');
  }
  for (const k of ['prompt', 'input'])
    if (body[k] !== undefined) return typeof body[k] === 'string' ? body[k] : JSON.stringify(body[k]);
  return '';
}

const words = (s: string): number => Math.max(1, s.split(/\s+/).filter(Boolean).length);

function vectorOf(s: string): number[] {
  const d = createHash('sha256').update(s).digest();
  return Array.from({ length: 8 }, (_, i) => ((d[i] ?? 0) - 128) / 128);
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  if (signal?.aborted) return Promise.reject(signal.reason);
  return new Promise((resolve, reject) => {
    const t = setTimeout(resolve, ms);
    signal?.addEventListener(
      'abort',
      () => {
        clearTimeout(t);
        reject(signal.reason);
      },
      { once: true },
    );
  });
}
