import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import type { FunctionName, PoolName, QueueName } from '../../../core/app/declaration.js';
import { DEFAULT_POOL_GROUP } from '../../../core/models/catalog.js';
import type { ResourceNames } from '../names.js';
import { type EmfMetric, emfNamespace } from './catalog.js';

/** One CloudWatch metric, independent of the tool that draws it (CloudWatch or Grafana). */
export interface MetricSpec {
  readonly namespace: string;
  readonly metricName: string;
  readonly dimensions: Readonly<Record<string, string>>;
  readonly statistic: string;
  readonly periodSeconds: number;
  readonly label: string;
}

/**
 * Metric derivation: every metric the CloudWatch dashboard, the alarms and the Grafana
 * dashboard use, addressed by the physical names of the resources (so the monitoring stack
 * needs no reference to the other stacks, and Grafana can template the prefix).
 */
export class OpenbatchMetrics {
  constructor(private readonly names: ResourceNames) {}

  private sqs(queueName: string, metricName: string, label: string): MetricSpec {
    return {
      namespace: 'AWS/SQS',
      metricName,
      dimensions: { QueueName: queueName },
      statistic: 'Maximum',
      periodSeconds: 60,
      label,
    };
  }

  queue(q: QueueName) {
    const name = this.names.queue(q);
    return {
      visible: this.sqs(name, 'ApproximateNumberOfMessagesVisible', `${q} visible`),
      inFlight: this.sqs(name, 'ApproximateNumberOfMessagesNotVisible', `${q} in flight`),
      oldestAge: this.sqs(name, 'ApproximateAgeOfOldestMessage', `${q} oldest (s)`),
      deadLetters: this.sqs(this.names.deadLetterQueue(q), 'ApproximateNumberOfMessagesVisible', `${q} DLQ`),
      deadLetterAge: this.sqs(
        this.names.deadLetterQueue(q),
        'ApproximateAgeOfOldestMessage',
        `${q} DLQ oldest (s)`,
      ),
    };
  }

  function(fn: FunctionName) {
    const m = (metricName: string, statistic: string, label: string): MetricSpec => ({
      namespace: 'AWS/Lambda',
      metricName,
      dimensions: { FunctionName: this.names.function(fn) },
      statistic,
      periodSeconds: 300,
      label,
    });
    return {
      invocations: m('Invocations', 'Sum', `${fn} invocations`),
      errors: m('Errors', 'Sum', `${fn} errors`),
      throttles: m('Throttles', 'Sum', `${fn} throttles`),
      durationP99: m('Duration', 'p99', `${fn} p99 (ms)`),
    };
  }

  /** API Gateway metrics; with `stage`, of that stage only. */
  api(stage?: string) {
    const m = (metricName: string, statistic: string, label: string): MetricSpec => ({
      namespace: 'AWS/ApiGateway',
      metricName,
      dimensions: { ApiName: this.names.api(), ...(stage ? { Stage: stage } : {}) },
      statistic,
      periodSeconds: 300,
      label,
    });
    return {
      requests: m('Count', 'Sum', 'requests'),
      clientErrors: m('4XXError', 'Sum', '4XX'),
      serverErrors: m('5XXError', 'Sum', '5XX'),
      latencyP50: m('Latency', 'p50', 'latency p50 (ms)'),
      latencyP99: m('Latency', 'p99', 'latency p99 (ms)'),
    };
  }

  /** Workers per pool: ECS Container Insights task counts of the pool's service. */
  pool(pool: PoolName, group?: string) {
    const named = group === undefined || group === DEFAULT_POOL_GROUP ? pool : `${group} ${pool}`;
    const m = (metricName: string, label: string): MetricSpec => ({
      namespace: 'ECS/ContainerInsights',
      metricName,
      dimensions: { ClusterName: this.names.cluster(), ServiceName: this.names.service(pool, group) },
      statistic: 'Maximum',
      periodSeconds: 60,
      label,
    });
    return {
      running: m('RunningTaskCount', `${named} running`),
      desired: m('DesiredTaskCount', `${named} desired`),
    };
  }

  /**
   * An EMF metric of the catalog. `split` fills its varying dimensions (a string fills the
   * first, e.g. the pool); `statistic` and `periodSeconds` override the catalog's defaults.
   */
  emf(
    metric: EmfMetric,
    split: string | Readonly<Record<string, string>> = {},
    options: { readonly statistic?: string; readonly periodSeconds?: number } = {},
  ): MetricSpec {
    const first = metric.by?.[0];
    const values = typeof split === 'string' ? (first ? { [first]: split } : {}) : split;
    for (const k of Object.keys(values))
      if (!metric.by?.includes(k)) throw new Error(`${metric.name} has no dimension '${k}'`);
    const statistic = options.statistic ?? metric.statistic;
    const suffix = [...Object.values(values), ...(options.statistic ? [statistic] : [])].join(' ');
    return {
      namespace: emfNamespace,
      metricName: metric.name,
      dimensions: { ...metric.dimensions, ...values },
      statistic,
      periodSeconds: options.periodSeconds ?? 300,
      label: suffix ? `${metric.name} ${suffix}` : metric.name,
    };
  }
}

/** The CloudWatch construct-library metric for a spec. */
export function cloudWatchMetric(spec: MetricSpec): cloudwatch.Metric {
  return new cloudwatch.Metric({
    namespace: spec.namespace,
    metricName: spec.metricName,
    dimensionsMap: { ...spec.dimensions },
    statistic: spec.statistic,
    period: Duration.seconds(spec.periodSeconds),
    label: spec.label,
  });
}

/**
 * Every value of an EMF metric's varying dimensions, found with a CloudWatch SEARCH (graphs
 * only: an alarm cannot use SEARCH). `fixed` narrows a varying dimension to one value.
 */
export function emfSearch(
  metric: EmfMetric,
  periodSeconds = 300,
  fixed: Readonly<Record<string, string>> = {},
  statistic: string = metric.statistic,
): cloudwatch.MathExpression {
  const dims = [emfNamespace, ...Object.keys(metric.dimensions), ...(metric.by ?? [])].join(',');
  const filters = Object.entries({ ...metric.dimensions, ...fixed })
    .map(([k, v]) => ` ${k}="${v}"`)
    .join('');
  return new cloudwatch.MathExpression({
    expression: `SEARCH('{${dims}} MetricName="${metric.name}"${filters}', '${statistic}', ${periodSeconds})`,
    usingMetrics: {},
    label: '',
    period: Duration.seconds(periodSeconds),
  });
}
