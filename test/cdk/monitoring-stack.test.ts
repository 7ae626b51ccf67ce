import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { Match } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { environments } from '../../cdk/config.js';
import { monitoringProblems, monitoringSettings } from '../../cdk/lib/environment.js';
import { emfNamespace } from '../../cdk/lib/monitoring/catalog.js';
import { MonitoringConfigError } from '../../cdk/lib/stacks/monitoring-stack.js';
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

/** The statistic of a single-metric alarm. */
const statOf = (alarm: Record<string, unknown>): unknown => {
  const { props } = onlyResource(
    monitoring,
    'AWS::CloudWatch::Alarm',
    (p) => p.AlarmName === alarm.AlarmName,
  );
  return (props.Metrics as { MetricStat?: { Stat: string } }[])[0]?.MetricStat?.Stat;
};

/** A metric-math alarm: its expression, and each metric id with its metric name and last dimension. */
const mathAlarm = (name: string) => {
  const { props } = onlyResource(monitoring, 'AWS::CloudWatch::Alarm', (p) => p.AlarmName === name);
  const queries = props.Metrics as {
    Id: string;
    Expression?: string;
    MetricStat?: { Metric: { MetricName: string; Dimensions: { Value: string }[] } };
  }[];
  const ids = Object.fromEntries(
    queries
      .filter((q) => q.MetricStat)
      .map((q) => [q.Id, [q.MetricStat?.Metric.MetricName, q.MetricStat?.Metric.Dimensions.at(-1)?.Value]]),
  );
  return {
    props: { ...props, expression: queries.find((q) => q.Expression)?.Expression } as Record<string, unknown>,
    ids,
  };
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
    expect(alarmNamed(`${prefix}-${q}-DLQ-Queue-Message-Count-Max-Critical`)).toMatchObject({
      MetricName: 'ApproximateNumberOfMessagesVisible',
      Dimensions: [{ Name: 'QueueName', Value: `${physicalName(prefix, q)}-dlq` }],
      Threshold: 0,
      ComparisonOperator: 'GreaterThanThreshold',
    });
  });

  it.each(Object.keys(queues))('%s: a message left in the dead-letter queue too long', (q) => {
    expect(alarmNamed(`${prefix}-${q}-DLQ-Queue-Message-Age-Max-Critical`)).toMatchObject({
      MetricName: 'ApproximateAgeOfOldestMessage',
      Dimensions: [{ Name: 'QueueName', Value: `${physicalName(prefix, q)}-dlq` }],
      Threshold: monitoringSettings.prod.deadLetterMaxAgeSeconds,
      ComparisonOperator: 'GreaterThanThreshold',
    });
  });

  it.each(Object.keys(queues) as (keyof typeof queues)[])(
    '%s: oldest message older than the SLA allows',
    (q) => {
      expect(alarmNamed(`${prefix}-${q}-Queue-Message-Age-Max-Warning`)).toMatchObject({
        MetricName: 'ApproximateAgeOfOldestMessage',
        Dimensions: [{ Name: 'QueueName', Value: physicalName(prefix, q) }],
        Threshold: environments.prod.alarms.maxMessageAgeSeconds[q],
        ComparisonOperator: 'GreaterThanThreshold',
        EvaluationPeriods: 3,
      });
    },
  );

  it.each(Object.keys(functions))('%s: function errors', (fn) => {
    expect(alarmNamed(`${prefix}-${fn}-Errors-Critical`)).toMatchObject({
      Namespace: 'AWS/Lambda',
      MetricName: 'Errors',
      Dimensions: [{ Name: 'FunctionName', Value: physicalName(prefix, fn) }],
      Threshold: environments.prod.alarms.functionErrors,
    });
  });

  it('API: 5XX count, 5XX rate and p95 latency of the stage', () => {
    const stage = [
      { Name: 'ApiName', Value: 'openbatch-prod-api' },
      { Name: 'Stage', Value: 'prod' },
    ];
    expect(alarmNamed(`${prefix}-api-5XX-Count-Critical`)).toMatchObject({
      Namespace: 'AWS/ApiGateway',
      MetricName: '5XXError',
      Dimensions: stage,
      Threshold: environments.prod.alarms.api5xx,
    });
    // The Average of 5XXError is the 5XX rate (API Gateway's definition), a fraction.
    const rate = alarmNamed(`${prefix}-api-5XX-Rate-Critical`);
    expect(rate).toMatchObject({
      MetricName: '5XXError',
      Dimensions: stage,
      Threshold: monitoringSettings.prod.api.serverErrorRatePercent / 100,
      ComparisonOperator: 'GreaterThanThreshold',
      EvaluationPeriods: 3,
    });
    expect(statOf(rate)).toBe('Average');
    const latency = alarmNamed(`${prefix}-api-Latency-P95-Critical`);
    expect(latency).toMatchObject({
      MetricName: 'Latency',
      Dimensions: stage,
      Threshold: monitoringSettings.prod.api.latencyP95Ms,
    });
    expect(statOf(latency)).toBe('p95');
  });

  it('SLA: a missed completion window, and batches at deadline risk', () => {
    expect(alarmNamed(`${prefix}-sla-Window-Missed-Critical`)).toMatchObject({
      Namespace: 'openbatch',
      MetricName: 'BatchesExpired',
      Dimensions: [{ Name: 'Function', Value: 'sla-monitor' }],
      Threshold: 1,
    });
    expect(alarmNamed(`${prefix}-sla-Breach-Risk-Critical`)).toMatchObject({
      Namespace: 'openbatch',
      MetricName: 'BatchesBySlaState',
      Dimensions: [
        { Name: 'Function', Value: 'sla-monitor' },
        { Name: 'SlaState', Value: 'at_risk' },
      ],
      Threshold: monitoringSettings.prod.atRiskBatches,
      EvaluationPeriods: 3,
    });
  });

  it('workers: the share of requests that failed, over every pool', () => {
    const { props, ids } = mathAlarm(`${prefix}-workers-Error-Rate-Critical`);
    expect(props.Threshold).toBe(monitoringSettings.prod.workerErrorRatePercent);
    expect(ids).toEqual({
      failed_spot: ['RequestsFailed', 'spot'],
      failed_dedicated: ['RequestsFailed', 'dedicated'],
      run_spot: ['RequestsRun', 'spot'],
      run_dedicated: ['RequestsRun', 'dedicated'],
    });
    expect(props.expression).toBe(
      'IF((FILL(run_spot, 0) + FILL(run_dedicated, 0)) > 0, 100 * (FILL(failed_spot, 0) + FILL(failed_dedicated, 0)) / (FILL(run_spot, 0) + FILL(run_dedicated, 0)), 0)',
    );
  });

  it('workers: throughput below the floor while the pool queues hold a backlog (metric math)', () => {
    const { props, ids } = mathAlarm(`${prefix}-workers-Throughput-Below-Floor-Critical`);
    const floor = monitoringSettings.prod.throughputFloor;
    expect(ids).toEqual({
      backlog_spot: ['ApproximateNumberOfMessagesVisible', physicalName(prefix, 'spot')],
      backlog_dedicated: ['ApproximateNumberOfMessagesVisible', physicalName(prefix, 'dedicated')],
      run_spot: ['RequestsRun', 'spot'],
      run_dedicated: ['RequestsRun', 'dedicated'],
    });
    expect(props.expression).toBe(
      `IF((FILL(backlog_spot, 0) + FILL(backlog_dedicated, 0)) > 0 AND (FILL(run_spot, 0) + FILL(run_dedicated, 0)) < ${floor.requestsPerMinute * 5}, 1, 0)`,
    );
    expect(props).toMatchObject({
      Threshold: 1,
      EvaluationPeriods: floor.sustainedMinutes / 5,
      DatapointsToAlarm: floor.sustainedMinutes / 5,
    });
  });

  it.each(Object.keys(workerPools))('%s: engine unhealthy, and fewer workers running than wanted', (pool) => {
    const minutes = monitoringSettings.prod.engineUnhealthyMinutes;
    expect(alarmNamed(`${prefix}-${pool}-Engine-Unhealthy-Critical`)).toMatchObject({
      Namespace: 'openbatch',
      MetricName: 'EngineUnhealthy',
      Dimensions: [{ Name: 'Pool', Value: pool }],
      EvaluationPeriods: minutes,
    });
    const short = mathAlarm(`${prefix}-${pool}-Workers-Short-Critical`);
    expect(short.props.expression).toBe('FILL(desired, 0) - FILL(running, 0)');
    expect(short.ids).toEqual({
      desired: ['DesiredTaskCount', physicalName(prefix, `${pool}Workers`)],
      running: ['RunningTaskCount', physicalName(prefix, `${pool}Workers`)],
    });
    expect(short.props.EvaluationPeriods).toBe(minutes);
  });

  it('stay quiet without data', () => {
    for (const alarm of Object.values(resourcesOf(monitoring, 'AWS::CloudWatch::Alarm')))
      expect(alarm.Properties?.TreatMissingData).toBe('notBreaching');
  });

  it('are all on the dashboard, and the facade draws no dashboard of its own', () => {
    monitoring.resourceCountIs('AWS::CloudWatch::Dashboard', 1);
    const alarms = dashboardBody.widgets.find((x) => x.properties.title === 'Alarms') as unknown as {
      properties: { alarms: unknown[] };
    };
    expect(alarms.properties.alarms).toHaveLength(
      Object.keys(resourcesOf(monitoring, 'AWS::CloudWatch::Alarm')).length,
    );
  });
});

describe('monitoring settings (cdk/lib/environment.ts)', () => {
  it('are the ones docs/observability.md lists', () => {
    const doc = readFileSync(resolve(root, 'docs/observability.md'), 'utf8');
    const get = (o: unknown, path: string): unknown =>
      path.split('.').reduce((v, k) => (v as Record<string, unknown>)[k], o);
    const rows = [...doc.matchAll(/^\| `([\w.]+)` +\| (\S+) +\| (\S+) +\| (\S+) +\|$/gm)];
    expect(rows.length).toBeGreaterThanOrEqual(9);
    for (const [, key, dev, staging, prod] of rows) {
      const listed = { dev, staging, prod };
      for (const env of ['dev', 'staging', 'prod'] as const)
        expect(String(get(monitoringSettings[env], key as string)), `${env} ${key}`).toBe(listed[env]);
    }
  });

  it('are valid for every environment', () => {
    for (const [name, m] of Object.entries(monitoringSettings))
      expect(monitoringProblems(m), name).toEqual([]);
  });

  it('are refused with every problem listed at once', () => {
    const bad = {
      ...monitoringSettings.prod,
      deadLetterMaxAgeSeconds: 5 * 86400,
      throughputFloor: { requestsPerMinute: 0, sustainedMinutes: 7 },
      api: { serverErrorRatePercent: 0, latencyP95Ms: 30_000 },
      grafana: { ...monitoringSettings.prod.grafana, authenticationProviders: [] },
    };
    expect(() => synth({ env: 'prod', monitoring: bad })).toThrow(MonitoringConfigError);
    expect(monitoringProblems(bad).map((p) => p.split(':')[0])).toEqual([
      'deadLetterMaxAgeSeconds',
      'throughputFloor.requestsPerMinute',
      'throughputFloor.sustainedMinutes',
      'api.serverErrorRatePercent',
      'api.latencyP95Ms',
      'grafana.authenticationProviders',
    ]);
  });
});
