import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import type { FunctionName, PoolName, QueueName } from '../../../core/app/declaration.js';
import type { ResourceNames } from '../names.js';
import { type EmfMetric, emfNamespace } from './catalog.js';

/**
 * Metric derivation: every CloudWatch metric the dashboard and alarms use, addressed by the
 * physical names of the resources (so the monitoring stack needs no reference to the others).
 */
export class OpenbatchMetrics {
  constructor(
    private readonly names: ResourceNames,
    private readonly stage: string,
  ) {}

  private sqs(
    queueName: string,
    metricName: string,
    label: string,
    statistic = 'Maximum',
    period = 1,
  ): cloudwatch.Metric {
    return new cloudwatch.Metric({
      namespace: 'AWS/SQS',
      metricName,
      dimensionsMap: { QueueName: queueName },
      statistic,
      period: Duration.minutes(period),
      label,
    });
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
    const m = (metricName: string, statistic: string, label: string) =>
      new cloudwatch.Metric({
        namespace: 'AWS/Lambda',
        metricName,
        dimensionsMap: { FunctionName: this.names.function(fn) },
        statistic,
        period: Duration.minutes(5),
        label,
      });
    return {
      invocations: m('Invocations', 'Sum', `${fn} invocations`),
      errors: m('Errors', 'Sum', `${fn} errors`),
      throttles: m('Throttles', 'Sum', `${fn} throttles`),
      durationP99: m('Duration', 'p99', `${fn} p99 (ms)`),
    };
  }

  api() {
    const m = (metricName: string, statistic: string, label: string) =>
      new cloudwatch.Metric({
        namespace: 'AWS/ApiGateway',
        metricName,
        dimensionsMap: { ApiName: this.names.api(), Stage: this.stage },
        statistic,
        period: Duration.minutes(5),
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
    const m = (metricName: string, label: string) =>
      new cloudwatch.Metric({
        namespace: 'ECS/ContainerInsights',
        metricName,
        dimensionsMap: { ClusterName: this.names.cluster(), ServiceName: this.names.service(pool) },
        statistic: 'Maximum',
        period: Duration.minutes(1),
        label,
      });
    return {
      running: m('RunningTaskCount', `${pool} running`),
      desired: m('DesiredTaskCount', `${pool} desired`),
      pending: m('PendingTaskCount', `${pool} pending`),
    };
  }

  /** An EMF metric; `value` fills its varying dimension (e.g. the pool). */
  emf(metric: EmfMetric, value?: string, period = Duration.minutes(5)): cloudwatch.Metric {
    return new cloudwatch.Metric({
      namespace: emfNamespace,
      metricName: metric.name,
      dimensionsMap: { ...metric.dimensions, ...(metric.by && value ? { [metric.by]: value } : {}) },
      statistic: metric.statistic,
      period,
      label: value ? `${metric.name} ${value}` : metric.name,
    });
  }

  /** Every value of an EMF metric's varying dimension, found by a CloudWatch SEARCH. */
  emfSearch(metric: EmfMetric, period = Duration.minutes(5)): cloudwatch.MathExpression {
    const dims = [emfNamespace, ...Object.keys(metric.dimensions), ...(metric.by ? [metric.by] : [])].join(
      ',',
    );
    const fixed = Object.entries(metric.dimensions)
      .map(([k, v]) => ` ${k}="${v}"`)
      .join('');
    return new cloudwatch.MathExpression({
      expression: `SEARCH('{${dims}} MetricName="${metric.name}"${fixed}', '${metric.statistic}', ${period.toSeconds()})`,
      usingMetrics: {},
      label: '',
      period,
    });
  }
}
