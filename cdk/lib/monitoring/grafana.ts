import { fileURLToPath } from 'node:url';
import {
  type FunctionName,
  functions,
  type PoolName,
  type QueueName,
  queues,
  workerPools,
} from '../../../core/app/declaration.js';
import { environments } from '../../config.js';
import { ResourceNames } from '../names.js';
import {
  type EmfMetric,
  emf,
  finalizerMetrics,
  housekeepingMetrics,
  schedulerMetrics,
  slaMetrics,
} from './catalog.js';
import { type MetricSpec, OpenbatchMetrics } from './metrics.js';

/**
 * The Grafana dashboard over the same CloudWatch metrics as the CloudWatch dashboard, built
 * from the same metric derivation with the resource prefix as a dashboard variable (`$prefix`),
 * so one dashboard serves every environment. `npm run grafana` writes it to
 * cdk/dashboards/grafana-openbatch.json; a test keeps the committed file in step.
 */

/** The committed dashboard (`npm run grafana` writes it; the Grafana workspace provisions it). */
export const grafanaDashboardFile = fileURLToPath(
  new URL('../../dashboards/grafana-openbatch.json', import.meta.url),
);

/** Grafana's reference to the dashboard's datasource variable. */
// biome-ignore lint/suspicious/noTemplateCurlyInString: Grafana's variable syntax, not a template literal
const datasource = { type: 'cloudwatch', uid: '${datasource}' };

interface Panel {
  readonly title: string;
  readonly metrics: readonly (MetricSpec & { readonly wildcard?: readonly string[] })[];
  readonly unit?: string;
}

function target(spec: MetricSpec & { readonly wildcard?: readonly string[] }, refId: string) {
  return {
    refId,
    datasource,
    queryMode: 'Metrics',
    metricQueryType: 0,
    metricEditorMode: 0,
    region: '$region',
    namespace: spec.namespace,
    metricName: spec.metricName,
    dimensions: { ...spec.dimensions, ...Object.fromEntries((spec.wildcard ?? []).map((d) => [d, '*'])) },
    matchExact: !spec.wildcard,
    statistic: spec.statistic,
    period: String(spec.periodSeconds),
    label: spec.wildcard
      ? [spec.metricName, ...spec.wildcard.map((d) => `\${PROP('Dim.${d}')}`)].join(' ')
      : spec.label,
    id: '',
    expression: '',
  };
}

function timeseries(panel: Panel, id: number, x: number, y: number) {
  return {
    id,
    type: 'timeseries',
    title: panel.title,
    datasource,
    gridPos: { h: 8, w: 8, x, y },
    fieldConfig: { defaults: { unit: panel.unit ?? 'short' }, overrides: [] },
    options: {
      legend: { displayMode: 'list', placement: 'bottom' },
      tooltip: { mode: 'multi', sort: 'none' },
    },
    targets: panel.metrics.map((m, i) => target(m, String.fromCharCode(65 + i))),
  };
}

export function grafanaDashboard(): Record<string, unknown> {
  const metrics = new OpenbatchMetrics(new ResourceNames('$prefix'));
  const fns = Object.keys(functions) as FunctionName[];
  const qs = Object.keys(queues) as QueueName[];
  const pools = Object.keys(workerPools) as PoolName[];
  const api = metrics.api();
  const perPool = (name: string, statistic?: string) =>
    pools.map((p) => metrics.emf(emf(name), p, statistic ? { statistic } : {}));
  /** Every value of the metric's split dimensions (a wildcard query). */
  const each = (m: EmfMetric, periodSeconds = 300) => ({
    ...metrics.emf(m, {}, { periodSeconds }),
    wildcard: m.by ?? [],
  });
  const fixed = (list: readonly EmfMetric[]) => list.filter((m) => !m.by).map((m) => metrics.emf(m));

  const rows: { title: string; panels: Panel[] }[] = [
    {
      title: 'API',
      panels: [
        { title: 'API requests', metrics: [api.requests, api.clientErrors, api.serverErrors] },
        { title: 'API latency', metrics: [api.latencyP50, api.latencyP99], unit: 'ms' },
        { title: 'API requests by route and status', metrics: [each(emf('ApiRequests'))] },
        {
          title: 'API function latency p95 by route and status',
          metrics: [each(emf('ApiLatency'))],
          unit: 'ms',
        },
      ],
    },
    {
      title: 'Functions',
      panels: [
        { title: 'Function invocations', metrics: fns.map((f) => metrics.function(f).invocations) },
        {
          title: 'Function errors and throttles',
          metrics: fns.flatMap((f) => [metrics.function(f).errors, metrics.function(f).throttles]),
        },
        {
          title: 'Function duration p99',
          metrics: fns.map((f) => metrics.function(f).durationP99),
          unit: 'ms',
        },
        { title: 'Scheduler', metrics: fixed(schedulerMetrics) },
        { title: 'Validation failures by code', metrics: [each(emf('ValidationFailures'))] },
        {
          title: 'Finalizer duration p90',
          metrics: fixed(finalizerMetrics.filter((m) => m.unit === 'Milliseconds')),
          unit: 'ms',
        },
        {
          title: 'Finalizer bytes written',
          metrics: fixed(finalizerMetrics.filter((m) => m.unit === 'Bytes')),
          unit: 'bytes',
        },
        { title: 'Housekeeping', metrics: fixed(housekeepingMetrics) },
      ],
    },
    {
      title: 'Queues',
      panels: [
        { title: 'Queues: visible', metrics: qs.map((q) => metrics.queue(q).visible) },
        { title: 'Queues: in flight', metrics: qs.map((q) => metrics.queue(q).inFlight) },
        {
          title: 'Queues: oldest message age',
          metrics: qs.map((q) => metrics.queue(q).oldestAge),
          unit: 's',
        },
        { title: 'Dead-letter queues', metrics: qs.map((q) => metrics.queue(q).deadLetters) },
        {
          title: 'Dead-letter queues: oldest message age',
          metrics: qs.map((q) => metrics.queue(q).deadLetterAge),
          unit: 's',
        },
      ],
    },
    {
      title: 'Workers',
      panels: [
        {
          title: 'Workers per pool',
          metrics: pools.flatMap((p) => [metrics.pool(p).running, metrics.pool(p).desired]),
        },
        {
          title: 'Chunks completed / handed off / released / duplicate',
          metrics: ['ChunksCompleted', 'ChunksHandedOff', 'ChunksReleased', 'ChunksDuplicate'].flatMap((n) =>
            perPool(n),
          ),
        },
        {
          title: 'Requests run / failed',
          metrics: ['RequestsRun', 'RequestsFailed'].flatMap((n) => perPool(n)),
        },
        { title: 'Chunk duration p90', metrics: perPool('ChunkDuration'), unit: 'ms' },
        {
          title: 'Engine latency p50 / p99',
          metrics: [...perPool('EngineLatency'), ...perPool('EngineLatency', 'p99')],
          unit: 'ms',
        },
        { title: 'Tokens generated', metrics: perPool('TokensGenerated') },
        { title: 'Worker errors by code', metrics: [each(emf('WorkerErrors'))] },
        {
          title: 'Retries, interruptions, lease renewals',
          metrics: ['EngineRetries', 'Interruptions', 'LeaseRenewals'].flatMap((n) => perPool(n)),
        },
        {
          title: 'Engine health',
          metrics: [
            'EngineUnhealthy',
            'EngineKvCacheUsage',
            'EngineRequestsRunning',
            'EngineRequestsWaiting',
          ].flatMap((n) => perPool(n)),
        },
      ],
    },
    {
      title: 'Batches and SLA',
      panels: [
        { title: 'Batches by status', metrics: [each(emf('ActiveBatches'), 60)] },
        { title: 'Batches by SLA state', metrics: [each(emf('BatchesBySlaState'), 60)] },
        { title: 'Desired tasks per pool (policy)', metrics: [each(emf('DesiredTasks'), 60)] },
        { title: 'SLA monitor', metrics: fixed(slaMetrics) },
      ],
    },
  ];

  const panels: Record<string, unknown>[] = [];
  let id = 1;
  let y = 0;
  for (const row of rows) {
    panels.push({
      id: id++,
      type: 'row',
      title: row.title,
      collapsed: false,
      gridPos: { h: 1, w: 24, x: 0, y },
      panels: [],
    });
    y += 1;
    row.panels.forEach((p, i) => {
      panels.push(timeseries(p, id++, (i % 3) * 8, y + Math.floor(i / 3) * 8));
    });
    y += Math.ceil(row.panels.length / 3) * 8;
  }

  const prefixes = Object.values(environments).map((e) => e.prefix);
  const prod = environments.prod;
  return {
    title: 'openbatch',
    uid: 'openbatch',
    description:
      'openbatch API, functions, queues, GPU workers and SLA (CloudWatch). Generated by cdk/bin/grafana.ts.',
    tags: ['openbatch'],
    editable: true,
    schemaVersion: 39,
    timezone: 'browser',
    refresh: '1m',
    time: { from: 'now-3h', to: 'now' },
    templating: {
      list: [
        { name: 'datasource', label: 'CloudWatch', type: 'datasource', query: 'cloudwatch', current: {} },
        {
          name: 'region',
          label: 'Region',
          type: 'custom',
          query: [...new Set(['default', ...Object.values(environments).map((e) => e.region)])].join(','),
          current: { text: 'default', value: 'default' },
        },
        {
          name: 'prefix',
          label: 'Environment',
          type: 'custom',
          query: prefixes.join(','),
          current: { text: prod.prefix, value: prod.prefix },
        },
      ],
    },
    annotations: { list: [] },
    panels,
  };
}
