import { usageOfBody } from '../../core/results/usage.js';
import type { Engine, EngineResponse } from './engine/engine.js';

/** What the engine did since the last `take()`. */
export interface EngineFigures {
  /**
   * Milliseconds of the answered calls (errors included): every one, or a uniform sample of
   * `maxSamples` of them when there were more, so a busy engine's flush stays a few EMF lines.
   */
  latenciesMs: number[];
  /** Answered calls, sampled or not. */
  answered: number;
  /** Tokens the engine generated (`usage.completion_tokens`, or `output_tokens` of the Responses API). */
  tokens: number;
  /** Calls that sent a request again after a failed try. */
  retries: number;
  /** Failed calls by code: the HTTP status (`500`, `429`), `timeout` or `unreachable`. */
  errors: Map<string, number>;
}

const empty = (): EngineFigures => ({
  latenciesMs: [],
  answered: 0,
  tokens: 0,
  retries: 0,
  errors: new Map(),
});

/**
 * An engine that measures every call it passes on: latency, generated tokens, errors by code
 * and retries, kept in memory until the worker's next metrics flush takes them. A retry is a
 * request body sent again (the chunk runner retries with the same body object), so nothing in
 * the runner needs to know about metrics.
 */
export class MeasuredEngine implements Engine {
  private figures = empty();
  private readonly sent = new WeakSet<object>();

  constructor(
    private readonly engine: Engine,
    private readonly opts: { now?: () => number; maxSamples?: number; random?: () => number } = {},
  ) {}

  get name(): string {
    return this.engine.name;
  }

  async send(path: string, body: Record<string, unknown>, signal?: AbortSignal): Promise<EngineResponse> {
    if (this.sent.has(body)) this.figures.retries += 1;
    else this.sent.add(body);
    const now = this.opts.now ?? (() => performance.now());
    const started = now();
    let res: EngineResponse;
    try {
      res = await this.engine.send(path, body, signal);
    } catch (err) {
      // A call cut short by the worker stopping is not the engine's failure.
      if (!signal?.aborted) this.count(timedOut(err) ? 'timeout' : 'unreachable');
      throw err;
    }
    this.sample(now() - started);
    if (res.status >= 400) this.count(String(res.status));
    else this.figures.tokens += usageOfBody(res.body).output;
    return res;
  }

  close(): Promise<void> {
    return this.engine.close?.() ?? Promise.resolve();
  }

  /** The figures since the last call, and starts counting afresh. */
  take(): EngineFigures {
    const taken = this.figures;
    this.figures = empty();
    return taken;
  }

  /** Reservoir sampling (algorithm R): each answered call equally likely to be kept. */
  private sample(ms: number): void {
    const f = this.figures;
    const max = this.opts.maxSamples ?? 1000;
    f.answered += 1;
    if (f.latenciesMs.length < max) f.latenciesMs.push(ms);
    else {
      const j = Math.floor((this.opts.random ?? Math.random)() * f.answered);
      if (j < max) f.latenciesMs[j] = ms;
    }
  }

  private count(code: string): void {
    this.figures.errors.set(code, (this.figures.errors.get(code) ?? 0) + 1);
  }
}

const timedOut = (err: unknown) => (err as { name?: unknown } | null)?.name === 'TimeoutError';
