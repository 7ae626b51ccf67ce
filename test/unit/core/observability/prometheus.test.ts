import { describe, expect, it } from 'vitest';
import { toFlush } from '../../../../core/observability/metrics.js';
import { MetricsRegistry, prometheusName } from '../../../../core/observability/prometheus.js';

/** The value of one sample line of the rendering, by its name and labels as written. */
const sample = (text: string, series: string): number | undefined => {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
};

describe('prometheusName', () => {
  it('snake-cases the EMF name and adds the unit and _total as Prometheus names do', () => {
    expect(prometheusName('openbatch', 'ApiRequests', 'counter', 'Count')).toBe(
      'openbatch_api_requests_total',
    );
    expect(prometheusName('openbatch', 'BytesWritten', 'counter', 'Bytes')).toBe(
      'openbatch_bytes_written_total',
    );
    expect(prometheusName('openbatch', 'EngineLatency', 'summary', 'Milliseconds')).toBe(
      'openbatch_engine_latency_seconds',
    );
    expect(prometheusName('openbatch', 'EngineKvCacheUsage', 'gauge', 'Percent')).toBe(
      'openbatch_engine_kv_cache_usage_percent',
    );
    expect(prometheusName('openbatch', 'BatchesBySlaState', 'gauge', 'Count')).toBe(
      'openbatch_batches_by_sla_state',
    );
  });
});

describe('MetricsRegistry', () => {
  it('sums counters over processes and flushes, per label set', () => {
    const r = new MetricsRegistry();
    r.add(toFlush({ Function: 'api', Route: 'GET /v1/batches', Status: '200' }, { ApiRequests: 1 }));
    r.add(toFlush({ Status: '200', Function: 'api', Route: 'GET /v1/batches' }, { ApiRequests: 2 }));
    r.add(toFlush({ Function: 'api', Route: 'POST /v1/batches', Status: '400' }, { ApiRequests: 1 }));
    const text = r.render();
    expect(text).toContain('# TYPE openbatch_api_requests_total counter');
    expect(
      sample(text, 'openbatch_api_requests_total{function="api",route="GET /v1/batches",status="200"}'),
    ).toBe(3);
    expect(
      sample(text, 'openbatch_api_requests_total{function="api",route="POST /v1/batches",status="400"}'),
    ).toBe(1);
  });

  it('keeps the last value of a gauge', () => {
    const r = new MetricsRegistry();
    r.add(
      toFlush(
        { Function: 'sla-monitor', SlaState: 'at_risk' },
        { BatchesBySlaState: { value: 3, gauge: true } },
      ),
    );
    r.add(
      toFlush(
        { Function: 'sla-monitor', SlaState: 'at_risk' },
        { BatchesBySlaState: { value: 1, gauge: true } },
      ),
    );
    r.add(toFlush({ Pool: 'spot' }, { EngineKvCacheUsage: { value: 37.5, unit: 'Percent' } }));
    const text = r.render();
    expect(text).toContain('# TYPE openbatch_batches_by_sla_state gauge');
    expect(sample(text, 'openbatch_batches_by_sla_state{function="sla-monitor",sla_state="at_risk"}')).toBe(
      1,
    );
    expect(sample(text, 'openbatch_engine_kv_cache_usage_percent{pool="spot"}')).toBe(37.5);
  });

  it('renders times as summaries in seconds: quantiles over the latest window, sum and count over all', () => {
    const r = new MetricsRegistry(100);
    // 1..200 ms: the window keeps the latest 100 (101..200 ms).
    for (let i = 1; i <= 200; i += 10)
      r.add(
        toFlush(
          { Pool: 'spot' },
          { EngineLatency: { value: Array.from({ length: 10 }, (_, k) => i + k), unit: 'Milliseconds' } },
        ),
      );
    const text = r.render();
    expect(text).toContain('# TYPE openbatch_engine_latency_seconds summary');
    expect(sample(text, 'openbatch_engine_latency_seconds{pool="spot",quantile="0.5"}')).toBeCloseTo(0.15, 3);
    expect(sample(text, 'openbatch_engine_latency_seconds{pool="spot",quantile="0.99"}')).toBeCloseTo(
      0.199,
      3,
    );
    expect(sample(text, 'openbatch_engine_latency_seconds_count{pool="spot"}')).toBe(200);
    expect(sample(text, 'openbatch_engine_latency_seconds_sum{pool="spot"}')).toBeCloseTo(20.1, 6);
  });

  it('escapes label values and renders nothing before the first flush', () => {
    const r = new MetricsRegistry();
    expect(r.render()).toBe('');
    r.add(toFlush({ Code: 'a"b\\c\nd' }, { WorkerErrors: 1 }));
    expect(r.render()).toContain('openbatch_worker_errors_total{code="a\\"b\\\\c\\nd"} 1');
  });

  it('writes well-formed exposition lines only', () => {
    const r = new MetricsRegistry();
    r.add(toFlush({ Function: 'finalizer' }, { BytesWritten: { value: 2048, unit: 'Bytes' } }));
    r.add(toFlush({ Function: 'finalizer' }, { FinalizeDuration: { value: 12, unit: 'Milliseconds' } }));
    for (const line of r.render().trimEnd().split('\n'))
      expect(line).toMatch(
        /^(# (HELP|TYPE) [a-z_]+ .+|[a-z_]+(\{([a-z_]+="([^"\\]|\\.)*",?)+\})? [-+0-9.eInfNa]+)$/,
      );
  });
});
