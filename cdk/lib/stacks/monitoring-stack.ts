import { readFileSync } from 'node:fs';
import { ArnFormat, CfnOutput, Duration, Stack, type StackProps } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import {
  type IDynamicDashboardFactory,
  MonitoringFacade,
  SnsAlarmActionStrategy,
} from 'cdk-monitoring-constructs';
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
import { GrafanaWorkspace } from '../constructs/grafana-workspace.js';
import { type MonitoringConfig, monitoringFor, monitoringProblems } from '../environment.js';
import { addOpenbatchAlarms } from '../monitoring/alarms.js';
import {
  type EmfMetric,
  emf,
  finalizerMetrics,
  housekeepingMetrics,
  schedulerMetrics,
  slaMetrics,
} from '../monitoring/catalog.js';
import { grafanaDashboardFile } from '../monitoring/grafana.js';
import { cloudWatchMetric as cw, emfSearch, OpenbatchMetrics } from '../monitoring/metrics.js';
import { ResourceNames } from '../names.js';

export interface MonitoringStackProps extends StackProps {
  readonly config: EnvironmentConfig;
  /** Alarm thresholds and the Grafana workspace. @default the environment's (cdk/lib/environment.ts) */
  readonly monitoring?: MonitoringConfig;
  /** The Grafana dashboard JSON to provision. @default cdk/dashboards/grafana-openbatch.json */
  readonly grafanaDashboardJson?: string;
}

/**
 * The facade draws no dashboards of its own: the environment's dashboard below (and the Grafana
 * one) are built from the same metric derivation, and each extra CloudWatch dashboard is billed.
 */
const noDashboards: IDynamicDashboardFactory = {
  addDynamicSegment: () => {},
  getDashboard: () => undefined,
};

export class MonitoringConfigError extends Error {
  override readonly name = 'MonitoringConfigError';
  constructor(
    readonly environment: string,
    readonly problems: readonly string[],
  ) {
    super(`Invalid monitoring settings for '${environment}':\n  - ${problems.join('\n  - ')}`);
  }
}

const functionNames = Object.keys(functions) as FunctionName[];
const queueNames = Object.keys(queues) as QueueName[];
const poolNames = Object.keys(workerPools) as PoolName[];

/**
 * The CloudWatch dashboard and alarms of one environment, over AWS service metrics (API
 * Gateway, Lambda, SQS, ECS Container Insights) and openbatch's EMF metrics, and, where the
 * environment enables it, an Amazon Managed Grafana workspace with the same dashboard.
 * Resources are addressed by their physical names, so this stack deploys on its own.
 */
export class MonitoringStack extends Stack {
  readonly dashboard: cloudwatch.Dashboard;
  readonly topic: sns.Topic;
  readonly alarms: cloudwatch.IAlarm[];
  readonly grafana?: GrafanaWorkspace;

  constructor(scope: Construct, id: string, props: MonitoringStackProps) {
    super(scope, id, props);
    const { config } = props;
    const monitoring = props.monitoring ?? monitoringFor(config);
    const problems = monitoringProblems(monitoring);
    if (problems.length > 0) throw new MonitoringConfigError(config.name, problems);
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
    const facade = new MonitoringFacade(this, 'Alarms', {
      alarmFactoryDefaults: {
        alarmNamePrefix: config.prefix,
        actionsEnabled: true,
        action: new SnsAlarmActionStrategy({ onAlarmTopic: this.topic, onOkTopic: this.topic }),
      },
      metricFactoryDefaults: {},
      dashboardFactory: noDashboards,
    });
    this.alarms = addOpenbatchAlarms(this, { facade, metrics, names, config, monitoring }).map(
      (a) => a.alarm,
    );

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
        { right: queueNames.map((q) => cw(metrics.queue(q).deadLetterAge)) },
      ),
      graph(
        'Workers per pool',
        poolNames.flatMap((p) => [
          cw(metrics.pool(p).running),
          cw(metrics.pool(p).desired),
          // What core/policy asks of the pool (the SLA monitor's DesiredTasks), beside what ECS runs.
          cw(metrics.emf(emf('DesiredTasks'), p)),
        ]),
      ),
      graph('Batches by status', [emfSearch(emf('ActiveBatches'), 60)]),
    );
    const perPool = (name: string, statistic?: string) =>
      poolNames.map((p) => cw(metrics.emf(emf(name), p, statistic ? { statistic } : {})));
    const fixed = (list: readonly EmfMetric[]) => list.filter((m) => !m.by).map((m) => cw(metrics.emf(m)));
    this.dashboard.addWidgets(
      graph('Chunks completed / handed off', [...perPool('ChunksCompleted'), ...perPool('ChunksHandedOff')], {
        right: [...perPool('ChunksDuplicate'), ...perPool('ChunksReleased')],
      }),
      graph('Requests run / failed', [...perPool('RequestsRun'), ...perPool('RequestsFailed')]),
      graph('Chunk duration p90 (ms)', perPool('ChunkDuration')),
    );
    this.dashboard.addWidgets(
      graph('Engine latency p50 / p99 (ms)', [
        ...perPool('EngineLatency'),
        ...perPool('EngineLatency', 'p99'),
      ]),
      graph('Tokens generated', perPool('TokensGenerated')),
      graph('Worker errors by code', [emfSearch(emf('WorkerErrors'))]),
    );
    this.dashboard.addWidgets(
      graph('Retries, interruptions, lease renewals', [
        ...perPool('EngineRetries'),
        ...perPool('Interruptions'),
        ...perPool('LeaseRenewals'),
      ]),
      graph('Engine health', perPool('EngineUnhealthy'), {
        right: [
          ...perPool('EngineKvCacheUsage'),
          ...perPool('EngineRequestsRunning'),
          ...perPool('EngineRequestsWaiting'),
        ],
      }),
      graph('API requests by route and status', [emfSearch(emf('ApiRequests'))], {
        right: [emfSearch(emf('ApiLatency'))],
      }),
    );
    this.dashboard.addWidgets(
      graph('Scheduler', fixed(schedulerMetrics), { right: [emfSearch(emf('ValidationFailures'))] }),
      graph('Finalizer', fixed(finalizerMetrics.filter((m) => m.unit === 'Milliseconds')), {
        right: fixed(finalizerMetrics.filter((m) => m.unit !== 'Milliseconds')),
      }),
      graph('Batches by SLA state', [emfSearch(emf('BatchesBySlaState'), 60)]),
    );
    this.dashboard.addWidgets(
      graph('SLA monitor', fixed(slaMetrics), { width: 16 }),
      graph('Housekeeping', fixed(housekeepingMetrics)),
    );
    new CfnOutput(this, 'DashboardName', { value: config.prefix });
    new CfnOutput(this, 'AlarmTopicArn', { value: this.topic.topicArn });

    if (monitoring.grafana.enabled) {
      this.grafana = new GrafanaWorkspace(this, 'Grafana', {
        name: config.prefix,
        grafana: monitoring.grafana,
        dashboardJson: props.grafanaDashboardJson ?? readFileSync(grafanaDashboardFile, 'utf8'),
        defaultRegion: config.region,
      });
    }
  }
}
