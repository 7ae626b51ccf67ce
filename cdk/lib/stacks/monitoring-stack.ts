import { ArnFormat, CfnOutput, Duration, Stack, type StackProps } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as cwactions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import type { Construct } from 'constructs';
import {
  type FunctionName,
  functions,
  type PoolName,
  type QueueName,
  queues,
  workerPools,
} from '../../../core/app/declaration.js';
import type { EnvironmentConfig } from '../../config.js';
import { pascal } from '../data-plane.js';
import { activeBatches, chunkDuration, slaMetrics, workerMetrics } from '../monitoring/catalog.js';
import { cloudWatchMetric as cw, emfSearch, OpenbatchMetrics } from '../monitoring/metrics.js';
import { ResourceNames } from '../names.js';

export interface MonitoringStackProps extends StackProps {
  readonly config: EnvironmentConfig;
}

const functionNames = Object.keys(functions) as FunctionName[];
const queueNames = Object.keys(queues) as QueueName[];
const poolNames = Object.keys(workerPools) as PoolName[];

/**
 * The CloudWatch dashboard and alarms of one environment, over AWS service metrics (API
 * Gateway, Lambda, SQS, ECS Container Insights) and openbatch's EMF metrics. Resources are
 * addressed by their physical names, so this stack deploys on its own.
 */
export class MonitoringStack extends Stack {
  readonly dashboard: cloudwatch.Dashboard;
  readonly topic: sns.Topic;
  readonly alarms: cloudwatch.Alarm[] = [];

  constructor(scope: Construct, id: string, props: MonitoringStackProps) {
    super(scope, id, props);
    const { config } = props;
    const names = new ResourceNames(config.prefix, this);
    const metrics = new OpenbatchMetrics(names);

    // CloudWatch can publish to an encrypted topic only with a customer managed key that lets it.
    const key = new kms.Key(this, 'AlarmTopicKey', {
      description: `Encrypts the ${config.prefix} alarm topic`,
      enableKeyRotation: true,
    });
    // Only on behalf of this account's alarms of this environment (no confused deputy).
    key.addToResourcePolicy(
      new iam.PolicyStatement({
        principals: [new iam.ServicePrincipal('cloudwatch.amazonaws.com')],
        actions: ['kms:Decrypt', 'kms:GenerateDataKey*'],
        resources: ['*'],
        conditions: {
          StringEquals: { 'aws:SourceAccount': this.account },
          ArnLike: {
            'aws:SourceArn': this.formatArn({
              service: 'cloudwatch',
              resource: 'alarm',
              resourceName: `${config.prefix}-*`,
              arnFormat: ArnFormat.COLON_RESOURCE_NAME,
            }),
          },
        },
      }),
    );
    this.topic = new sns.Topic(this, 'AlarmTopic', {
      topicName: `${config.prefix}-alarms`,
      displayName: `openbatch ${config.name} alarms`,
      masterKey: key,
      enforceSSL: true,
    });
    if (config.alarms.email)
      this.topic.addSubscription(new subscriptions.EmailSubscription(config.alarms.email));
    const action = new cwactions.SnsAction(this.topic);

    const alarm = (id: string, props: cloudwatch.AlarmProps) => {
      const a = new cloudwatch.Alarm(this, id, {
        alarmName: `${config.prefix}-${id.replace(/[A-Z]/g, (c, i) => `${i ? '-' : ''}${c.toLowerCase()}`)}`,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
        ...props,
      });
      a.addAlarmAction(action);
      a.addOkAction(action);
      this.alarms.push(a);
      return a;
    };

    for (const q of queueNames) {
      const m = metrics.queue(q);
      alarm(`${pascal(q)}DeadLetters`, {
        alarmDescription: `Messages reached the ${q} dead-letter queue: inspect them, fix the cause, redrive.`,
        metric: cw(m.deadLetters),
        threshold: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        evaluationPeriods: 1,
      });
      alarm(`${pascal(q)}OldestMessage`, {
        alarmDescription: `The oldest ${q} message waited longer than the SLA allows (${config.alarms.maxMessageAgeSeconds[q]} s): capacity is missing or workers are stuck.`,
        metric: cw(m.oldestAge),
        threshold: config.alarms.maxMessageAgeSeconds[q],
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        evaluationPeriods: 3,
      });
    }
    for (const fn of functionNames) {
      alarm(`${pascal(fn)}Errors`, {
        alarmDescription: `${fn} failed ${config.alarms.functionErrors}+ times in 5 minutes.`,
        metric: cw(metrics.function(fn).errors),
        threshold: config.alarms.functionErrors,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        evaluationPeriods: 1,
      });
    }
    alarm('ApiServerErrors', {
      alarmDescription: `The API answered ${config.alarms.api5xx}+ 5XX responses in 5 minutes.`,
      metric: cw(metrics.api(config.name).serverErrors),
      threshold: config.alarms.api5xx,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      evaluationPeriods: 1,
    });
    const expired = slaMetrics.find((m) => m.name === 'BatchesExpired');
    if (expired) {
      alarm('BatchesExpired', {
        alarmDescription: 'A batch reached its completion window with work left (SLA missed).',
        metric: cw(metrics.emf(expired)),
        threshold: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        evaluationPeriods: 1,
      });
    }

    this.dashboard = new cloudwatch.Dashboard(this, 'Dashboard', {
      dashboardName: config.prefix,
      defaultInterval: Duration.hours(3),
    });
    const w = 8;
    const graph = (
      title: string,
      left: cloudwatch.IMetric[],
      opts: Partial<cloudwatch.GraphWidgetProps> = {},
    ) => new cloudwatch.GraphWidget({ title, left, width: w, height: 6, ...opts });
    const api = metrics.api(config.name);

    this.dashboard.addWidgets(
      new cloudwatch.TextWidget({
        markdown: `# openbatch ${config.name}\nAPI \`${names.api()}\` stage \`${config.name}\` · cluster \`${names.cluster()}\` · EMF namespace \`openbatch\``,
        width: 24,
        height: 2,
      }),
    );
    this.dashboard.addWidgets(
      graph('API requests', [cw(api.requests)], { right: [cw(api.clientErrors), cw(api.serverErrors)] }),
      graph('API latency', [cw(api.latencyP50), cw(api.latencyP99)]),
      new cloudwatch.AlarmStatusWidget({
        title: 'Alarms',
        alarms: this.alarms,
        width: w,
        height: 6,
      }),
    );
    this.dashboard.addWidgets(
      graph(
        'Function invocations',
        functionNames.map((f) => cw(metrics.function(f).invocations)),
      ),
      graph('Function errors and throttles', [
        ...functionNames.map((f) => cw(metrics.function(f).errors)),
        ...functionNames.map((f) => cw(metrics.function(f).throttles)),
      ]),
      graph(
        'Function duration p99',
        functionNames.map((f) => cw(metrics.function(f).durationP99)),
      ),
    );
    this.dashboard.addWidgets(
      graph(
        'Queues: visible',
        queueNames.map((q) => cw(metrics.queue(q).visible)),
      ),
      graph(
        'Queues: in flight',
        queueNames.map((q) => cw(metrics.queue(q).inFlight)),
      ),
      graph(
        'Queues: oldest message age (s)',
        queueNames.map((q) => cw(metrics.queue(q).oldestAge)),
        {
          leftAnnotations: poolNames.map((p) => ({
            value: config.alarms.maxMessageAgeSeconds[workerPools[p].queue],
            label: `${p} SLA`,
          })),
        },
      ),
    );
    this.dashboard.addWidgets(
      graph(
        'Dead-letter queues',
        queueNames.map((q) => cw(metrics.queue(q).deadLetters)),
      ),
      graph(
        'Workers per pool',
        poolNames.flatMap((p) => [cw(metrics.pool(p).running), cw(metrics.pool(p).desired)]),
      ),
      graph('Batches by status', [emfSearch(activeBatches, 60)]),
    );
    const perPool = (name: string) =>
      poolNames.map((p) => cw(metrics.emf(workerMetrics.find((m) => m.name === name) ?? chunkDuration, p)));
    this.dashboard.addWidgets(
      graph('Chunks completed / handed off', [...perPool('ChunksCompleted'), ...perPool('ChunksHandedOff')], {
        right: perPool('ChunksDuplicate'),
      }),
      graph('Requests run / failed', [...perPool('RequestsRun'), ...perPool('RequestsFailed')]),
      graph(
        'Chunk duration p90 (ms)',
        poolNames.map((p) => cw(metrics.emf(chunkDuration, p))),
      ),
    );
    this.dashboard.addWidgets(
      graph(
        'SLA monitor',
        slaMetrics.map((m) => cw(metrics.emf(m))),
        { width: 24 },
      ),
    );

    new CfnOutput(this, 'DashboardName', { value: config.prefix });
    new CfnOutput(this, 'AlarmTopicArn', { value: this.topic.topicArn });
  }
}
