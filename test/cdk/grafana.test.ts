import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { grafanaDashboardPath, renderGrafanaDashboard } from '../../cdk/bin/grafana.js';
import { allEmfMetrics } from '../../cdk/lib/monitoring/catalog.js';
import { functions, physicalName, queues, workerPools } from '../../core/app/declaration.js';

type Target = {
  namespace: string;
  metricName: string;
  dimensions: Record<string, string>;
  datasource: { type: string };
};
type Panel = { type: string; title: string; targets?: Target[] };

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
});
