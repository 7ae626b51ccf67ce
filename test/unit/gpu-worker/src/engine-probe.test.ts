import { describe, expect, it } from 'vitest';
import { EngineProbe, engineRoot, sampleSum, vllmGauges } from '../../../../gpu-worker/src/engine-probe.js';
import { MeasuredEngine } from '../../../../gpu-worker/src/measured-engine.js';
import { WorkerMeter } from '../../../../gpu-worker/src/worker-meter.js';

/** What vLLM's /metrics looks like (trimmed): one series per model. */
const vllmPage = `# HELP vllm:num_requests_running Number of requests currently running on GPU.
# TYPE vllm:num_requests_running gauge
vllm:num_requests_running{model_name="llama"} 12.0
vllm:num_requests_running{model_name="qwen"} 3.0
# HELP vllm:num_requests_waiting Number of requests waiting to be processed.
# TYPE vllm:num_requests_waiting gauge
vllm:num_requests_waiting{model_name="llama"} 40.0
# HELP vllm:gpu_cache_usage_perc GPU KV-cache usage. 1 means 100 percent usage.
# TYPE vllm:gpu_cache_usage_perc gauge
vllm:gpu_cache_usage_perc{model_name="llama"} 0.875
vllm:num_requests_running_total_not_this 99
`;

describe('reading vLLM figures', () => {
  it('sums a metric over its label sets, and only that metric', () => {
    expect(sampleSum(vllmPage, 'vllm:num_requests_running')).toBe(15);
    expect(sampleSum(vllmPage, 'vllm:missing')).toBeUndefined();
    expect(sampleSum('plain 2\nplain{a="b"} 3', 'plain')).toBe(5);
  });

  it('reads KV-cache usage as a percentage, running and waiting requests', () => {
    expect(vllmGauges(vllmPage)).toEqual({
      kvCacheUsagePercent: 87.5,
      requestsRunning: 15,
      requestsWaiting: 40,
    });
    expect(vllmGauges('vllm:kv_cache_usage_perc{engine="0"} 0.25\n')).toEqual({ kvCacheUsagePercent: 25 });
    expect(vllmGauges('')).toEqual({});
  });

  it('finds the engine root from ENGINE_URL', () => {
    expect(engineRoot('http://gpu:8000/v1')).toBe('http://gpu:8000');
    expect(engineRoot('http://gpu:8000/v1/')).toBe('http://gpu:8000');
    expect(engineRoot('http://gpu:8000/engine/v1')).toBe('http://gpu:8000/engine');
    expect(engineRoot('http://gpu:8000')).toBe('http://gpu:8000');
  });
});

/** A fetch answering from a table of path → status and text; anything else refuses the connection. */
function fakeFetch(pages: Record<string, [number, string]>) {
  const asked: string[] = [];
  const fetch = async (url: string, init: { headers: Record<string, string> }) => {
    asked.push(`${url} ${init.headers.authorization ?? ''}`.trim());
    const page = pages[new URL(url).pathname];
    if (!page) throw new TypeError('fetch failed');
    return { status: page[0], text: async () => page[1] };
  };
  return { fetch, asked };
}

describe('EngineProbe', () => {
  it('reports health and the Prometheus figures, with the engine key', async () => {
    const { fetch, asked } = fakeFetch({ '/health': [200, ''], '/metrics': [200, vllmPage] });
    const probe = new EngineProbe('http://gpu:8000', { apiKey: 'k', fetch });
    expect(await probe.probe()).toEqual({
      healthy: true,
      gauges: { kvCacheUsagePercent: 87.5, requestsRunning: 15, requestsWaiting: 40 },
    });
    expect(asked.sort()).toEqual(['http://gpu:8000/health Bearer k', 'http://gpu:8000/metrics Bearer k']);
  });

  it('stops asking an engine without a Prometheus endpoint for one, and counts 5xx and no answer as unhealthy', async () => {
    const { fetch, asked } = fakeFetch({ '/health': [503, 'loading'], '/metrics': [404, 'not found'] });
    const probe = new EngineProbe('http://gpu:8000', { fetch });
    expect(await probe.probe()).toEqual({ healthy: false });
    expect(await probe.probe()).toEqual({ healthy: false });
    expect(asked.filter((a) => a.endsWith('/metrics'))).toHaveLength(1);
    const down = new EngineProbe('http://gpu:8000', { fetch: fakeFetch({}).fetch });
    expect(await down.probe()).toEqual({ healthy: false });
  });
});

describe('WorkerMeter', () => {
  it('hands over each figure once: interruptions, lease renewals, probes and the engine figures', async () => {
    const engine = new MeasuredEngine({ name: 'x', send: async () => ({ status: 200, body: {} }) });
    const meter = new WorkerMeter(engine);
    expect(meter.take()).not.toHaveProperty('unhealthyProbes');
    await engine.send('/v1/chat/completions', {});
    meter.interrupted();
    meter.renewed(3);
    meter.renewed(2);
    meter.probed({ healthy: true, gauges: { kvCacheUsagePercent: 50, requestsWaiting: 2 } });
    meter.probed({ healthy: false });
    const f = meter.take();
    expect(f).toMatchObject({
      interruptions: 1,
      leaseRenewals: 5,
      unhealthyProbes: 1,
      kvCacheUsagePercent: [50],
      requestsRunning: [],
      requestsWaiting: [2],
    });
    expect(f.engine.latenciesMs).toHaveLength(1);
    expect(meter.take()).toMatchObject({ interruptions: 0, leaseRenewals: 0, kvCacheUsagePercent: [] });
  });
});
