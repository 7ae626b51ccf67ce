/**
 * Reads the engine's own figures where it publishes them, as vLLM does on its Prometheus
 * endpoint (`GET /metrics`), and probes its health endpoint (`GET /health`, vLLM and llama.cpp's
 * server). Both live at the engine's root: ENGINE_URL without its `/v1`.
 */

export interface EngineGauges {
  /** KV-cache usage, 0–100 % (vLLM's `vllm:gpu_cache_usage_perc`, `vllm:kv_cache_usage_perc` in V1, a 0–1 fraction). */
  kvCacheUsagePercent?: number;
  /** `vllm:num_requests_running`. */
  requestsRunning?: number;
  /** `vllm:num_requests_waiting`. */
  requestsWaiting?: number;
}

export interface ProbeResult {
  /** False when the health endpoint did not answer, timed out or answered 5xx. */
  healthy: boolean;
  /** Undefined when the engine has no Prometheus endpoint (or it could not be read). */
  gauges?: EngineGauges;
}

/** Sum of every sample of `name` (over its label sets) in Prometheus' text format; undefined if none. */
export function sampleSum(text: string, name: string): number | undefined {
  let sum: number | undefined;
  for (const line of text.split('\n')) {
    if (!line.startsWith(name)) continue;
    const rest = line.slice(name.length);
    if (rest[0] !== ' ' && rest[0] !== '{') continue;
    const afterLabels = rest[0] === '{' ? rest.slice(rest.indexOf('}') + 1) : rest;
    const value = Number(afterLabels.trim().split(/\s+/)[0]);
    if (Number.isFinite(value)) sum = (sum ?? 0) + value;
  }
  return sum;
}

/** The engine gauges in a vLLM `/metrics` page. */
export function vllmGauges(text: string): EngineGauges {
  const usage = sampleSum(text, 'vllm:gpu_cache_usage_perc') ?? sampleSum(text, 'vllm:kv_cache_usage_perc');
  const running = sampleSum(text, 'vllm:num_requests_running');
  const waiting = sampleSum(text, 'vllm:num_requests_waiting');
  return {
    ...(usage !== undefined ? { kvCacheUsagePercent: usage * 100 } : {}),
    ...(running !== undefined ? { requestsRunning: running } : {}),
    ...(waiting !== undefined ? { requestsWaiting: waiting } : {}),
  };
}

/** The engine's root URL (what `/metrics` and `/health` hang off) from ENGINE_URL. */
export function engineRoot(engineUrl: string): string {
  const url = new URL(engineUrl);
  return `${url.origin}${url.pathname.replace(/\/+$/, '').replace(/\/v1$/, '')}`;
}

type Fetch = (
  url: string,
  init: { signal: AbortSignal; headers: Record<string, string> },
) => Promise<{
  status: number;
  text(): Promise<string>;
}>;

/**
 * Probes an engine: its health, and its Prometheus figures until the first time it turns out
 * to have none (a 404: not vLLM), after which only health is probed.
 */
export class EngineProbe {
  private hasMetrics = true;

  constructor(
    private readonly root: string,
    private readonly opts: { apiKey?: string; timeoutMs?: number; fetch?: Fetch } = {},
  ) {}

  async probe(): Promise<ProbeResult> {
    const [healthy, gauges] = await Promise.all([
      this.health(),
      this.hasMetrics ? this.metrics() : undefined,
    ]);
    return { healthy, ...(gauges ? { gauges } : {}) };
  }

  private get(path: string) {
    const fetch = this.opts.fetch ?? (globalThis.fetch as unknown as Fetch);
    return fetch(`${this.root}${path}`, {
      signal: AbortSignal.timeout(this.opts.timeoutMs ?? 5_000),
      headers: this.opts.apiKey ? { authorization: `Bearer ${this.opts.apiKey}` } : {},
    });
  }

  private async health(): Promise<boolean> {
    try {
      const res = await this.get('/health');
      await res.text();
      return res.status < 500;
    } catch {
      return false;
    }
  }

  private async metrics(): Promise<EngineGauges | undefined> {
    try {
      const res = await this.get('/metrics');
      const text = await res.text();
      if (res.status === 404) this.hasMetrics = false;
      return res.status === 200 ? vllmGauges(text) : undefined;
    } catch {
      return undefined;
    }
  }
}
