import { describe, expect, it } from 'vitest';
import { toFlush } from '../../core/observability/metrics.js';
import { MetricsRegistry } from '../../core/observability/prometheus.js';
import { operatorFigures } from '../../portal/src/features/operator/utils/operator-figures.js';
import {
  meanBetween,
  PrometheusParseError,
  parsePrometheus,
  ratePerSecond,
  samplesOf,
  sumBy,
  total,
} from '../../portal/src/features/operator/utils/prometheus.js';

describe('parsePrometheus', () => {
  it('reads families, types, help, labels with escapes, and special values', () => {
    const exp = parsePrometheus(
      [
        '# HELP http_requests_total Requests, by "code".',
        '# TYPE http_requests_total counter',
        'http_requests_total{method="post",code="200"} 1027 1395066363000',
        'http_requests_total{method="post",code="400"}    3',
        '# a plain comment',
        '# TYPE temp gauge',
        'temp{path="C:\\\\dir\\"x\\"",note="a\\nb"} -Inf',
        'temp NaN',
        'untyped_thing{a="1",} +Inf',
        '',
      ].join('\n'),
    );
    const requests = exp.get('http_requests_total');
    expect(requests?.type).toBe('counter');
    expect(requests?.help).toBe('Requests, by "code".');
    expect(requests?.samples).toEqual([
      { name: 'http_requests_total', labels: { method: 'post', code: '200' }, value: 1027 },
      { name: 'http_requests_total', labels: { method: 'post', code: '400' }, value: 3 },
    ]);
    const temp = exp.get('temp');
    expect(temp?.type).toBe('gauge');
    expect(temp?.samples[0]).toEqual({
      name: 'temp',
      labels: { path: 'C:\\dir"x"', note: 'a\nb' },
      value: Number.NEGATIVE_INFINITY,
    });
    expect(Number.isNaN(temp?.samples[1]?.value)).toBe(true);
    expect(exp.get('untyped_thing')).toMatchObject({
      type: 'untyped',
      samples: [{ labels: { a: '1' }, value: Number.POSITIVE_INFINITY }],
    });
  });

  it("puts a summary's _sum and _count in its family", () => {
    const exp = parsePrometheus(
      [
        '# TYPE lat_seconds summary',
        'lat_seconds{quantile="0.5"} 0.2',
        'lat_seconds_sum 4',
        'lat_seconds_count 10',
        '# TYPE other_count counter',
        'other_count 2',
      ].join('\n'),
    );
    expect(exp.get('lat_seconds')?.samples.map((s) => s.name)).toEqual([
      'lat_seconds',
      'lat_seconds_sum',
      'lat_seconds_count',
    ]);
    expect(exp.has('lat_seconds_sum')).toBe(false);
    expect(total(exp, 'lat_seconds_count')).toBe(10);
    // A family that merely ends in _count stays its own.
    expect(total(exp, 'other_count')).toBe(2);
  });

  it('refuses what is not the text format, naming the line', () => {
    expect(() => parsePrometheus('<!doctype html>\n<html></html>')).toThrow(PrometheusParseError);
    expect(() => parsePrometheus('ok 1\nbroken{a="1" 2')).toThrow(/line 2/);
    expect(() => parsePrometheus('x{a=1} 2')).toThrow(/quoted/);
    expect(() => parsePrometheus('x one')).toThrow(/line 1: 'one' is not a number/);
    expect(() => parsePrometheus('# TYPE x bogus')).toThrow(/not a metric type/);
    expect(() => parsePrometheus('x')).toThrow(/'' is not a number/);
  });

  it('reads the local runtime registry as it renders', () => {
    const reg = new MetricsRegistry();
    reg.add(
      toFlush(
        { Pool: 'spot' },
        { RequestsRun: 40, EngineLatency: { value: [100, 300], unit: 'Milliseconds' } },
      ),
    );
    reg.add(toFlush({ Pool: 'spot' }, { RequestsRun: 2 }));
    reg.add(
      toFlush(
        { Function: 'sla-monitor', SlaState: 'at_risk' },
        { BatchesBySlaState: { value: 1, gauge: true } },
      ),
    );
    const exp = parsePrometheus(reg.render());
    expect(total(exp, 'openbatch_requests_run_total', { pool: 'spot' })).toBe(42);
    expect(exp.get('openbatch_engine_latency_seconds')?.type).toBe('summary');
    expect(samplesOf(exp, 'openbatch_engine_latency_seconds', { quantile: '0.99' })[0]?.value).toBe(0.3);
    expect(total(exp, 'openbatch_engine_latency_seconds_sum')).toBeCloseTo(0.4);
    expect(sumBy(exp, 'openbatch_batches_by_sla_state', 'sla_state')).toEqual(new Map([['at_risk', 1]]));
  });
});

describe('ratePerSecond and meanBetween', () => {
  it('is the growth per second, from zero after a counter reset, and nothing without two scrapes', () => {
    expect(ratePerSecond(10, 40, 5)).toBe(6);
    expect(ratePerSecond(100, 20, 5)).toBe(4); // restarted: counts from zero
    expect(ratePerSecond(undefined, 20, 5)).toBeUndefined();
    expect(ratePerSecond(10, 20, 0)).toBeUndefined();
  });

  it('averages the observations made between two scrapes', () => {
    expect(meanBetween({ sum: 1, count: 10 }, { sum: 2.5, count: 13 })).toBeCloseTo(0.5);
    expect(meanBetween({ sum: 1, count: 10 }, { sum: 1, count: 10 })).toBeUndefined();
    expect(meanBetween(undefined, { sum: 1, count: 1 })).toBeUndefined();
  });
});

describe('operatorFigures', () => {
  const scrape = (flushes: Parameters<MetricsRegistry['add']>[0][], atMs: number) => {
    const reg = new MetricsRegistry();
    for (const f of flushes) reg.add(f);
    return { exp: parsePrometheus(reg.render()), atMs };
  };
  const worker = (pool: string, ran: number, tokens: number, latenciesMs: number[]) =>
    toFlush(
      { Pool: pool },
      {
        RequestsRun: ran,
        TokensGenerated: tokens,
        EngineLatency: { value: latenciesMs, unit: 'Milliseconds' },
        EngineRequestsWaiting: { value: 3, gauge: true },
      },
    );
  const sweep = (onTrack: number, atRisk: number, desired: { spot: number; dedicated: number }) => [
    toFlush(
      { Function: 'sla-monitor', SlaState: 'on_track' },
      { BatchesBySlaState: { value: onTrack, gauge: true } },
    ),
    toFlush(
      { Function: 'sla-monitor', SlaState: 'at_risk' },
      { BatchesBySlaState: { value: atRisk, gauge: true } },
    ),
    toFlush(
      { Function: 'sla-monitor', Pool: 'spot' },
      { DesiredTasks: { value: desired.spot, gauge: true } },
    ),
    toFlush(
      { Function: 'sla-monitor', Pool: 'dedicated' },
      { DesiredTasks: { value: desired.dedicated, gauge: true } },
    ),
  ];
  const api = (status: string, n: number) =>
    toFlush({ Function: 'api', Route: 'GET /v1/batches', Status: status }, { ApiRequests: n });

  it('gives per-pool throughput, latency, engine queue and desired tasks, SLA states and API errors', () => {
    const before = scrape([worker('spot', 100, 1_000, [200]), api('200', 10)], 0);
    const now = scrape(
      [
        worker('spot', 100, 1_000, [200]),
        worker('spot', 50, 500, [400, 600]),
        ...sweep(2, 1, { spot: 3, dedicated: 1 }),
        api('200', 18),
        api('503', 2),
      ],
      10_000,
    );
    const f = operatorFigures(now, before);
    const spot = f.pools.find((p) => p.pool === 'spot');
    expect(spot).toMatchObject({
      requestsRun: 150,
      tokensGenerated: 1_500,
      requestsPerSecond: 5,
      tokensPerSecond: 50,
      latencyP50: 0.4,
      latencyP99: 0.6,
      engineWaiting: 3,
      desiredTasks: 3,
    });
    expect(spot?.latencyMeanRecent).toBeCloseTo(0.5);
    // A pool without a worker report has no figures, rather than zeros.
    expect(f.pools.find((p) => p.pool === 'dedicated')).toMatchObject({
      requestsRun: undefined,
      requestsPerSecond: undefined,
      latencyP50: undefined,
      desiredTasks: 1,
    });
    expect(f.slaStates).toEqual(
      new Map([
        ['on_track', 2],
        ['at_risk', 1],
      ]),
    );
    expect(f.api).toEqual({ requests: 20, perSecond: 1, serverErrors: 2 });
    expect(f.intervalSeconds).toBe(10);
    expect(f.queueDepths.size).toBe(0);
  });

  it('has no rates on the first scrape', () => {
    const f = operatorFigures(scrape([worker('spot', 5, 50, [100])], 0));
    expect(f.pools[0]?.requestsRun).toBe(5);
    expect(f.pools[0]?.requestsPerSecond).toBeUndefined();
    expect(f.pools[0]?.latencyMeanRecent).toBeUndefined();
    expect(f.api).toEqual({ requests: undefined, perSecond: undefined, serverErrors: undefined });
    expect(f.intervalSeconds).toBeUndefined();
  });
});
