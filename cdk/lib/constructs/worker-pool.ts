import { Duration } from 'aws-cdk-lib';
import * as autoscaling from 'aws-cdk-lib/aws-autoscaling';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as logs from 'aws-cdk-lib/aws-logs';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import {
  type PoolName,
  queues,
  type WorkerPoolDeclaration,
  workerUses,
} from '../../../core/app/declaration.js';
import type { EnvironmentConfig } from '../../config.js';
import type { DataPlaneRefs } from '../data-plane.js';
import { servedModelName, sharedEnvironment } from '../environment.js';
import { acknowledge, acknowledgeFindings } from '../nag.js';
import type { ResourceNames } from '../names.js';
import { BacklogScaling } from './backlog-scaling.js';

/** The engine listens here inside the task; the worker reaches it through a container link. */
export const enginePort = 8000;

/**
 * ECS may wait at most 120 s between SIGTERM and SIGKILL. A spot instance gets a two-minute
 * notice; the worker needs that time to checkpoint its chunks and hand them to the dedicated
 * queue.
 */
export const stopTimeout = Duration.seconds(120);

export interface WorkerPoolProps {
  readonly pool: PoolName;
  readonly declaration: WorkerPoolDeclaration;
  readonly config: EnvironmentConfig;
  readonly names: ResourceNames;
  readonly refs: DataPlaneRefs;
  readonly cluster: ecs.Cluster;
  readonly vpc: ec2.IVpc;
  readonly subnets: ec2.SubnetSelection;
  readonly securityGroup: ec2.ISecurityGroup;
  readonly workerImage: ecs.ContainerImage;
  readonly logGroup: logs.ILogGroup;
}

/**
 * One pool of GPU workers: an Auto Scaling group of GPU instances (Spot or On-Demand) behind
 * its own capacity provider, and an ECS service whose task runs the gpu-worker beside an
 * OpenAI-compatible engine, scaled on the pool's queue backlog from and to zero.
 */
export class WorkerPool extends Construct {
  readonly autoScalingGroup: autoscaling.AutoScalingGroup;
  readonly capacityProvider: ecs.AsgCapacityProvider;
  readonly taskDefinition: ecs.Ec2TaskDefinition;
  readonly engine: ecs.ContainerDefinition;
  readonly worker: ecs.ContainerDefinition;
  readonly service: ecs.Ec2Service;
  readonly scaling: BacklogScaling;

  constructor(scope: Construct, id: string, props: WorkerPoolProps) {
    super(scope, id);
    const { pool, config, names, refs, cluster } = props;
    const poolConfig = config.pools[pool];
    const spot = props.declaration.capacity === 'spot';
    const queueDecl = queues[props.declaration.queue];

    const instanceRole = new iam.Role(this, 'InstanceRole', {
      assumedBy: new iam.ServicePrincipal('ec2.amazonaws.com'),
      description: `ECS container instances of the ${pool} worker pool`,
    });
    const launchTemplate = new ec2.LaunchTemplate(this, 'LaunchTemplate', {
      // The ECS-optimized GPU AMI: NVIDIA driver, container toolkit, and ECS GPU support.
      machineImage: ecs.EcsOptimizedImage.amazonLinux2023(ecs.AmiHardwareType.GPU),
      instanceType: new ec2.InstanceType(poolConfig.instanceTypes[0] as string),
      userData: ec2.UserData.forLinux(),
      role: instanceRole,
      securityGroup: props.securityGroup,
      requireImdsv2: true,
      // One hop: containers on the bridge network cannot reach the instance's metadata and role.
      httpPutResponseHopLimit: 1,
      detailedMonitoring: true,
      associatePublicIpAddress: config.network.natGateways === 0,
      blockDevices: [
        {
          deviceName: '/dev/xvda',
          volume: ec2.BlockDeviceVolume.ebs(config.network.instanceVolumeGiB, {
            encrypted: true,
            volumeType: ec2.EbsDeviceVolumeType.GP3,
          }),
        },
      ],
    });
    launchTemplate.userData?.addCommands(
      // Engine images are large: reuse the cached image when the tag has not moved.
      'echo ECS_IMAGE_PULL_BEHAVIOR=prefer-cached >> /etc/ecs/ecs.config',
      `echo ECS_CONTAINER_STOP_TIMEOUT=${stopTimeout.toSeconds()}s >> /etc/ecs/ecs.config`,
      'mkdir -p /var/cache/openbatch/models',
      // Spot interruption notice -> the agent sets the instance DRAINING -> tasks get SIGTERM
      // and the stop timeout to checkpoint.
      ...(spot ? ['echo ECS_ENABLE_SPOT_INSTANCE_DRAINING=true >> /etc/ecs/ecs.config'] : []),
    );

    this.autoScalingGroup = new autoscaling.AutoScalingGroup(this, 'Instances', {
      vpc: props.vpc,
      vpcSubnets: props.subnets,
      minCapacity: 0,
      // One GPU task per instance in the worst case (the smallest listed type).
      maxCapacity: poolConfig.maxWorkers,
      mixedInstancesPolicy: {
        launchTemplate,
        launchTemplateOverrides: poolConfig.instanceTypes.map((t) => ({
          instanceType: new ec2.InstanceType(t),
        })),
        instancesDistribution: spot
          ? {
              onDemandBaseCapacity: 0,
              onDemandPercentageAboveBaseCapacity: 0,
              spotAllocationStrategy: autoscaling.SpotAllocationStrategy.PRICE_CAPACITY_OPTIMIZED,
            }
          : {
              onDemandBaseCapacity: 0,
              onDemandPercentageAboveBaseCapacity: 100,
              // The listed order is the order of preference.
              onDemandAllocationStrategy: autoscaling.OnDemandAllocationStrategy.PRIORITIZED,
            },
      },
      // Replace Spot instances at elevated interruption risk before they are reclaimed.
      capacityRebalance: spot,
      healthChecks: autoscaling.HealthChecks.ec2({ gracePeriod: Duration.minutes(5) }),
    });

    this.capacityProvider = new ecs.AsgCapacityProvider(this, 'CapacityProvider', {
      capacityProviderName: names.capacityProvider(pool),
      autoScalingGroup: this.autoScalingGroup,
      // Amazon Linux 2023 joins the cluster the same way (ECS_CLUSTER in /etc/ecs/ecs.config).
      machineImageType: ecs.MachineImageType.AMAZON_LINUX_2,
      enableManagedScaling: true,
      targetCapacityPercent: 100,
      // Instances running tasks are not terminated by scale-in; ECS drains them first.
      enableManagedTerminationProtection: true,
      enableManagedDraining: true,
    });
    cluster.addAsgCapacityProvider(this.capacityProvider);

    acknowledgeFindings(
      instanceRole,
      'AwsSolutions-IAM5',
      ['Action::ecs:Submit*', 'Resource::*'],
      "The ECS agent's container-instance permissions (ecs:Poll, ecs:StartTelemetrySession, ecs:Submit*) are not resource-scoped by ECS; CDK generates them when the group joins the cluster.",
    );

    this.taskDefinition = new ecs.Ec2TaskDefinition(this, 'Task', {
      family: `${names.service(pool)}`,
      networkMode: ecs.NetworkMode.BRIDGE,
      volumes: [{ name: 'models', host: { sourcePath: '/var/cache/openbatch/models' } }],
    });
    const taskRole = this.taskDefinition.taskRole;
    acknowledgeFindings(
      this.taskDefinition.obtainExecutionRole(),
      'AwsSolutions-IAM5',
      ['Resource::*'],
      'ecr:GetAuthorizationToken, which the execution role needs to pull the worker image, has no resource to scope it to.',
    );

    const engineConfig = config.engine;
    const served = servedModelName(config);
    this.engine = this.taskDefinition.addContainer('engine', {
      containerName: 'engine',
      image: ecs.ContainerImage.fromRegistry(engineConfig.image),
      command: [
        ...(engineConfig.command ?? [
          '--model',
          engineConfig.model,
          '--served-model-name',
          served,
          '--port',
          String(enginePort),
          ...engineConfig.extraArgs,
        ]),
      ],
      essential: true,
      gpuCount: engineConfig.gpus,
      memoryReservationMiB: engineConfig.memoryMiB,
      environment: { HF_HOME: '/models' },
      ...(engineConfig.huggingFaceTokenSecretName
        ? {
            secrets: {
              HF_TOKEN: ecs.Secret.fromSecretsManager(
                secretsmanager.Secret.fromSecretNameV2(
                  this,
                  'HfToken',
                  engineConfig.huggingFaceTokenSecretName,
                ),
              ),
            },
          }
        : {}),
      linuxParameters: new ecs.LinuxParameters(this, 'EngineLinux', {
        // The engine spawns worker processes: an init reaps them and forwards signals.
        initProcessEnabled: true,
        sharedMemorySize: engineConfig.sharedMemoryMiB,
      }),
      healthCheck: {
        command: [
          'CMD-SHELL',
          engineConfig.healthCheck ??
            `python3 -c "import urllib.request; urllib.request.urlopen('http://localhost:${enginePort}/health', timeout=4)" || exit 1`,
        ],
        interval: Duration.seconds(30),
        timeout: Duration.seconds(5),
        retries: 5,
        // Downloading and loading a model takes minutes; this is ECS's maximum grace.
        startPeriod: Duration.seconds(300),
      },
      stopTimeout,
      logging: ecs.LogDrivers.awsLogs({ logGroup: props.logGroup, streamPrefix: 'engine' }),
    });
    this.engine.addMountPoints({ sourceVolume: 'models', containerPath: '/models', readOnly: false });

    const ownQueue = refs.queue(props.declaration.queue);
    ownQueue.grantConsumeMessages(taskRole);
    this.worker = this.taskDefinition.addContainer('worker', {
      containerName: 'worker',
      image: props.workerImage,
      essential: true,
      memoryReservationMiB: config.worker.memoryMiB,
      memoryLimitMiB: config.worker.memoryMiB * 2,
      environment: {
        ...sharedEnvironment(config),
        ...refs.bind(taskRole, workerUses, this.taskDefinition),
        POOL: pool,
        QUEUE_URL: ownQueue.queueUrl,
        ENGINE_URL: `http://engine:${enginePort}`,
        ENGINE_CONCURRENCY: String(config.worker.engineConcurrency),
        CHUNKS_IN_PARALLEL: String(config.worker.chunksInParallel),
        VISIBILITY_TIMEOUT_SECONDS: String(queueDecl.visibilityTimeoutSeconds),
        AWS_REGION: cluster.stack.region,
        // Metrics leave as EMF lines on stdout; CloudWatch Logs extracts them from the log group.
        AWS_EMF_ENVIRONMENT: 'Local',
        AWS_EMF_SERVICE_NAME: names.service(pool),
      },
      // The image's entrypoint is tini, which forwards SIGTERM to the worker (see gpu-worker/Dockerfile).
      stopTimeout,
      healthCheck: {
        command: ['CMD', 'node', 'healthcheck.mjs'],
        interval: Duration.seconds(30),
        timeout: Duration.seconds(5),
        retries: 3,
        startPeriod: Duration.seconds(60),
      },
      logging: ecs.LogDrivers.awsLogs({ logGroup: props.logGroup, streamPrefix: 'worker' }),
    });
    // Start the worker once the engine serves; on stop ECS stops the worker first, so it can
    // finish or hand off its chunks while the engine still answers.
    this.worker.addContainerDependencies({
      container: this.engine,
      condition: ecs.ContainerDependencyCondition.HEALTHY,
    });
    this.worker.addLink(this.engine, 'engine');

    this.service = new ecs.Ec2Service(this, 'Service', {
      serviceName: names.service(pool),
      cluster,
      taskDefinition: this.taskDefinition,
      capacityProviderStrategies: [
        { capacityProvider: this.capacityProvider.capacityProviderName, weight: 1 },
      ],
      // Desired count belongs to the scaling policies; deployments need no spare GPU.
      minHealthyPercent: 0,
      maxHealthyPercent: 100,
      circuitBreaker: { enable: true, rollback: true },
      placementStrategies: [ecs.PlacementStrategy.packedByMemory()],
      propagateTags: ecs.PropagatedTagSource.SERVICE,
      enableECSManagedTags: true,
    });
    // The capacity provider must be attached to the cluster before the service uses it.
    this.service.node.addDependency(this.capacityProvider);

    this.scaling = new BacklogScaling(this, 'Scaling', {
      service: this.service,
      cluster,
      queue: ownQueue,
      minWorkers: poolConfig.minWorkers,
      maxWorkers: poolConfig.maxWorkers,
      chunksPerWorker: config.worker.chunksInParallel,
      idleMinutes: config.scaling.idleMinutesBeforeScaleToZero,
    });

    acknowledge(
      this,
      {
        id: 'AwsSolutions-ECS2',
        reason:
          'The environment carries resource names, queue URLs and tuning knobs, none secret; the only secret (the Hugging Face token) is injected from Secrets Manager.',
      },
      {
        id: 'AwsSolutions-EC26',
        reason:
          'The root volume is encrypted in the launch template (test/cdk/compute.test.ts checks it); the rule does not read launch templates inside a mixed instances policy.',
      },
      {
        id: 'AwsSolutions-AS3',
        reason:
          'ECS managed scaling drives these groups; scaling activity shows in ECS service events and on the dashboard (workers per pool), so per-instance notifications would be noise.',
      },
    );
  }
}
