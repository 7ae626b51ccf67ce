import { describe, expect, it } from 'vitest';
import { allEmfMetrics, type EmfMetric, emf } from '../../cdk/lib/monitoring/catalog.js';
import { grafanaDashboard } from '../../cdk/lib/monitoring/grafana.js';
import { emissionsIn, scanEmissions } from './monitoring-emissions.js';
import { synth } from './support.js';

/**
 * Issue 13, point 2 (the catalog half): every metric a dashboard or an alarm reads is in the
 * catalog and emitted by the code, and every metric the code emits is in the catalog. Metrics the
 * catalog marks `pending` are read by dashboards and alarms but not emitted yet; the last test
 * names them, so the list shrinks only when the code emits them.
 */

const scan = scanEmissions(new URL('../..', import.meta.url).pathname);
const emittedNames = new Set(scan.emissions.flatMap((e) => e.metrics));
const byName = new Map(allEmfMetrics.map((m) => [m.name, m]));

/** The emissions of a metric that carry exactly its dimensions (fixed values and splits). */
function matchingEmissions(m: EmfMetric) {
  const wanted = [...Object.keys(m.dimensions), ...(m.by ?? [])].sort();
  return scan.emissions.filter(
    (e) =>
      e.metrics.includes(m.name) &&
      JSON.stringify(Object.keys(e.dimensions).sort()) === JSON.stringify(wanted) &&
      Object.entries(m.dimensions).every(([k, v]) => e.dimensions[k] === v),
  );
}

describe('the emissions scanner', () => {
  it('reads metric names and literal dimensions of each call, skipping comments and strings', () => {
    const scanned = emissionsIn(
      'x.ts',
      [
        "// emitMetrics({ Fake: 'x' }, { NotThis: 1 })",
        "const s = 'emitMetrics({}, { NorThis: 1 })';",
        'await emitMetrics(',
        "  { Function: 'scheduler', Code: err.code },",
        "  { LinesValidated: n, 'ChunksPlanned': chunks.length, Took: { value: ms, unit: 'Milliseconds' } },",
        ');',
      ].join('\n'),
    );
    expect(scanned.problems).toEqual([]);
    expect(scanned.emissions).toEqual([
      {
        file: 'x.ts',
        line: 3,
        dimensions: { Function: 'scheduler', Code: null },
        metrics: ['LinesValidated', 'ChunksPlanned', 'Took'],
      },
    ]);
  });

  it('reports a call it cannot read instead of skipping it', () => {
    expect(emissionsIn('y.ts', 'emitMetrics(dims, values);').problems).toEqual([
      'y.ts:1: emitMetrics arguments must be object literals so the catalog check can read them (dimensions: not an object literal)',
    ]);
    expect(emissionsIn('z.ts', 'emitMetrics({ ...base }, { A: 1 });').problems[0]).toMatch(/spread/);
    expect(
      emissionsIn('w.ts', "import { emitMetrics as m } from '../observability/metrics.js';\nm({}, {});")
        .problems,
    ).toEqual(['w.ts: imports the metrics helper but no emitMetrics(...) call was found']);
  });

  it('finds the emissions in the repository and reads every one of them', () => {
    expect(scan.problems).toEqual([]);
    expect(scan.emissions.map((e) => e.file)).toEqual(
      expect.arrayContaining(['gpu-worker/src/main.ts', 'lambdas/sla-monitor/handler.ts']),
    );
  });
});

describe('metric catalog (cdk/lib/monitoring/catalog.ts)', () => {
  it('names each metric once, with the dimensions CloudWatch allows', () => {
    expect(new Set(allEmfMetrics.map((m) => m.name)).size).toBe(allEmfMetrics.length);
    for (const m of allEmfMetrics)
      expect(Object.keys(m.dimensions).length + (m.by?.length ?? 0), m.name).toBeLessThanOrEqual(30);
  });

  it.each(allEmfMetrics.filter((m) => !m.pending).map((m) => [m.name, m] as const))(
    '%s is emitted by the code with its dimensions',
    (_name, m) => {
      expect(
        matchingEmissions(m).map((e) => `${e.file}:${e.line}`),
        `${m.name} with dimensions ${JSON.stringify({ ...m.dimensions, by: m.by })}`,
      ).not.toEqual([]);
    },
  );

  it('lists every metric the code emits', () => {
    const unknown = scan.emissions.flatMap((e) =>
      e.metrics.filter((n) => !byName.has(n)).map((n) => `${n} (${e.file}:${e.line})`),
    );
    expect(unknown, 'add them to cdk/lib/monitoring/catalog.ts').toEqual([]);
  });

  it('marks pending only metrics that no code emits yet', () => {
    const emittedButPending = allEmfMetrics.filter((m) => m.pending && emittedNames.has(m.name));
    expect(
      emittedButPending.map((m) => m.name),
      'the code emits them now: drop `pending` in the catalog',
    ).toEqual([]);
  });

  it('waits for no metric: every one the dashboards and alarms read is emitted', () => {
    expect(allEmfMetrics.filter((m) => m.pending).map((m) => `${m.stage}: ${m.name}`)).toEqual([]);
  });

  it('throws on a metric it does not have', () => {
    expect(() => emf('NoSuchMetric')).toThrow(/not in the metric catalog/);
  });
});

/** Every `openbatch` metric name a CloudWatch template reads (dashboard bodies and alarms). */
function openbatchMetricsIn(template: unknown): Set<string> {
  const names = new Set<string>();
  const text = JSON.stringify(template);
  // Dashboard bodies: ["openbatch","Name",...] and SEARCH('{openbatch,...} MetricName="Name"').
  for (const m of text.matchAll(/\[\\"openbatch\\",\\"(\w+)\\"/g)) names.add(m[1] as string);
  for (const m of text.matchAll(/\{openbatch[^}]*\} MetricName=\\\\\\"(\w+)\\\\\\"/g))
    names.add(m[1] as string);
  // Alarms: MetricStat { Metric: { Namespace: 'openbatch', MetricName } } and single-metric alarms.
  const walk = (v: unknown) => {
    if (Array.isArray(v)) v.forEach(walk);
    else if (v && typeof v === 'object') {
      const o = v as Record<string, unknown>;
      if (o.Namespace === 'openbatch' && typeof o.MetricName === 'string') names.add(o.MetricName);
      Object.values(o).forEach(walk);
    }
  };
  walk(template);
  return names;
}

describe('what the dashboards and alarms read', () => {
  const prod = synth({ env: 'prod' });
  const template = prod.template(prod.stacks.monitoring).toJSON();
  const cloudWatch = openbatchMetricsIn(template);
  const grafana = new Set(
    (grafanaDashboard().panels as { targets?: { namespace: string; metricName: string }[] }[])
      .flatMap((p) => p.targets ?? [])
      .filter((t) => t.namespace === 'openbatch')
      .map((t) => t.metricName),
  );

  it('finds the metrics in the synthesized template (the reader works)', () => {
    expect(cloudWatch).toContain('ChunksCompleted');
    expect(cloudWatch).toContain('ActiveBatches');
  });

  it.each([
    ['the CloudWatch dashboard and alarms', cloudWatch],
    ['the Grafana dashboard', grafana],
  ])('%s read only catalog metrics', (_what, names) => {
    expect([...names].filter((n) => !byName.has(n))).toEqual([]);
  });

  it('every catalog metric is on both dashboards (nothing emitted goes unseen)', () => {
    expect(allEmfMetrics.filter((m) => !cloudWatch.has(m.name)).map((m) => m.name)).toEqual([]);
    expect(allEmfMetrics.filter((m) => !grafana.has(m.name)).map((m) => m.name)).toEqual([]);
  });
});
