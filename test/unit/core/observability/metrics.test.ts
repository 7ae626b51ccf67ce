import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  emitMetrics,
  forwardMetrics,
  type MetricFlush,
  toFlush,
} from '../../../../core/observability/metrics.js';

// As on ECS and in the local runtime: EMF lines on stdout. The library reads it when it loads.
vi.hoisted(() => {
  process.env.AWS_EMF_ENVIRONMENT = 'Local';
});

describe('toFlush', () => {
  it('reads counts, values with units, gauges, and leaves out metrics without a value', () => {
    expect(
      toFlush(
        { Pool: 'spot' },
        {
          RequestsRun: 3,
          EngineLatency: { value: [12, 30, Number.NaN], unit: 'Milliseconds' },
          EngineRequestsWaiting: { value: 4, gauge: true },
          EngineKvCacheUsage: { value: 42.5, unit: 'Percent', gauge: true },
          TokensGenerated: { value: [] },
        },
      ),
    ).toEqual({
      namespace: 'openbatch',
      dimensions: { Pool: 'spot' },
      metrics: [
        { name: 'RequestsRun', unit: 'Count', values: [3], gauge: false },
        { name: 'EngineLatency', unit: 'Milliseconds', values: [12, 30], gauge: false },
        { name: 'EngineRequestsWaiting', unit: 'Count', values: [4], gauge: true },
        { name: 'EngineKvCacheUsage', unit: 'Percent', values: [42.5], gauge: true },
      ],
    });
  });
});

describe('emitMetrics', () => {
  let out: string[];
  let flushes: MetricFlush[];
  beforeEach(() => {
    out = [];
    flushes = [];
    vi.stubEnv('OPENBATCH_METRICS', 'on');
    vi.spyOn(console, 'log').mockImplementation((line: string) => {
      out.push(line);
    });
    forwardMetrics((f) => flushes.push(f));
  });
  afterEach(() => {
    forwardMetrics(undefined);
    vi.unstubAllEnvs();
    vi.restoreAllMocks();
  });

  it('writes one EMF record per flush, in the openbatch namespace, with every value', async () => {
    await emitMetrics(
      { Function: 'api', Route: 'GET /v1/batches', Status: '200' },
      { ApiRequests: 1, ApiLatency: { value: [5, 7], unit: 'Milliseconds' } },
    );
    const emf = out.map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(emf).toHaveLength(1);
    const record = emf[0] as {
      _aws: { CloudWatchMetrics: { Namespace: string; Dimensions: string[][]; Metrics: unknown[] }[] };
      ApiRequests: number;
      ApiLatency: number[];
      Route: string;
    };
    expect(record._aws.CloudWatchMetrics[0]).toMatchObject({
      Namespace: 'openbatch',
      Dimensions: [['Function', 'Route', 'Status']],
    });
    expect(record._aws.CloudWatchMetrics[0]?.Metrics).toEqual(
      expect.arrayContaining([
        { Name: 'ApiRequests', Unit: 'Count' },
        { Name: 'ApiLatency', Unit: 'Milliseconds' },
      ]),
    );
    expect(record).toMatchObject({ ApiRequests: 1, ApiLatency: [5, 7], Route: 'GET /v1/batches' });
    expect(flushes).toHaveLength(1);
    expect(flushes[0]?.metrics.map((m) => m.name)).toEqual(['ApiRequests', 'ApiLatency']);
  });

  it('writes nothing when OPENBATCH_METRICS is off, or when no metric has a value', async () => {
    await emitMetrics({ Pool: 'spot' }, { EngineLatency: { value: [], unit: 'Milliseconds' } });
    vi.stubEnv('OPENBATCH_METRICS', 'off');
    await emitMetrics({ Pool: 'spot' }, { RequestsRun: 1 });
    expect(out).toEqual([]);
    expect(flushes).toEqual([]);
  });

  it('never throws: a failing forward is logged and the EMF line still goes out', async () => {
    forwardMetrics(() => {
      throw new Error('channel closed');
    });
    const warn = vi.spyOn(console, 'error').mockImplementation(() => {});
    await expect(emitMetrics({ Pool: 'spot' }, { RequestsRun: 1 })).resolves.toBeUndefined();
    expect(warn.mock.calls.map((c) => String(c[0])).join('')).toContain('metrics not forwarded');
    expect(out).toHaveLength(1);
  });
});
