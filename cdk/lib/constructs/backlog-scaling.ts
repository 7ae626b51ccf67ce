import { Duration } from 'aws-cdk-lib';
import * as appscaling from 'aws-cdk-lib/aws-applicationautoscaling';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as cwactions from 'aws-cdk-lib/aws-cloudwatch-actions';
import type * as ecs from 'aws-cdk-lib/aws-ecs';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { DEFAULT_POOL_GROUP } from '../../../core/models/catalog.js';
import { emf, emfNamespace } from '../monitoring/catalog.js';

export interface BacklogScalingProps {
  /** The service whose desired count is scaled. */
  readonly service: ecs.BaseService;
  /** The cluster the service runs in (names the scalable target). */
  readonly cluster: ecs.ICluster;
  /** The queue the service's workers consume. */
  readonly queue: sqs.IQueue;
  /** Workers kept when idle. @default 0 */
  readonly minWorkers?: number;
  readonly maxWorkers: number;
  /** Chunks one worker holds in flight at once (the worker's CHUNKS_IN_PARALLEL). */
  readonly chunksPerWorker: number;
  /** Minutes with neither visible nor in-flight messages before scaling to zero. */
  readonly idleMinutes: number;
  /**
   * The task count core/policy wants for this pool (the SLA monitor's DesiredTasks metric,
   * `desiredTasksMetric`): a step policy raises the service to it whenever fewer tasks run, and
   * the backlog policy never sets fewer. Read with the cluster's Container Insights
   * RunningTaskCount. @default none: the backlog alone scales the service
   */
  readonly desiredTasks?: cloudwatch.IMetric;
}

/**
 * The SLA monitor's DesiredTasks metric for a pool of a pool group (cdk/lib/monitoring/catalog.ts),
 * per minute: the default group's under {Pool}, as before pool groups, every other group's under
 * {Pool, PoolGroup} (lambdas/sla-monitor/handler.ts).
 */
export function desiredTasksMetric(pool: string, group: string = DEFAULT_POOL_GROUP): cloudwatch.Metric {
  const m = emf('DesiredTasks');
  return new cloudwatch.Metric({
    namespace: emfNamespace,
    metricName: m.name,
    dimensionsMap: {
      ...m.dimensions,
      Pool: pool,
      ...(group === DEFAULT_POOL_GROUP ? {} : { PoolGroup: group }),
    },
    statistic: m.statistic,
    period: Duration.minutes(1),
  });
}

/**
 * The task counts the desired-tasks policy steps through: `workers` applies when the policy
 * wants more than `above` and at most `workers` tasks. One step per count up to 20 steps; above
 * that the counts are spread evenly up to the maximum, rounding the desired count up.
 */
export function desiredLevels(maxWorkers: number): { above: number; workers: number }[] {
  const counts = scalingLevels(maxWorkers, 1).map((l) => l.workers);
  return counts.map((workers, i) => ({ above: i === 0 ? 0 : (counts[i - 1] as number), workers }));
}

/** Application Auto Scaling accepts at most 20 step adjustments per policy. */
const maxSteps = 20;

/**
 * The worker counts the scale-out policy steps through, with the backlog (visible plus in
 * flight) from which each applies: `workers` applies from `fromBacklog` chunks on. One step
 * per worker count up to 20 steps; above that the counts are spread evenly up to the maximum.
 */
export function scalingLevels(
  maxWorkers: number,
  chunksPerWorker: number,
): { fromBacklog: number; workers: number }[] {
  const steps = Math.min(maxWorkers, maxSteps);
  const counts = new Set<number>([1]);
  for (let i = 2; i <= steps; i++) counts.add(Math.round((i * maxWorkers) / steps));
  return [...counts]
    .sort((a, b) => a - b)
    .map((workers) => ({ fromBacklog: (workers - 1) * chunksPerWorker + 1, workers }));
}

/**
 * Scales an ECS worker service on its queue's backlog, from and to zero:
 *
 * - Work waiting (at least one visible message): the service is set to exactly
 *   ceil((visible + in flight) / chunksPerWorker) workers, capped at the maximum. This brings
 *   a pool up from zero as soon as work arrives. While messages are visible every running
 *   worker holds chunksPerWorker in flight, so the count never drops below the busy workers.
 * - Nothing visible and nothing in flight for `idleMinutes`: the service goes to zero (or its
 *   minimum), and the capacity provider then releases the GPU instances.
 *
 * In between (work only in flight) nothing changes: a worker is never stopped while it may
 * hold a chunk. Both policies set an exact capacity, so a repeated alarm action is harmless.
 *
 * With `desiredTasks` (core/policy's count, published by the SLA monitor every minute) a third
 * policy raises the service to that count whenever fewer tasks run (Container Insights'
 * RunningTaskCount): a pool comes up for an escalated batch's deadline, not only for its queue.
 * The backlog policy then sets at least that count, and the pool goes idle only when the policy
 * wants no more than the minimum, so the three never undo each other.
 */
export class BacklogScaling extends Construct {
  readonly target: appscaling.ScalableTarget;
  /** visible + in flight */
  readonly backlog: cloudwatch.MathExpression;
  readonly scaleOut: appscaling.StepScalingAction;
  readonly scaleToZero: appscaling.StepScalingAction;
  readonly workWaitingAlarm: cloudwatch.Alarm;
  readonly idleAlarm: cloudwatch.Alarm;
  /** Present with `desiredTasks`: raises the count to the policy's. */
  readonly scaleToDesired?: appscaling.StepScalingAction;
  readonly desiredAlarm?: cloudwatch.Alarm;

  constructor(scope: Construct, id: string, props: BacklogScalingProps) {
    super(scope, id);
    const min = props.minWorkers ?? 0;
    const problems: string[] = [];
    if (!Number.isInteger(min) || min < 0) problems.push('minWorkers must be a whole number >= 0');
    if (!Number.isInteger(props.maxWorkers) || props.maxWorkers < Math.max(1, min))
      problems.push('maxWorkers must be a whole number >= max(1, minWorkers)');
    if (!Number.isInteger(props.chunksPerWorker) || props.chunksPerWorker < 1)
      problems.push('chunksPerWorker must be a whole number >= 1');
    if (!Number.isInteger(props.idleMinutes) || props.idleMinutes < 1)
      problems.push('idleMinutes must be >= 1');
    if (problems.length > 0) throw new Error(`BacklogScaling ${this.node.path}: ${problems.join('; ')}`);

    this.target = new appscaling.ScalableTarget(this, 'Target', {
      serviceNamespace: appscaling.ServiceNamespace.ECS,
      scalableDimension: 'ecs:service:DesiredCount',
      resourceId: `service/${props.cluster.clusterName}/${props.service.serviceName}`,
      minCapacity: min,
      maxCapacity: props.maxWorkers,
    });
    this.target.node.addDependency(props.service);

    const period = Duration.minutes(1);
    const visible = props.queue.metricApproximateNumberOfMessagesVisible({ period, statistic: 'Maximum' });
    const inFlight = props.queue.metricApproximateNumberOfMessagesNotVisible({
      period,
      statistic: 'Maximum',
    });
    this.backlog = new cloudwatch.MathExpression({
      expression: 'visible + inFlight',
      usingMetrics: { visible, inFlight },
      label: 'Backlog (visible + in flight)',
      period,
    });
    // The backlog while work is waiting, 0 otherwise: only waiting work may change the count.
    // With the policy's desired count, never less than that count's worth of chunks, so the two
    // policies never set counts that undo each other.
    const per = props.chunksPerWorker;
    const waitingBacklog = props.desiredTasks
      ? new cloudwatch.MathExpression({
          // The larger of the two, with IF rather than MAX([...]) over expressions.
          expression: `IF(visible >= 1, IF(visible + inFlight >= FILL(desired, 0) * ${per}, visible + inFlight, FILL(desired, 0) * ${per}), 0)`,
          usingMetrics: { visible, inFlight, desired: props.desiredTasks },
          label: 'Backlog while work is waiting (at least the desired tasks)',
          period,
        })
      : new cloudwatch.MathExpression({
          expression: 'IF(visible >= 1, visible + inFlight, 0)',
          usingMetrics: { visible, inFlight },
          label: 'Backlog while work is waiting',
          period,
        });

    this.scaleOut = new appscaling.StepScalingAction(this, 'ScaleOut', {
      scalingTarget: this.target,
      adjustmentType: appscaling.AdjustmentType.EXACT_CAPACITY,
      metricAggregationType: appscaling.MetricAggregationType.MAXIMUM,
      cooldown: Duration.seconds(60),
    });
    // Step bounds are relative to the alarm threshold of 1 chunk.
    const levels = scalingLevels(props.maxWorkers, props.chunksPerWorker);
    levels.forEach((level, i) => {
      const next = levels[i + 1];
      this.scaleOut.addAdjustment({
        adjustment: Math.max(level.workers, min),
        lowerBound: level.fromBacklog - 1,
        ...(next ? { upperBound: next.fromBacklog - 1 } : {}),
      });
    });
    this.workWaitingAlarm = new cloudwatch.Alarm(this, 'WorkWaiting', {
      alarmDescription: `Work is waiting on ${props.service.serviceName}'s queue: set the worker count from the backlog`,
      metric: waitingBacklog,
      threshold: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      evaluationPeriods: 1,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    this.workWaitingAlarm.addAlarmAction(new cwactions.ApplicationScalingAction(this.scaleOut));

    this.scaleToZero = new appscaling.StepScalingAction(this, 'ScaleToZero', {
      scalingTarget: this.target,
      adjustmentType: appscaling.AdjustmentType.EXACT_CAPACITY,
      metricAggregationType: appscaling.MetricAggregationType.MAXIMUM,
      cooldown: Duration.seconds(60),
    });
    this.scaleToZero.addAdjustment({ adjustment: min, upperBound: 0 });
    // Idle: nothing visible or in flight, and the policy wants no more than the minimum.
    const idleSignal = props.desiredTasks
      ? new cloudwatch.MathExpression({
          expression: `visible + inFlight + IF(FILL(desired, 0) > ${min}, 1, 0)`,
          usingMetrics: { visible, inFlight, desired: props.desiredTasks },
          label: 'Backlog, plus 1 while the policy wants more than the minimum',
          period,
        })
      : this.backlog;
    this.idleAlarm = new cloudwatch.Alarm(this, 'Idle', {
      alarmDescription: `Nothing visible or in flight on ${props.service.serviceName}'s queue for ${props.idleMinutes} min: scale to ${min}`,
      metric: idleSignal,
      threshold: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
      evaluationPeriods: props.idleMinutes,
      datapointsToAlarm: props.idleMinutes,
      // An idle queue stops publishing metrics after a while: keep the last state (idle).
      treatMissingData: cloudwatch.TreatMissingData.IGNORE,
    });
    this.idleAlarm.addAlarmAction(new cwactions.ApplicationScalingAction(this.scaleToZero));

    if (props.desiredTasks) {
      // The policy's count, while more than the running tasks: from zero before any chunk is
      // queued for the pool, and up to a deadline's need. Scale-in stays with the backlog policies.
      const running = new cloudwatch.Metric({
        namespace: 'ECS/ContainerInsights',
        metricName: 'RunningTaskCount',
        dimensionsMap: { ClusterName: props.cluster.clusterName, ServiceName: props.service.serviceName },
        statistic: 'Maximum',
        period,
      });
      const shortfall = new cloudwatch.MathExpression({
        expression: 'IF(FILL(desired, 0) > FILL(running, 0), FILL(desired, 0), 0)',
        usingMetrics: { desired: props.desiredTasks, running },
        label: 'Desired tasks while fewer run',
        period,
      });
      const scaleToDesired = new appscaling.StepScalingAction(this, 'ScaleToDesired', {
        scalingTarget: this.target,
        adjustmentType: appscaling.AdjustmentType.EXACT_CAPACITY,
        metricAggregationType: appscaling.MetricAggregationType.MAXIMUM,
        cooldown: Duration.seconds(60),
      });
      // Step bounds are relative to the alarm threshold of 1 task.
      const levels = desiredLevels(props.maxWorkers);
      levels.forEach((level, i) => {
        scaleToDesired.addAdjustment({
          adjustment: Math.max(level.workers, min),
          lowerBound: level.above,
          ...(i < levels.length - 1 ? { upperBound: level.workers } : {}),
        });
      });
      this.scaleToDesired = scaleToDesired;
      this.desiredAlarm = new cloudwatch.Alarm(this, 'BelowDesired', {
        alarmDescription: `Fewer tasks run on ${props.service.serviceName} than core/policy wants (the SLA monitor's DesiredTasks): raise the count to it`,
        metric: shortfall,
        threshold: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        evaluationPeriods: 1,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      });
      this.desiredAlarm.addAlarmAction(new cwactions.ApplicationScalingAction(scaleToDesired));
    }
  }
}
