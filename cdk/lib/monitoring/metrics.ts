import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import type { FunctionName, PoolName, QueueName } from '../../../core/app/declaration.js';
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
  pool(pool: PoolName) {
    const m = (metricName: string, label: string): MetricSpec => ({
      namespace: 'ECS/ContainerInsights',
      metricName,
      dimensions: { ClusterName: this.names.cluster(), ServiceName: this.names.service(pool) },
      statistic: 'Maximum',
      periodSeconds: 60,
      label,
    });
    return {
      running: m('RunningTaskCount', `${pool} running`),
      desired: m('DesiredTaskCount', `${pool} desired`),
    };
  }

  /** An EMF metric; `value` fills its varying dimension (e.g. the pool). */
  emf(metric: EmfMetric, value?: string, periodSeconds = 300): MetricSpec {
    return {
      namespace: emfNamespace,
      metricName: metric.name,
      dimensions: { ...metric.dimensions, ...(metric.by && value ? { [metric.by]: value } : {}) },
      statistic: metric.statistic,
      periodSeconds,
      label: value ? `${metric.name} ${value}` : metric.name,
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

/** Every value of an EMF metric's varying dimension, found with a CloudWatch SEARCH. */
export function emfSearch(metric: EmfMetric, periodSeconds = 300): cloudwatch.MathExpression {
  const dims = [emfNamespace, ...Object.keys(metric.dimensions), ...(metric.by ? [metric.by] : [])].join(',');
  const fixed = Object.entries(metric.dimensions)
    .map(([k, v]) => ` ${k}="${v}"`)
    .join('');
  return new cloudwatch.MathExpression({
    expression: `SEARCH('{${dims}} MetricName="${metric.name}"${fixed}', '${metric.statistic}', ${periodSeconds})`,
    usingMetrics: {},
    label: '',
    period: Duration.seconds(periodSeconds),
  });
}
