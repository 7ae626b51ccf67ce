import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { grafanaDashboardPath, renderGrafanaDashboard } from '../../cdk/bin/grafana.js';
import { allEmfMetrics, emfNamespace } from '../../cdk/lib/monitoring/catalog.js';
import { functions, physicalName, queues, workerPools } from '../../core/app/declaration.js';

type Target = {
  refId: string;
  namespace: string;
  metricName: string;
  dimensions: Record<string, string>;
  matchExact: boolean;
  statistic: string;
  datasource: { type: string };
};
type Panel = {
  id: number;
  type: string;
  title: string;
  gridPos: { x: number; y: number; w: number; h: number };
  targets?: Target[];
};

const committed = readFileSync(grafanaDashboardPath, 'utf8');
const dashboard = JSON.parse(committed) as {
  panels: Panel[];
  templating: { list: { name: string; query: string }[] };
};
const targets = dashboard.panels.flatMap((p) => p.targets ?? []);
const has = (namespace: string, metricName: string, dimensions: Record<string, string>) =>
  targets.some(
    (t) =>
      t.namespace === namespace &&
      t.metricName === metricName &&
      Object.entries(dimensions).every(([k, v]) => t.dimensions[k] === v),
  );

describe('Grafana dashboard (cdk/dashboards/grafana-openbatch.json)', () => {
  it('is the one the code generates (run `npm run grafana` after changing the declaration)', () => {
    expect(dashboard).toEqual(JSON.parse(renderGrafanaDashboard()));
  });

  it('reads CloudWatch through a datasource variable, for any environment prefix', () => {
    for (const t of targets) expect(t.datasource.type).toBe('cloudwatch');
    const variables = Object.fromEntries(dashboard.templating.list.map((v) => [v.name, v.query]));
    expect(variables.datasource).toBe('cloudwatch');
    expect(variables.prefix?.split(',')).toEqual(['openbatch-dev', 'openbatch-staging', 'openbatch-prod']);
  });

  it('covers the same metrics as the CloudWatch dashboard', () => {
    const p = '$prefix';
    expect(has('AWS/ApiGateway', '5XXError', { ApiName: `${p}-api` })).toBe(true);
    for (const fn of Object.keys(functions)) {
      for (const m of ['Invocations', 'Errors', 'Throttles', 'Duration'])
        expect(has('AWS/Lambda', m, { FunctionName: physicalName(p, fn) }), `${fn} ${m}`).toBe(true);
    }
    for (const q of Object.keys(queues)) {
      expect(has('AWS/SQS', 'ApproximateNumberOfMessagesVisible', { QueueName: physicalName(p, q) })).toBe(
        true,
      );
      expect(has('AWS/SQS', 'ApproximateNumberOfMessagesNotVisible', { QueueName: physicalName(p, q) })).toBe(
        true,
      );
      expect(has('AWS/SQS', 'ApproximateAgeOfOldestMessage', { QueueName: physicalName(p, q) })).toBe(true);
      expect(
        has('AWS/SQS', 'ApproximateNumberOfMessagesVisible', { QueueName: `${physicalName(p, q)}-dlq` }),
      ).toBe(true);
    }
    for (const pool of Object.keys(workerPools)) {
      expect(
        has('ECS/ContainerInsights', 'RunningTaskCount', {
          ClusterName: `${p}-workers`,
          ServiceName: physicalName(p, `${pool}Workers`),
        }),
      ).toBe(true);
    }
    for (const m of allEmfMetrics)
      expect(
        targets.some((t) => t.namespace === 'openbatch' && t.metricName === m.name),
        m.name,
      ).toBe(true);
    expect(has('openbatch', 'ActiveBatches', { Function: 'sla-monitor', Status: '*' })).toBe(true);
  });

  it('is a well-formed Grafana dashboard: unique ids, panels on the 24-column grid without overlap', () => {
    const ids = dashboard.panels.map((p) => p.id);
    expect(new Set(ids).size).toBe(ids.length);
    const cells = new Set<string>();
    for (const p of dashboard.panels) {
      const { x, y, w, h } = p.gridPos;
      expect(x >= 0 && w > 0 && x + w <= 24, `${p.title} fits the grid`).toBe(true);
      for (let i = x; i < x + w; i++)
        for (let j = y; j < y + h; j++) {
          expect(cells.has(`${i},${j}`), `${p.title} overlaps at ${i},${j}`).toBe(false);
          cells.add(`${i},${j}`);
        }
      const refIds = (p.targets ?? []).map((t) => t.refId);
      expect(new Set(refIds).size, `${p.title} refIds`).toBe(refIds.length);
      if (p.type === 'timeseries') expect(refIds.length, `${p.title} has queries`).toBeGreaterThan(0);
    }
  });

  it('uses only the variables it defines', () => {
    const defined = new Set(dashboard.templating.list.map((v) => v.name));
    const used = new Set(
      [...JSON.stringify(dashboard.panels).matchAll(/\$\{?([a-z]\w*)/g)].map((m) => m[1] as string),
    );
    expect([...used].filter((v) => !defined.has(v))).toEqual([]);
    expect([...used].sort()).toEqual(['datasource', 'prefix', 'region']);
  });

  it('reads each catalog metric with its dimensions and statistic, splitting dimensions by wildcard', () => {
    for (const t of targets.filter((x) => x.namespace === emfNamespace)) {
      const m = allEmfMetrics.find((x) => x.name === t.metricName);
      expect(m, t.metricName).toBeDefined();
      if (!m) continue;
      expect(t.dimensions, m.name).toMatchObject(m.dimensions);
      const split = Object.keys(t.dimensions).filter((k) => !(k in m.dimensions));
      for (const k of split) expect(m.by, `${m.name}.${k}`).toContain(k);
      const wildcard = split.filter((k) => t.dimensions[k] === '*');
      expect(t.matchExact, m.name).toBe(wildcard.length === 0);
      expect(['Sum', 'Maximum', 'Average', 'p50', 'p90', 'p95', 'p99']).toContain(t.statistic);
    }
    expect(
      targets.some((t) => t.metricName === 'EngineLatency' && t.statistic === 'p99'),
      'engine latency p99',
    ).toBe(true);
  });
});
