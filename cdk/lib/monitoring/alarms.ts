import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import type { AlarmWithAnnotation, CustomThreshold, MonitoringFacade } from 'cdk-monitoring-constructs';
import type { Construct } from 'constructs';
import {
  type FunctionName,
  functions,
  type PoolName,
  type QueueName,
  queues,
  workerPools,
} from '../../../core/app/declaration.js';
import { DEFAULT_POOL_GROUP, poolQueueLogical } from '../../../core/models/catalog.js';
import { type EnvironmentConfig, modelsOf } from '../../config.js';
import { groupId, pascal } from '../data-plane.js';
import type { MonitoringConfig } from '../environment.js';
import type { ResourceNames } from '../names.js';
import { atRiskSlaState, emf } from './catalog.js';
import { cloudWatchMetric as cw, type OpenbatchMetrics } from './metrics.js';

export interface OpenbatchAlarmsProps {
  readonly facade: MonitoringFacade;
  readonly metrics: OpenbatchMetrics;
  readonly names: ResourceNames;
  readonly config: EnvironmentConfig;
  readonly monitoring: MonitoringConfig;
}

const poolNames = Object.keys(workerPools) as PoolName[];
const queueNames = Object.keys(queues) as QueueName[];
const functionNames = Object.keys(functions) as FunctionName[];

const quiet = { treatMissingDataOverride: cloudwatch.TreatMissingData.NOT_BREACHING } as const;
const atLeast = cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD;
const above = cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD;

/**
 * The alarms of one environment, created through cdk-monitoring-constructs' facade (its alarm
 * factory names them `<prefix>-<subject>-<kind>-<severity>`, wires the SNS action and the
 * annotations). Queues use the library's SQS monitoring (queue age, DLQ depth, DLQ age); every
 * other alarm is a custom-metric alarm over openbatch's own metric derivation (OpenbatchMetrics),
 * because the monitoring stack addresses resources by physical name, with no construct of the
 * other stacks to hand the library's API Gateway, Lambda or ECS monitors. Missing data never
 * breaches: a quiet environment, or a metric no code emits yet, keeps its alarm OK.
 */
export function addOpenbatchAlarms(scope: Construct, props: OpenbatchAlarmsProps): AlarmWithAnnotation[] {
  const { facade, metrics, names, config, monitoring } = props;

  const imported = (id: string, name: string) =>
    sqs.Queue.fromQueueAttributes(scope, id, { queueArn: names.queueArn(name), queueName: name });
  // Every pool group's pool queues, besides the declared ones (the default group's): the same
  // alarms at the same thresholds as the default group's queue of that pool.
  const groupQueues = modelsOf(config)
    .filter((m) => m.group !== DEFAULT_POOL_GROUP)
    .flatMap((m) =>
      poolNames.map((pool) => ({
        friendly: poolQueueLogical(pool, m.group),
        id: `${groupId(m.group)}${pascal(pool)}`,
        name: names.poolQueue(pool, m.group),
        deadLetterName: names.poolDeadLetterQueue(pool, m.group),
        threshold: workerPools[pool].queue,
      })),
    );
  for (const { friendly: q, id, name, deadLetterName, threshold } of [
    ...queueNames.map((q) => ({
      friendly: q,
      id: pascal(q),
      name: names.queue(q),
      deadLetterName: names.deadLetterQueue(q),
      threshold: q,
    })),
    ...groupQueues,
  ]) {
    facade.monitorSqsQueueWithDlq({
      alarmFriendlyName: q,
      queue: imported(`${id}Queue`, name),
      deadLetterQueue: imported(`${id}DeadLetterQueue`, deadLetterName),
      addQueueMaxMessageAgeAlarm: {
        Warning: {
          maxAgeInSeconds: config.alarms.maxMessageAgeSeconds[threshold],
          evaluationPeriods: 3,
          alarmDescriptionOverride: `The oldest ${q} message waited longer than the SLA allows (${config.alarms.maxMessageAgeSeconds[threshold]} s): capacity is missing or consumers are stuck.`,
          ...quiet,
        },
      },
      addDeadLetterQueueMaxSizeAlarm: {
        Critical: {
          maxMessageCount: 0,
          alarmDescriptionOverride: `Messages reached the ${q} dead-letter queue: inspect them, fix the cause, redrive (docs/observability.md).`,
          ...quiet,
        },
      },
      addDeadLetterQueueMaxMessageAgeAlarm: {
        Critical: {
          maxAgeInSeconds: monitoring.deadLetterMaxAgeSeconds,
          alarmDescriptionOverride: `A message has waited in the ${q} dead-letter queue for over ${monitoring.deadLetterMaxAgeSeconds} s without a redrive; SQS drops it at the source queue's retention.`,
          ...quiet,
        },
      },
    });
  }

  const alarm = (
    friendlyName: string,
    metric: cloudwatch.Metric | cloudwatch.MathExpression,
    kind: string,
    threshold: CustomThreshold,
  ) =>
    facade.monitorCustom({
      alarmFriendlyName: friendlyName,
      metricGroups: [
        {
          title: friendlyName,
          metrics: [{ metric, alarmFriendlyName: kind, addAlarm: { Critical: threshold } }],
        },
      ],
    });

  for (const fn of functionNames) {
    alarm(fn, cw(metrics.function(fn).errors), 'Errors', {
      threshold: config.alarms.functionErrors,
      comparisonOperator: atLeast,
      alarmDescriptionOverride: `${fn} failed ${config.alarms.functionErrors}+ times in 5 minutes.`,
      ...quiet,
    });
  }

  // API Gateway: the stage's own metrics. 5XXError's Average is the 5XX rate.
  const api = metrics.api(config.name);
  alarm('api', cw(api.serverErrors), '5XX-Count', {
    threshold: config.alarms.api5xx,
    comparisonOperator: atLeast,
    alarmDescriptionOverride: `The API answered ${config.alarms.api5xx}+ 5XX responses in 5 minutes.`,
    ...quiet,
  });
  alarm('api', cw({ ...api.serverErrors, statistic: 'Average', label: '5XX rate' }), '5XX-Rate', {
    threshold: monitoring.api.serverErrorRatePercent / 100,
    comparisonOperator: above,
    evaluationPeriods: 3,
    datapointsToAlarm: 3,
    alarmDescriptionOverride: `More than ${monitoring.api.serverErrorRatePercent}% of API requests got a 5XX for 15 minutes.`,
    ...quiet,
  });
  alarm('api', cw({ ...api.latencyP50, statistic: 'p95', label: 'latency p95 (ms)' }), 'Latency-P95', {
    threshold: monitoring.api.latencyP95Ms,
    comparisonOperator: above,
    evaluationPeriods: 3,
    datapointsToAlarm: 3,
    alarmDescriptionOverride: `The API's p95 latency stayed above ${monitoring.api.latencyP95Ms} ms for 15 minutes.`,
    ...quiet,
  });

  // SLA: windows missed (emitted), batches at deadline risk (per SLA sweep).
  alarm('sla', cw(metrics.emf(emf('BatchesExpired'))), 'Window-Missed', {
    threshold: 1,
    comparisonOperator: atLeast,
    alarmDescriptionOverride:
      'A batch reached its completion window with work left (SLA missed): its requests got batch_expired.',
    ...quiet,
  });
  alarm(
    'sla',
    cw(metrics.emf(emf('BatchesBySlaState'), { SlaState: atRiskSlaState }, { periodSeconds: 300 })),
    'Breach-Risk',
    {
      threshold: monitoring.atRiskBatches,
      comparisonOperator: atLeast,
      evaluationPeriods: 3,
      datapointsToAlarm: 3,
      alarmDescriptionOverride: `${monitoring.atRiskBatches}+ batches stayed at deadline risk for 15 minutes despite escalation to dedicated capacity.`,
      ...quiet,
    },
  );

  // Workers: requests that failed over requests run, all pools.
  const perPool = (id: string, name: string) =>
    Object.fromEntries(poolNames.map((p) => [`${id}_${p}`, cw(metrics.emf(emf(name), p))]));
  const sum = (m: Record<string, unknown>) =>
    Object.keys(m)
      .map((id) => `FILL(${id}, 0)`)
      .join(' + ');
  const failed = perPool('failed', 'RequestsFailed');
  const run = perPool('run', 'RequestsRun');
  alarm(
    'workers',
    new cloudwatch.MathExpression({
      expression: `IF((${sum(run)}) > 0, 100 * (${sum(failed)}) / (${sum(run)}), 0)`,
      usingMetrics: { ...failed, ...run },
      label: 'failed requests (%)',
      period: Duration.minutes(5),
    }),
    'Error-Rate',
    {
      threshold: monitoring.workerErrorRatePercent,
      comparisonOperator: above,
      evaluationPeriods: 3,
      datapointsToAlarm: 3,
      alarmDescriptionOverride: `More than ${monitoring.workerErrorRatePercent}% of the requests the workers ran ended in the error file for 15 minutes.`,
      ...quiet,
    },
  );

  // Throughput below the floor while chunks wait: 1 when the pool queues hold messages and the
  // workers ran fewer requests than the floor in the period.
  const backlog = Object.fromEntries(
    poolNames.map((p) => [
      `backlog_${p}`,
      cw({ ...metrics.queue(workerPools[p].queue).visible, periodSeconds: 300 }),
    ]),
  );
  const floor = monitoring.throughputFloor;
  alarm(
    'workers',
    new cloudwatch.MathExpression({
      expression: `IF((${sum(backlog)}) > 0 AND (${sum(run)}) < ${floor.requestsPerMinute * 5}, 1, 0)`,
      usingMetrics: { ...backlog, ...run },
      label: 'backlog without throughput',
      period: Duration.minutes(5),
    }),
    'Throughput-Below-Floor',
    {
      threshold: 1,
      comparisonOperator: atLeast,
      evaluationPeriods: floor.sustainedMinutes / 5,
      datapointsToAlarm: floor.sustainedMinutes / 5,
      alarmDescriptionOverride: `Chunks waited in the pool queues while the workers ran fewer than ${floor.requestsPerMinute} requests a minute, for ${floor.sustainedMinutes} minutes.`,
      ...quiet,
    },
  );

  // Engines: the worker's probe of its engine, and ECS running fewer tasks than it wants (an
  // engine that fails its container health check is replaced, again and again).
  const minutes = monitoring.engineUnhealthyMinutes;
  const workersShort = (subject: string, pool: ReturnType<typeof metrics.pool>, which: string) =>
    alarm(
      subject,
      new cloudwatch.MathExpression({
        expression: 'FILL(desired, 0) - FILL(running, 0)',
        usingMetrics: { desired: cw(pool.desired), running: cw(pool.running) },
        label: `${subject} workers short`,
        period: Duration.minutes(1),
      }),
      'Workers-Short',
      {
        threshold: 1,
        comparisonOperator: atLeast,
        evaluationPeriods: minutes,
        datapointsToAlarm: minutes,
        alarmDescriptionOverride: `${which} ran fewer workers than it wants for ${minutes} minutes: engines failing their health check, no GPU capacity, or tasks failing to start.`,
        ...quiet,
      },
    );
  for (const p of poolNames) {
    alarm(p, cw(metrics.emf(emf('EngineUnhealthy'), p, { periodSeconds: 60 })), 'Engine-Unhealthy', {
      threshold: 1,
      comparisonOperator: atLeast,
      evaluationPeriods: minutes,
      datapointsToAlarm: minutes,
      alarmDescriptionOverride: `A ${p} worker's engine failed its health probe every minute for ${minutes} minutes.`,
      ...quiet,
    });
    workersShort(p, metrics.pool(p), `The ${p} pool`);
  }

  // Other pool groups' services: the same shortfall alarm as the default group's pools.
  for (const m of modelsOf(config)) {
    if (m.group === DEFAULT_POOL_GROUP) continue;
    for (const p of poolNames)
      workersShort(
        `${m.group}-${p}`,
        metrics.pool(p, m.group),
        `The ${p} pool of pool group ${m.group} (model ${m.id})`,
      );
  }

  return facade.createdAlarms();
}
