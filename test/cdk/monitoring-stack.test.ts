import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { Match } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { environments } from '../../cdk/config.js';
import { allEmfMetrics, emfNamespace } from '../../cdk/lib/monitoring/catalog.js';
import { functions, physicalName, queues, workerPools } from '../../core/app/declaration.js';
import { onlyResource, resourcesOf, root, synth } from './support.js';

const prod = synth({ env: 'prod' });
const monitoring = prod.template(prod.stacks.monitoring);
const prefix = 'openbatch-prod';

/** The dashboard body with its tokens joined, for searching. */
const dashboardBody = (() => {
  const { props } = onlyResource(monitoring, 'AWS::CloudWatch::Dashboard');
  const body = props.DashboardBody as string | { 'Fn::Join': [string, unknown[]] };
  const text =
    typeof body === 'string'
      ? body
      : body['Fn::Join'][1].map((p) => (typeof p === 'string' ? p : 'TOKEN')).join('');
  return JSON.parse(text) as {
    widgets: { type: string; properties: { title?: string; metrics?: unknown[][]; markdown?: string } }[];
  };
})();

const widget = (title: string) => {
  const w = dashboardBody.widgets.find((x) => x.properties.title === title);
  if (!w) throw new Error(`No widget '${title}'`);
  return JSON.stringify(w.properties.metrics ?? []);
};

/** An alarm's settings with its single metric flattened in (CDK renders labelled metrics as `Metrics`). */
const alarmNamed = (name: string) => {
  const { props } = onlyResource(monitoring, 'AWS::CloudWatch::Alarm', (p) => p.AlarmName === name);
  const stat = (props.Metrics as { MetricStat?: { Metric: Record<string, unknown> } }[] | undefined)?.[0]
    ?.MetricStat;
  return { ...props, ...(stat?.Metric ?? {}) };
};

describe('dashboard', () => {
  it('is named after the environment', () => {
    monitoring.hasResourceProperties('AWS::CloudWatch::Dashboard', { DashboardName: prefix });
  });

  it('shows the API: requests, errors, latency', () => {
    expect(widget('API requests')).toContain(
      '"AWS/ApiGateway","Count","ApiName","openbatch-prod-api","Stage","prod"',
    );
    expect(widget('API requests')).toContain('"5XXError"');
    expect(widget('API latency')).toContain('"p99"');
  });

  it('shows every declared function', () => {
    for (const fn of Object.keys(functions)) {
      for (const title of ['Function invocations', 'Function errors and throttles', 'Function duration p99'])
        expect(widget(title), `${fn} in ${title}`).toContain(`"FunctionName","${physicalName(prefix, fn)}"`);
    }
  });

  it('shows every queue, its oldest message and its dead-letter queue', () => {
    for (const q of Object.keys(queues)) {
      expect(widget('Queues: visible')).toContain(`"QueueName","${physicalName(prefix, q)}"`);
      expect(widget('Queues: in flight')).toContain(
        `"ApproximateNumberOfMessagesNotVisible","QueueName","${physicalName(prefix, q)}"`,
      );
      expect(widget('Queues: oldest message age (s)')).toContain(
        `"ApproximateAgeOfOldestMessage","QueueName","${physicalName(prefix, q)}"`,
      );
      expect(widget('Dead-letter queues')).toContain(`"QueueName","${physicalName(prefix, q)}-dlq"`);
    }
  });

  it('shows workers per pool and what they did', () => {
    for (const pool of Object.keys(workerPools)) {
      expect(widget('Workers per pool')).toContain(
        `"ECS/ContainerInsights","RunningTaskCount","ClusterName","openbatch-prod-workers","ServiceName","${physicalName(prefix, `${pool}Workers`)}"`,
      );
      expect(widget('Chunks completed / handed off')).toContain(
        `"${emfNamespace}","ChunksCompleted","Pool","${pool}"`,
      );
      expect(widget('Requests run / failed')).toContain(`"RequestsFailed","Pool","${pool}"`);
      expect(widget('Chunk duration p90 (ms)')).toContain(`"ChunkDuration","Pool","${pool}"`);
    }
  });

  it('shows batches by status and the SLA monitor', () => {
    expect(widget('Batches by status')).toContain(
      `SEARCH('{openbatch,Function,Status} MetricName=\\"ActiveBatches\\"`,
    );
    for (const name of ['BatchesExpired', 'ChunksEscalated', 'FinalizeRequeued'])
      expect(widget('SLA monitor')).toContain(`"${name}","Function","sla-monitor"`);
  });
});

describe('alarms', () => {
  it('notify an encrypted, TLS-only topic (and an email address when configured)', () => {
    const topic = onlyResource(monitoring, 'AWS::SNS::Topic');
    expect(topic.props.KmsMasterKeyId).toBeDefined();
    monitoring.hasResourceProperties('AWS::KMS::Key', {
      EnableKeyRotation: true,
      KeyPolicy: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Principal: { Service: 'cloudwatch.amazonaws.com' },
            Action: ['kms:Decrypt', 'kms:GenerateDataKey*'],
          }),
        ]),
      },
    });
    monitoring.hasResourceProperties('AWS::SNS::TopicPolicy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
        ]),
      },
    });
    for (const alarm of Object.values(resourcesOf(monitoring, 'AWS::CloudWatch::Alarm'))) {
      expect(alarm.Properties?.AlarmActions).toEqual([{ Ref: topic.id }]);
      expect(alarm.Properties?.OKActions).toEqual([{ Ref: topic.id }]);
    }
    monitoring.resourceCountIs('AWS::SNS::Subscription', 0);
    const withEmail = synth({
      config: { ...environments.prod, alarms: { ...environments.prod.alarms, email: 'ops@example.com' } },
    });
    withEmail
      .template(withEmail.stacks.monitoring)
      .hasResourceProperties('AWS::SNS::Subscription', { Protocol: 'email', Endpoint: 'ops@example.com' });
  });

  it.each(Object.keys(queues))('%s: a message in the dead-letter queue', (q) => {
    expect(alarmNamed(`${prefix}-${q}-dead-letters`)).toMatchObject({
      MetricName: 'ApproximateNumberOfMessagesVisible',
      Dimensions: [{ Name: 'QueueName', Value: `${physicalName(prefix, q)}-dlq` }],
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
    });
  });

  it.each(Object.keys(queues) as (keyof typeof queues)[])(
    '%s: oldest message older than the SLA allows',
    (q) => {
      expect(alarmNamed(`${prefix}-${q}-oldest-message`)).toMatchObject({
        MetricName: 'ApproximateAgeOfOldestMessage',
        Dimensions: [{ Name: 'QueueName', Value: physicalName(prefix, q) }],
        Threshold: environments.prod.alarms.maxMessageAgeSeconds[q],
        ComparisonOperator: 'GreaterThanThreshold',
      });
    },
  );

  it.each(Object.keys(functions))('%s: function errors', (fn) => {
    const kebab = fn.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
    expect(alarmNamed(`${prefix}-${kebab}-errors`)).toMatchObject({
      Namespace: 'AWS/Lambda',
      MetricName: 'Errors',
      Dimensions: [{ Name: 'FunctionName', Value: physicalName(prefix, fn) }],
      Threshold: environments.prod.alarms.functionErrors,
    });
  });

  it('API 5XX responses and expired batches (SLA missed)', () => {
    expect(alarmNamed(`${prefix}-api-server-errors`)).toMatchObject({
      Namespace: 'AWS/ApiGateway',
      MetricName: '5XXError',
      Threshold: environments.prod.alarms.api5xx,
    });
    expect(alarmNamed(`${prefix}-batches-expired`)).toMatchObject({
      Namespace: 'openbatch',
      MetricName: 'BatchesExpired',
      Dimensions: [{ Name: 'Function', Value: 'sla-monitor' }],
      Threshold: 1,
    });
  });

  it('stay quiet without data', () => {
    for (const alarm of Object.values(resourcesOf(monitoring, 'AWS::CloudWatch::Alarm')))
      expect(alarm.Properties?.TreatMissingData).toBe('notBreaching');
  });
});

describe('EMF metrics the dashboards read', () => {
  it.each(allEmfMetrics.filter((m) => m.emittedBy !== 'requested').map((m) => [m.name, m] as const))(
    '%s is emitted by the code, with its dimensions, in the openbatch namespace',
    (name, metric) => {
      const source = readFileSync(resolve(root, metric.emittedBy), 'utf8');
      expect(source).toMatch(new RegExp(`\\b${name}\\b`));
      for (const [k, v] of Object.entries(metric.dimensions))
        expect(source).toMatch(new RegExp(`${k}: '${v}'`));
      if (metric.by) expect(source).toMatch(new RegExp(`\\b${metric.by}\\b`));
      expect(readFileSync(resolve(root, 'core/observability/metrics.ts'), 'utf8')).toContain(
        `setNamespace('${emfNamespace}')`,
      );
    },
  );

  it('lists the metrics still to be emitted', () => {
    // Every metric the dashboards read is emitted by the code (checked above).
    expect(allEmfMetrics.filter((m) => m.emittedBy === 'requested').map((m) => m.name)).toEqual([]);
  });
});
