import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { App, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { describe, expect, it } from 'vitest';
import { environments } from '../../cdk/config.js';
import { BacklogScaling, desiredLevels, scalingLevels } from '../../cdk/lib/constructs/backlog-scaling.js';
import { queues, tables, workerUses } from '../../core/app/declaration.js';
import { configWith, onlyResource, resourcesOf, synth } from './support.js';

const prod = synth({ env: 'prod' });
const dev = synth({ env: 'dev' });
const compute = prod.template(prod.stacks.compute as Stack);
const devCompute = dev.template(dev.stacks.compute as Stack);

type Container = {
  Name: string;
  Image: unknown;
  Command?: string[];
  Environment: { Name: string; Value: unknown }[];
  ResourceRequirements?: { Type: string; Value: string }[];
  HealthCheck?: { Command: string[]; StartPeriod: number; Interval: number; Retries: number };
  StopTimeout?: number;
  DependsOn?: { ContainerName: string; Condition: string }[];
  Links?: string[];
  LinuxParameters?: { InitProcessEnabled?: boolean; SharedMemorySize?: number };
  EntryPoint?: string[];
  Essential: boolean;
  LogConfiguration: { LogDriver: string };
  Secrets?: { Name: string }[];
  MountPoints?: { ContainerPath: string }[];
};

function task(t: Template, pool: string) {
  const { props } = onlyResource(
    t,
    'AWS::ECS::TaskDefinition',
    (p) => p.Family === `openbatch-${t === compute ? 'prod' : 'dev'}-${pool}-workers`,
  );
  const containers = props.ContainerDefinitions as Container[];
  const get = (name: string) => containers.find((c) => c.Name === name) as Container;
  return { props, engine: get('engine'), worker: get('worker') };
}

const env = (c: Container) => Object.fromEntries(c.Environment.map((e) => [e.Name, e.Value]));

function asg(t: Template, spot: boolean) {
  return onlyResource(t, 'AWS::AutoScaling::AutoScalingGroup', (p) => {
    const d = (
      p.MixedInstancesPolicy as { InstancesDistribution: { OnDemandPercentageAboveBaseCapacity: number } }
    ).InstancesDistribution;
    return d.OnDemandPercentageAboveBaseCapacity === (spot ? 0 : 100);
  });
}

describe('cluster and instances', () => {
  it('runs an ECS cluster with Container Insights (workers per pool on the dashboard)', () => {
    compute.hasResourceProperties('AWS::ECS::Cluster', {
      ClusterName: 'openbatch-prod-workers',
      ClusterSettings: [{ Name: 'containerInsights', Value: 'enabled' }],
    });
  });

  it('launches instances from the ECS GPU-optimized AMI, with encrypted volumes and IMDSv2 out of containers’ reach', () => {
    const templates = Object.values(resourcesOf(compute, 'AWS::EC2::LaunchTemplate'));
    expect(templates).toHaveLength(2);
    for (const lt of templates) {
      const data = lt.Properties?.LaunchTemplateData as Record<string, unknown>;
      expect(JSON.stringify(data.ImageId)).toContain('amazonlinux2023gpurecommendedimageid');
      expect(data.BlockDeviceMappings).toEqual([
        {
          DeviceName: '/dev/xvda',
          Ebs: {
            Encrypted: true,
            VolumeSize: environments.prod.instances.volumeGiB,
            VolumeType: 'gp3',
            Iops: environments.prod.instances.volumeIops,
            Throughput: environments.prod.instances.volumeThroughputMiBps,
          },
        },
      ]);
      expect(data.MetadataOptions).toEqual({ HttpTokens: 'required', HttpPutResponseHopLimit: 1 });
    }
    expect(JSON.stringify(compute.findParameters('*'))).toContain(
      '/aws/service/ecs/optimized-ami/amazon-linux-2023/gpu/recommended/image_id',
    );
  });

  it('draws Spot capacity from several GPU types, price-capacity-optimized, and rebalances', () => {
    const { props } = asg(compute, true);
    const policy = props.MixedInstancesPolicy as {
      InstancesDistribution: Record<string, unknown>;
      LaunchTemplate: { Overrides: { InstanceType: string }[] };
    };
    expect(policy.InstancesDistribution).toEqual({
      OnDemandBaseCapacity: 0,
      OnDemandPercentageAboveBaseCapacity: 0,
      SpotAllocationStrategy: 'price-capacity-optimized',
    });
    expect(policy.LaunchTemplate.Overrides.map((o) => o.InstanceType)).toEqual(
      environments.prod.pools.spot.instanceTypes,
    );
    expect(policy.LaunchTemplate.Overrides.length).toBeGreaterThan(1);
    expect(props.CapacityRebalance).toBe(true);
    expect(props.MinSize).toBe('0');
    expect(props.MaxSize).toBe(String(environments.prod.pools.spot.maxWorkers));
  });

  it('keeps an On-Demand group for dedicated work, types in order of preference', () => {
    const { props } = asg(compute, false);
    const policy = props.MixedInstancesPolicy as {
      InstancesDistribution: Record<string, unknown>;
      LaunchTemplate: { Overrides: { InstanceType: string }[] };
    };
    expect(policy.InstancesDistribution).toEqual({
      OnDemandBaseCapacity: 0,
      OnDemandPercentageAboveBaseCapacity: 100,
      OnDemandAllocationStrategy: 'prioritized',
    });
    expect(policy.LaunchTemplate.Overrides.map((o) => o.InstanceType)).toEqual(
      environments.prod.pools.dedicated.instanceTypes,
    );
    expect(props.CapacityRebalance).toBe(false);
  });

  it('puts each group behind its own capacity provider with managed scaling, draining and termination protection', () => {
    for (const spot of [true, false]) {
      const group = asg(compute, spot);
      compute.hasResourceProperties('AWS::ECS::CapacityProvider', {
        Name: `openbatch-prod-${spot ? 'spot' : 'dedicated'}-capacity`,
        AutoScalingGroupProvider: {
          AutoScalingGroupArn: { Ref: group.id },
          ManagedScaling: { Status: 'ENABLED', TargetCapacity: 100 },
          ManagedTerminationProtection: 'ENABLED',
          ManagedDraining: 'ENABLED',
        },
      });
      expect(group.props.NewInstancesProtectedFromScaleIn).toBe(true);
    }
  });

  it('joins instances to the cluster, and lets Spot interruptions drain tasks', () => {
    const userData = (spot: boolean) => {
      const group = asg(compute, spot);
      const ltId = (
        group.props.MixedInstancesPolicy as {
          LaunchTemplate: { LaunchTemplateSpecification: { LaunchTemplateId: { Ref: string } } };
        }
      ).LaunchTemplate.LaunchTemplateSpecification.LaunchTemplateId.Ref;
      const lt = resourcesOf(compute, 'AWS::EC2::LaunchTemplate')[ltId];
      return JSON.stringify(
        (lt?.Properties?.LaunchTemplateData as { UserData: unknown } | undefined)?.UserData,
      );
    };
    for (const spot of [true, false]) {
      expect(userData(spot)).toContain('echo ECS_CLUSTER=');
      expect(userData(spot)).toContain('ECS_CONTAINER_STOP_TIMEOUT=120s');
    }
    expect(userData(true)).toContain('ECS_ENABLE_SPOT_INSTANCE_DRAINING=true');
    expect(userData(false)).not.toContain('ECS_ENABLE_SPOT_INSTANCE_DRAINING');
  });

  it('puts instances in private subnets behind NAT where configured, public (no inbound) in dev', () => {
    compute.resourceCountIs('AWS::EC2::NatGateway', environments.prod.network.natGateways);
    devCompute.resourceCountIs('AWS::EC2::NatGateway', 0);
    for (const t of [compute, devCompute]) {
      const sg = onlyResource(t, 'AWS::EC2::SecurityGroup');
      expect(sg.props.SecurityGroupIngress).toBeUndefined();
      t.hasResourceProperties('AWS::EC2::VPCEndpoint', {
        VpcEndpointType: 'Gateway',
        ServiceName: Match.anyValue(),
      });
      t.resourceCountIs('AWS::EC2::FlowLog', 1);
    }
    const devLt = Object.values(resourcesOf(devCompute, 'AWS::EC2::LaunchTemplate'))[0];
    expect(JSON.stringify(devLt?.Properties)).toContain('"AssociatePublicIpAddress":true');
    const prodLt = Object.values(resourcesOf(compute, 'AWS::EC2::LaunchTemplate'))[0];
    expect(JSON.stringify(prodLt?.Properties)).toContain('"AssociatePublicIpAddress":false');
    const prodAsg = asg(compute, true).props.VPCZoneIdentifier as { Ref: string }[];
    for (const subnet of prodAsg) expect(subnet.Ref).toMatch(/workers/);
  });
});

describe('the worker task', () => {
  it.each(['spot', 'dedicated'])(
    '%s: the engine container owns the GPU, serves the model and reports its health',
    (pool) => {
      const { engine, props } = task(compute, pool);
      expect(props.NetworkMode).toBe('bridge');
      expect(props.RequiresCompatibilities).toEqual(['EC2']);
      expect(JSON.stringify(engine.Image)).toContain(
        `/${environments.prod.engine.image.repository}:${environments.prod.engine.image.tag}`,
      );
      expect(engine.ResourceRequirements).toEqual([
        { Type: 'GPU', Value: String(environments.prod.engine.gpus) },
      ]);
      // `vllm serve <model>`: the model is positional; --model is deprecated for vllm serve.
      expect(engine.EntryPoint).toEqual(['vllm', 'serve']);
      expect(engine.Command).toEqual([
        `/models/weights/${environments.prod.engine.model}`,
        '--served-model-name',
        environments.prod.engine.model,
        '--port',
        '8000',
        ...environments.prod.engine.extraArgs,
      ]);
      expect(engine.Command).not.toContain('--model');
      expect(engine.HealthCheck?.Command.join(' ')).toContain('http://localhost:8000/health');
      expect(engine.HealthCheck?.StartPeriod).toBe(environments.prod.engine.health.startPeriodSeconds);
      expect(engine.LinuxParameters?.InitProcessEnabled).toBe(true);
      expect(engine.LinuxParameters?.SharedMemorySize).toBe(environments.prod.engine.sharedMemoryMiB);
      expect(engine.MountPoints?.map((m) => m.ContainerPath)).toEqual(['/models']);
    },
  );

  it.each(['spot', 'dedicated'])(
    '%s: the worker starts once the engine is healthy and reaches it over a link',
    (pool) => {
      const { worker } = task(compute, pool);
      expect(worker.ResourceRequirements).toBeUndefined();
      // The collector beside it takes its spans (test/cdk/tracing.test.ts).
      expect(worker.DependsOn).toEqual([
        { ContainerName: 'engine', Condition: 'HEALTHY' },
        { ContainerName: 'otel-collector', Condition: 'START' },
      ]);
      expect(worker.Links).toEqual(['engine:engine', 'otel-collector:otel-collector']);
      expect(env(worker).ENGINE_URL).toBe('http://engine:8000');
      expect(worker.Essential).toBe(true);
      expect(worker.HealthCheck?.Command).toEqual(['CMD', 'node', 'healthcheck.mjs']);
    },
  );

  it.each(['spot', 'dedicated'])('%s: SIGTERM reaches the worker and it has 120 s to checkpoint', (pool) => {
    const { worker, engine } = task(compute, pool);
    expect(worker.StopTimeout).toBe(120);
    // The engine outlives the worker on stop (dependency order), and waits as long.
    expect(engine.StopTimeout).toBe(120);
    // No entry point override: the image's tini forwards the signal to node (gpu-worker/Dockerfile).
    expect(worker.EntryPoint).toBeUndefined();
    expect(worker.Command).toBeUndefined();
  });

  it.each(['spot', 'dedicated'] as const)('%s: the worker is configured for its pool and queue', (pool) => {
    const vars = env(task(compute, pool).worker);
    expect(vars.POOL).toBe(pool);
    expect(JSON.stringify(vars.QUEUE_URL)).toContain(`/openbatch-prod-${pool}"`);
    expect(vars.VISIBILITY_TIMEOUT_SECONDS).toBe(String(queues[pool].visibilityTimeoutSeconds));
    expect(vars.ENGINE_CONCURRENCY).toBe(String(environments.prod.worker.engineConcurrency));
    expect(vars.CHUNKS_IN_PARALLEL).toBe(String(environments.prod.worker.chunksInParallel));
    expect(vars.AWS_EMF_ENVIRONMENT).toBe('Local');
    expect(vars.BATCHES_TABLE).toBe('openbatch-prod-batches');
    expect(vars.CHUNKS_TABLE).toBe('openbatch-prod-chunks');
    expect(vars.AWS_REGION).toBe('us-east-1');
    expect(vars.LOG_LEVEL).toBe('info');
  });

  it('builds the worker image from gpu-worker/Dockerfile for x86 GPU instances', () => {
    const { worker } = task(compute, 'spot');
    expect(JSON.stringify(worker.Image)).toContain('cdk-hnb659fds-container-assets');
    const outdir = prod.app.synth().directory;
    const manifest = JSON.parse(readFileSync(join(outdir, 'openbatch-prod-compute.assets.json'), 'utf8')) as {
      dockerImages: Record<string, { source: { directory: string; dockerFile: string; platform: string } }>;
    };
    const images = Object.values(manifest.dockerImages);
    expect(images).toHaveLength(1);
    expect(images[0]?.source).toMatchObject({ dockerFile: 'gpu-worker/Dockerfile', platform: 'linux/amd64' });
    // The build context holds what the image needs, and nothing else (the ignore file applied).
    const context = join(outdir, images[0]?.source.directory ?? '');
    for (const needed of [
      'package.json',
      'package-lock.json',
      'core',
      'gpu-worker/src/main.ts',
      'gpu-worker/Dockerfile',
    ])
      expect(existsSync(join(context, needed)), needed).toBe(true);
    for (const unwanted of ['node_modules', 'lambdas', 'portal', 'cdk', 'test', '.git'])
      expect(existsSync(join(context, unwanted)), unwanted).toBe(false);
  });

  it('uses a pre-built worker image when configured', () => {
    const custom = synth({
      config: configWith(environments.prod, (c) => {
        c.worker = {
          ...c.worker,
          image: '123456789012.dkr.ecr.us-east-1.amazonaws.com/openbatch-worker:1.2.3',
        };
      }),
    });
    const t = custom.template(custom.stacks.compute as Stack);
    const containers = onlyResource(
      t,
      'AWS::ECS::TaskDefinition',
      (p) => p.Family === 'openbatch-prod-spot-workers',
    ).props.ContainerDefinitions as Container[];
    expect(containers.find((c) => c.Name === 'worker')?.Image).toBe(
      '123456789012.dkr.ecr.us-east-1.amazonaws.com/openbatch-worker:1.2.3',
    );
  });
});

describe('the worker task role: least privilege from the declaration', () => {
  const statements = (pool: string) => {
    const { props } = task(compute, pool);
    const role = (props.TaskRoleArn as { 'Fn::GetAtt': [string] })['Fn::GetAtt'][0];
    return Object.values(resourcesOf(compute, 'AWS::IAM::Policy'))
      .filter((p) => JSON.stringify(p.Properties?.Roles).includes(`"${role}"`))
      .flatMap(
        (p) =>
          (
            p.Properties?.PolicyDocument as
              | { Statement: { Action: string[]; Resource: unknown }[] }
              | undefined
          )?.Statement ?? [],
      );
  };

  it.each(['spot', 'dedicated'] as const)('%s: consumes its own queue and uses only workerUses', (pool) => {
    const text = (fragment: string) =>
      statements(pool)
        .filter((s) => JSON.stringify(s.Resource).includes(fragment))
        .flatMap((s) => s.Action);
    expect(text(`:openbatch-prod-${pool}"`)).toEqual(
      expect.arrayContaining(['sqs:ReceiveMessage', 'sqs:DeleteMessage', 'sqs:ChangeMessageVisibility']),
    );
    for (const q of workerUses.queues ?? [])
      expect(text(`:openbatch-prod-${q}"`)).toContain('sqs:SendMessage');
    expect(text(':openbatch-prod-scheduling"')).toEqual([]);
    for (const t of Object.keys(tables)) {
      const actions = text(`:table/openbatch-prod-${t.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}"`);
      if (t in (workerUses.tables ?? {})) expect(actions).toContain('dynamodb:UpdateItem');
      else expect(actions, t).toEqual([]);
    }
    expect(text('openbatch-prod-files-')).toEqual(expect.arrayContaining(['s3:GetObject', 's3:PutObject']));
  });
});

describe('services and scaling on the queue backlog', () => {
  it.each(['spot', 'dedicated'])(
    '%s: a service on its own capacity provider, no task at create, the count left to scaling',
    (pool) => {
      const provider = onlyResource(
        compute,
        'AWS::ECS::CapacityProvider',
        (p) => p.Name === `openbatch-prod-${pool}-capacity`,
      );
      const { props } = onlyResource(
        compute,
        'AWS::ECS::Service',
        (p) => p.ServiceName === `openbatch-prod-${pool}-workers`,
      );
      expect(props.CapacityProviderStrategy).toEqual([{ CapacityProvider: { Ref: provider.id }, Weight: 1 }]);
      expect(props.DesiredCount).toBe(0);
      expect(props.LaunchType).toBeUndefined();
      expect(props.DeploymentConfiguration).toMatchObject({
        MinimumHealthyPercent: 0,
        MaximumPercent: 100,
        DeploymentCircuitBreaker: { Enable: true, Rollback: true },
      });
    },
  );

  it.each(['spot', 'dedicated'] as const)('%s: scales between min and max workers', (pool) => {
    const service = onlyResource(
      compute,
      'AWS::ECS::Service',
      (p) => p.ServiceName === `openbatch-prod-${pool}-workers`,
    );
    const target = onlyResource(compute, 'AWS::ApplicationAutoScaling::ScalableTarget', (p) =>
      JSON.stringify(p.ResourceId).includes(service.id),
    );
    expect(target.props).toMatchObject({
      MinCapacity: environments.prod.pools[pool].minWorkers,
      MaxCapacity: environments.prod.pools[pool].maxWorkers,
      ScalableDimension: 'ecs:service:DesiredCount',
      ServiceNamespace: 'ecs',
    });
  });

  const alarmsOf = (pool: string) =>
    Object.entries(resourcesOf(compute, 'AWS::CloudWatch::Alarm')).filter(([, a]) =>
      JSON.stringify(a.Properties?.Metrics ?? '').includes(`"openbatch-prod-${pool}"`),
    );

  it.each(['spot', 'dedicated'] as const)(
    '%s: comes up from zero as soon as a message is visible',
    (pool) => {
      const [, alarm] =
        alarmsOf(pool).find(
          ([, a]) => a.Properties?.ComparisonOperator === 'GreaterThanOrEqualToThreshold',
        ) ?? [];
      expect(alarm?.Properties).toMatchObject({
        Threshold: 1,
        EvaluationPeriods: 1,
        TreatMissingData: 'notBreaching',
      });
      const metrics = alarm?.Properties?.Metrics as {
        Expression?: string;
        MetricStat?: { Metric: { MetricName: string } };
      }[];
      // Never fewer workers than core/policy's desired count (chunksInParallel chunks each).
      const per = environments.prod.worker.chunksInParallel;
      expect(metrics.find((m) => m.Expression)?.Expression).toBe(
        `IF(visible >= 1, IF(visible + inFlight >= FILL(desired, 0) * ${per}, visible + inFlight, FILL(desired, 0) * ${per}), 0)`,
      );
      expect(metrics.flatMap((m) => (m.MetricStat ? [m.MetricStat.Metric.MetricName] : [])).sort()).toEqual([
        'ApproximateNumberOfMessagesNotVisible',
        'ApproximateNumberOfMessagesVisible',
        'DesiredTasks',
      ]);
      const policyId = (alarm?.Properties?.AlarmActions as { Ref: string }[] | undefined)?.[0]?.Ref as string;
      const policy = resourcesOf(compute, 'AWS::ApplicationAutoScaling::ScalingPolicy')[policyId]?.Properties
        ?.StepScalingPolicyConfiguration as {
        AdjustmentType: string;
        StepAdjustments: Record<string, number>[];
      };
      expect(policy.AdjustmentType).toBe('ExactCapacity');
      // The lowest step: any backlog at all -> at least one worker.
      expect(policy.StepAdjustments[0]).toMatchObject({ MetricIntervalLowerBound: 0, ScalingAdjustment: 1 });
      expect(policy.StepAdjustments.at(-1)?.ScalingAdjustment).toBe(environments.prod.pools[pool].maxWorkers);
      expect(policy.StepAdjustments.at(-1)?.MetricIntervalUpperBound).toBeUndefined();
    },
  );

  it.each(['spot', 'dedicated'] as const)(
    '%s: goes to zero only when nothing is visible and nothing in flight',
    (pool) => {
      const [, alarm] =
        alarmsOf(pool).find(([, a]) => a.Properties?.ComparisonOperator === 'LessThanThreshold') ?? [];
      expect(alarm?.Properties).toMatchObject({
        Threshold: 1,
        EvaluationPeriods: environments.prod.scaling.idleMinutesBeforeScaleToZero,
        DatapointsToAlarm: environments.prod.scaling.idleMinutesBeforeScaleToZero,
        TreatMissingData: 'ignore',
      });
      const metrics = alarm?.Properties?.Metrics as { Expression?: string }[];
      // ... and core/policy wants no more than the pool's minimum.
      expect(metrics.find((m) => m.Expression)?.Expression).toBe(
        `visible + inFlight + IF(FILL(desired, 0) > ${environments.prod.pools[pool].minWorkers}, 1, 0)`,
      );
      const policyId = (alarm?.Properties?.AlarmActions as { Ref: string }[] | undefined)?.[0]?.Ref as string;
      expect(
        resourcesOf(compute, 'AWS::ApplicationAutoScaling::ScalingPolicy')[policyId]?.Properties,
      ).toMatchObject({
        StepScalingPolicyConfiguration: {
          AdjustmentType: 'ExactCapacity',
          StepAdjustments: [
            { MetricIntervalUpperBound: 0, ScalingAdjustment: environments.prod.pools[pool].minWorkers },
          ],
        },
      });
    },
  );
});

describe("scaling to core/policy's desired tasks (the SLA monitor's DesiredTasks)", () => {
  type MetricDatum = {
    Id: string;
    Expression?: string;
    MetricStat?: {
      Metric: { Namespace: string; MetricName: string; Dimensions: { Name: string; Value: unknown }[] };
    };
  };
  const desiredAlarm = (pool: string) => {
    const found = Object.entries(resourcesOf(compute, 'AWS::CloudWatch::Alarm')).filter(
      ([, a]) =>
        (a.Properties?.Metrics as MetricDatum[] | undefined)?.some(
          (m) =>
            m.MetricStat?.Metric.MetricName === 'DesiredTasks' &&
            m.MetricStat.Metric.Dimensions.some((d) => d.Name === 'Pool' && d.Value === pool),
        ) &&
        ((a.Properties?.Metrics ?? []) as MetricDatum[]).some(
          (m) => m.MetricStat?.Metric.MetricName === 'RunningTaskCount',
        ),
    );
    expect(found).toHaveLength(1);
    return found[0]?.[1] as { Properties: Record<string, unknown> };
  };

  it.each(['spot', 'dedicated'] as const)(
    "%s: raises the service to the pool's DesiredTasks whenever fewer tasks run",
    (pool) => {
      const alarm = desiredAlarm(pool);
      expect(alarm.Properties).toMatchObject({
        Threshold: 1,
        ComparisonOperator: 'GreaterThanOrEqualToThreshold',
        EvaluationPeriods: 1,
        TreatMissingData: 'notBreaching',
      });
      const metrics = alarm.Properties.Metrics as MetricDatum[];
      expect(metrics.find((m) => m.Expression)?.Expression).toBe(
        'IF(FILL(desired, 0) > FILL(running, 0), FILL(desired, 0), 0)',
      );
      const desired = metrics.find((m) => m.MetricStat?.Metric.MetricName === 'DesiredTasks')?.MetricStat
        ?.Metric;
      expect(desired?.Namespace).toBe('openbatch');
      expect(desired?.Dimensions).toEqual(
        expect.arrayContaining([
          { Name: 'Function', Value: 'sla-monitor' },
          { Name: 'Pool', Value: pool },
        ]),
      );
      const running = metrics.find((m) => m.MetricStat?.Metric.MetricName === 'RunningTaskCount')?.MetricStat
        ?.Metric;
      expect(running?.Namespace).toBe('ECS/ContainerInsights');
      const service = onlyResource(
        compute,
        'AWS::ECS::Service',
        (p) => p.ServiceName === `openbatch-prod-${pool}-workers`,
      );
      expect(running?.Dimensions).toContainEqual({
        Name: 'ServiceName',
        Value: { 'Fn::GetAtt': [service.id, 'Name'] },
      });

      const policyId = (alarm.Properties.AlarmActions as { Ref: string }[])[0]?.Ref as string;
      const policy = resourcesOf(compute, 'AWS::ApplicationAutoScaling::ScalingPolicy')[policyId]?.Properties
        ?.StepScalingPolicyConfiguration as {
        AdjustmentType: string;
        StepAdjustments: Record<string, number>[];
      };
      expect(policy.AdjustmentType).toBe('ExactCapacity');
      const max = environments.prod.pools[pool].maxWorkers;
      // Bounds are relative to the threshold of 1: a desired count d sits at d - 1.
      expect(policy.StepAdjustments[0]).toEqual({
        MetricIntervalLowerBound: 0,
        MetricIntervalUpperBound: 1,
        ScalingAdjustment: Math.max(1, environments.prod.pools[pool].minWorkers),
      });
      expect(policy.StepAdjustments.at(-1)).toEqual({
        MetricIntervalLowerBound: max - 1,
        ScalingAdjustment: max,
      });
    },
  );
});

describe('desiredLevels', () => {
  it('steps one task at a time up to 20 tasks', () => {
    expect(desiredLevels(3)).toEqual([
      { above: 0, workers: 1 },
      { above: 1, workers: 2 },
      { above: 2, workers: 3 },
    ]);
  });

  it('rounds a desired count up on large pools: never fewer tasks than asked, never more than the maximum', () => {
    const levels = desiredLevels(50);
    expect(levels.length).toBeLessThanOrEqual(20);
    for (let d = 1; d <= 50; d++) {
      const level = levels.find((l) => d > l.above && d <= l.workers);
      expect(level?.workers, `desired ${d}`).toBeGreaterThanOrEqual(d);
    }
    expect(levels.at(-1)?.workers).toBe(50);
  });
});

describe('scalingLevels', () => {
  it('steps one worker per chunksPerWorker chunks of backlog', () => {
    expect(scalingLevels(3, 2)).toEqual([
      { fromBacklog: 1, workers: 1 },
      { fromBacklog: 3, workers: 2 },
      { fromBacklog: 5, workers: 3 },
    ]);
  });

  it('spreads large pools over at most 20 steps, starting at one worker and ending at the maximum', () => {
    const levels = scalingLevels(100, 2);
    expect(levels).toHaveLength(20);
    expect(levels[0]).toEqual({ fromBacklog: 1, workers: 1 });
    expect(levels.at(-1)?.workers).toBe(100);
    for (let i = 1; i < levels.length; i++)
      expect((levels[i] as { workers: number }).workers).toBeGreaterThan(
        (levels[i - 1] as { workers: number }).workers,
      );
  });

  it('never lets the busy workers exceed the level for the backlog they hold', () => {
    // While work waits, n busy workers hold n * chunksPerWorker in flight: the level is >= n.
    for (const per of [1, 2, 4]) {
      for (let n = 1; n <= 20; n++) {
        const backlog = n * per + 1;
        const level = scalingLevels(20, per)
          .filter((l) => l.fromBacklog <= backlog)
          .at(-1);
        expect(level?.workers).toBeGreaterThanOrEqual(Math.min(n, 20));
      }
    }
  });
});

describe('BacklogScaling props', () => {
  it('refuses bad props, reporting all of them', () => {
    const stack = new Stack(new App(), 'S', { env: { region: 'us-east-1' } });
    const vpc = new ec2.Vpc(stack, 'Vpc', { natGateways: 0 });
    const cluster = new ecs.Cluster(stack, 'Cluster', { vpc });
    const taskDefinition = new ecs.Ec2TaskDefinition(stack, 'Task');
    taskDefinition.addContainer('c', {
      image: ecs.ContainerImage.fromRegistry('x:1'),
      memoryReservationMiB: 64,
    });
    const service = new ecs.Ec2Service(stack, 'Service', { cluster, taskDefinition });
    const queue = new sqs.Queue(stack, 'Queue');
    expect(
      () =>
        new BacklogScaling(stack, 'Bad', {
          service,
          cluster,
          queue,
          minWorkers: 3,
          maxWorkers: 2,
          chunksPerWorker: 0,
          idleMinutes: 0,
        }),
    ).toThrow(/maxWorkers.*chunksPerWorker.*idleMinutes/);
  });
});

describe('snapshot', () => {
  it('of the prod compute stack, asset hashes stripped', () => {
    const json = JSON.stringify(Template.fromStack(prod.stacks.compute as Stack).toJSON()).replace(
      /[0-9a-f]{64}/g,
      '<hash>',
    );
    expect(JSON.parse(json)).toMatchSnapshot();
  });
});
