import { Duration } from 'aws-cdk-lib';
import * as autoscaling from 'aws-cdk-lib/aws-autoscaling';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecr from 'aws-cdk-lib/aws-ecr';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as logs from 'aws-cdk-lib/aws-logs';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import {
  type PoolName,
  queues,
  type WorkerPoolDeclaration,
  workerUses,
} from '../../../core/app/declaration.js';
import { DEFAULT_POOL_GROUP } from '../../../core/models/catalog.js';
import {
  adotCollector,
  type EcrImageConfig,
  type EngineConfig,
  type EnvironmentConfig,
  engineStartup,
  modelSyncMemoryMiB,
  type ResolvedModel,
  recommendedGpuAmiParameter,
} from '../../config.js';
import type { DataPlaneRefs } from '../data-plane.js';
import { sharedEnvironment } from '../environment.js';
import { acknowledge, acknowledgeFindings, resourceFinding } from '../nag.js';
import type { ResourceNames } from '../names.js';
import { BacklogScaling, desiredTasksMetric } from './backlog-scaling.js';

/** The engine listens here inside the task; the worker reaches it through a container link. */
export const enginePort = 8000;

/**
 * ECS may wait at most 120 s between SIGTERM and SIGKILL. A spot instance gets a two-minute
 * notice; the worker needs that time to checkpoint its chunks and hand them to the dedicated
 * queue.
 */
export const stopTimeout = Duration.seconds(120);

/** The collector (ADOT) receives the worker's spans here (OTLP/HTTP) through a container link. */
export const collectorOtlpPort = 4318;

/** The span attributes X-Ray indexes as annotations (core/observability/tracing.ts ANNOTATION_KEYS). */
export const tracedAnnotations = ['batch_id', 'tenant', 'chunk'] as const;

/**
 * The collector's configuration (AOT_CONFIG_CONTENT): spans in over OTLP/HTTP from the worker,
 * batched, out to X-Ray with the batch id, tenant and chunk as annotations. The port is not
 * published on the host: only the linked worker reaches it.
 */
export function collectorConfig(region: string): string {
  return [
    'receivers:',
    '  otlp:',
    '    protocols:',
    '      http:',
    `        endpoint: 0.0.0.0:${collectorOtlpPort}`,
    'processors:',
    '  batch/traces:',
    '    timeout: 1s',
    '    send_batch_size: 50',
    'exporters:',
    '  awsxray:',
    `    region: ${region}`,
    `    indexed_attributes: [${tracedAnnotations.join(', ')}]`,
    'service:',
    '  pipelines:',
    '    traces:',
    '      receivers: [otlp]',
    '      processors: [batch/traces]',
    '      exporters: [awsxray]',
    '',
  ].join('\n');
}

/** Host directory of the instance volume shared by the tasks on an instance, mounted at /models. */
export const hostModelsDir = '/var/cache/openbatch';

/** Where the engine finds a model's files inside the task (copied there from S3 by model-sync). */
export const modelDir = (s3Prefix: string) => `/models/weights/${s3Prefix}`;

/** The S3 key prefix of a model's files in the models bucket. */
export const modelPrefix = (engine: EngineConfig) => engine.weights.s3Prefix ?? engine.model;

/**
 * A container image in the stack's own private ECR registry. A pull-through cache repository
 * is created by ECR on the first pull, which needs ecr:BatchImportUpstreamImage and
 * ecr:CreateRepository besides the usual pull actions (Amazon ECR User Guide, "IAM permissions
 * required to sync an upstream registry").
 */
export function ecrImage(
  scope: Construct,
  id: string,
  image: EcrImageConfig,
  executionRole: iam.IRole,
): ecs.ContainerImage {
  const repository = ecr.Repository.fromRepositoryName(scope, id, image.repository);
  if (image.pullThroughCache) {
    executionRole.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: ['ecr:BatchImportUpstreamImage', 'ecr:CreateRepository'],
        resources: [repository.repositoryArn],
      }),
    );
  }
  return ecs.ContainerImage.fromEcrRepository(repository, image.tag);
}

export interface WorkerPoolProps {
  readonly pool: PoolName;
  readonly declaration: WorkerPoolDeclaration;
  readonly config: EnvironmentConfig;
  /** The model the pool's engine serves, with its pool group, engine and pools (`modelsOf`). */
  readonly model: ResolvedModel;
  readonly names: ResourceNames;
  readonly refs: DataPlaneRefs;
  readonly cluster: ecs.Cluster;
  readonly vpc: ec2.IVpc;
  readonly subnets: ec2.SubnetSelection;
  readonly securityGroup: ec2.ISecurityGroup;
  readonly workerImage: ecs.ContainerImage;
  readonly logGroup: logs.ILogGroup;
  /** The bucket the model files are staged in (docs/deploy.md); tasks read them from there. */
  readonly modelsBucket: s3.IBucket;
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
  readonly modelSync: ecs.ContainerDefinition;
  readonly engine: ecs.ContainerDefinition;
  readonly worker: ecs.ContainerDefinition;
  /** The ADOT collector beside the worker: its spans to X-Ray. */
  readonly collector: ecs.ContainerDefinition;
  readonly service: ecs.Ec2Service;
  readonly scaling: BacklogScaling;

  constructor(scope: Construct, id: string, props: WorkerPoolProps) {
    super(scope, id);
    const { pool, config, model, names, refs, cluster } = props;
    const group = model.group;
    const poolConfig = model.pools[pool];
    const spot = props.declaration.capacity === 'spot';
    const queueDecl = queues[props.declaration.queue];

    const instanceRole = new iam.Role(this, 'InstanceRole', {
      assumedBy: new iam.ServicePrincipal('ec2.amazonaws.com'),
      description: `ECS container instances of the ${pool} worker pool${group === DEFAULT_POOL_GROUP ? '' : ` of pool group ${group}`}`,
    });
    const ami = config.instances.ami;
    const launchTemplate = new ec2.LaunchTemplate(this, 'LaunchTemplate', {
      // The ECS-optimized GPU AMI (NVIDIA driver, container toolkit, ECS GPU support): the one AWS
      // recommends now, read from SSM at each deploy, unless the configuration pins one.
      machineImage:
        ami && 'id' in ami
          ? ec2.MachineImage.genericLinux({ [config.region]: ami.id })
          : ec2.MachineImage.fromSsmParameter(ami?.ssmParameter ?? recommendedGpuAmiParameter),
      instanceType: new ec2.InstanceType(poolConfig.instanceTypes[0] as string),
      userData: ec2.UserData.forLinux(),
      role: instanceRole,
      securityGroup: props.securityGroup,
      requireImdsv2: true,
      // One hop: an IMDSv2 token cannot reach a container on the bridge network, so no task can
      // read the instance role's credentials or the metadata (docs/deploy.md: the worker learns
      // of a Spot reclaim from ECS draining, not from IMDS).
      httpPutResponseHopLimit: 1,
      detailedMonitoring: true,
      associatePublicIpAddress: config.network.natGateways === 0,
      blockDevices: [
        {
          deviceName: '/dev/xvda',
          volume: ec2.BlockDeviceVolume.ebs(config.instances.volumeGiB, {
            encrypted: true,
            volumeType: ec2.EbsDeviceVolumeType.GP3,
            iops: config.instances.volumeIops,
            throughput: config.instances.volumeThroughputMiBps,
          }),
        },
      ],
    });
    launchTemplate.userData?.addCommands(
      // Engine images are large: reuse the cached image when the tag has not moved.
      'echo ECS_IMAGE_PULL_BEHAVIOR=prefer-cached >> /etc/ecs/ecs.config',
      `echo ECS_CONTAINER_STOP_TIMEOUT=${stopTimeout.toSeconds()}s >> /etc/ecs/ecs.config`,
      // Model files and the vLLM compile cache live on the instance volume, shared by its tasks.
      `mkdir -p ${hostModelsDir}/weights ${hostModelsDir}/vllm-cache ${hostModelsDir}/hf`,
      // Spot interruption notice -> the agent sets the instance DRAINING -> tasks get SIGTERM
      // and the stop timeout to checkpoint.
      ...(spot ? ['echo ECS_ENABLE_SPOT_INSTANCE_DRAINING=true >> /etc/ecs/ecs.config'] : []),
    );
    if (spot) {
      // The agent marks its own container instance DRAINING on a Spot interruption notice
      // (AmazonEC2ContainerServiceforEC2Role grants the same action); only in this cluster.
      instanceRole.addToPrincipalPolicy(
        new iam.PolicyStatement({
          actions: ['ecs:UpdateContainerInstancesState'],
          resources: ['*'],
          conditions: { ArnEquals: { 'ecs:cluster': cluster.clusterArn } },
        }),
      );
    }

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
      capacityProviderName: names.capacityProvider(pool, group),
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
      "The ECS agent's container-instance permissions (ecs:Poll, ecs:StartTelemetrySession, ecs:Submit*, and for Spot draining ecs:UpdateContainerInstancesState) are limited to this cluster by the ecs:cluster condition, not by resource; CDK generates the first ones when the group joins the cluster.",
    );

    this.taskDefinition = new ecs.Ec2TaskDefinition(this, 'Task', {
      family: names.service(pool, group),
      networkMode: ecs.NetworkMode.BRIDGE,
      volumes: [{ name: 'models', host: { sourcePath: hostModelsDir } }],
    });
    const taskRole = this.taskDefinition.taskRole;
    const executionRole = this.taskDefinition.obtainExecutionRole();
    acknowledgeFindings(
      executionRole,
      'AwsSolutions-IAM5',
      ['Resource::*'],
      'ecr:GetAuthorizationToken, which the execution role needs to pull the worker image, has no resource to scope it to.',
    );

    // The worker protects its own task while it holds chunks (ECS task scale-in protection),
    // through the agent endpoint or the ECS API; only tasks of this cluster.
    const clusterTasks = cluster.arnForTasks('*');
    taskRole.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: ['ecs:UpdateTaskProtection', 'ecs:GetTaskProtection'],
        resources: [clusterTasks],
      }),
    );
    acknowledgeFindings(
      taskRole,
      'AwsSolutions-IAM5',
      [resourceFinding(this, clusterTasks)],
      'Task scale-in protection is set by the task on itself; task ids are not known at deploy time, so the grant covers the tasks of this cluster only.',
    );

    // The model files: read-only, the configured model's prefix of the models bucket only.
    const prefix = modelPrefix(model.engine);
    const modelObjects = props.modelsBucket.arnForObjects(`${prefix}/*`);
    taskRole.addToPrincipalPolicy(
      new iam.PolicyStatement({ actions: ['s3:GetObject'], resources: [modelObjects] }),
    );
    taskRole.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: ['s3:ListBucket'],
        resources: [props.modelsBucket.bucketArn],
        conditions: { StringLike: { 's3:prefix': [`${prefix}/*`] } },
      }),
    );
    acknowledgeFindings(
      taskRole,
      'AwsSolutions-IAM5',
      [resourceFinding(this, modelObjects)],
      "The model-sync container reads the model's files (file names vary per model) under its own prefix of the models bucket, read-only.",
    );

    const startup = engineStartup(config, model.engine);
    const syncTimeout = Duration.seconds(startup.syncTimeoutSeconds);
    const healthWindow = Duration.seconds(startup.windowSeconds);
    const weightsDir = modelDir(prefix);
    this.modelSync = this.taskDefinition.addContainer('model-sync', {
      containerName: 'model-sync',
      image: ecrImage(this, 'ModelSyncImage', config.instances.modelSyncImage, executionRole),
      // Copies what is missing or changed from S3 to the instance volume (nothing, when an
      // earlier task on this instance already did), then checks the model is there.
      entryPoint: ['sh', '-c'],
      command: [
        'set -eu; aws s3 sync "s3://$MODELS_BUCKET/$MODEL_PREFIX/" "$MODEL_DIR/" --no-progress --only-show-errors; ' +
          'test -s "$MODEL_DIR/config.json" || { echo "no model files at s3://$MODELS_BUCKET/$MODEL_PREFIX/: stage the model first (docs/deploy.md)" >&2; exit 1; }',
      ],
      environment: {
        MODELS_BUCKET: props.modelsBucket.bucketName,
        MODEL_PREFIX: prefix,
        MODEL_DIR: weightsDir,
        AWS_REGION: cluster.stack.region,
      },
      essential: false,
      memoryReservationMiB: modelSyncMemoryMiB,
      // The engine waits this long for the copy to succeed, then the task stops.
      startTimeout: syncTimeout,
      logging: ecs.LogDrivers.awsLogs({ logGroup: props.logGroup, streamPrefix: 'model-sync' }),
    });
    this.modelSync.addMountPoints({ sourceVolume: 'models', containerPath: '/models', readOnly: false });

    const engineConfig = model.engine;
    const served = model.id;
    const health = engineConfig.health;
    this.engine = this.taskDefinition.addContainer('engine', {
      containerName: 'engine',
      image: ecrImage(this, 'EngineImage', engineConfig.image, executionRole),
      // `vllm serve` takes the model as its positional argument (`--model` is deprecated there):
      // the directory model-sync filled, served under the configured name.
      entryPoint: [...(engineConfig.command ?? ['vllm', 'serve'])],
      command: engineConfig.command
        ? []
        : [
            weightsDir,
            '--served-model-name',
            served,
            '--port',
            String(enginePort),
            ...engineConfig.extraArgs,
          ],
      essential: true,
      gpuCount: engineConfig.gpus,
      memoryReservationMiB: engineConfig.memoryMiB,
      environment: {
        // Never reach the Hugging Face Hub: everything comes from the staged files.
        HF_HUB_OFFLINE: '1',
        HF_HOME: '/models/hf',
        // torch.compile artifacts on the instance volume: the second task on an instance starts warm.
        VLLM_CACHE_ROOT: '/models/vllm-cache',
      },
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
        interval: Duration.seconds(health.intervalSeconds),
        timeout: Duration.seconds(5),
        retries: health.retries,
        // Reading the model and compiling take minutes (docs/deploy.md has the arithmetic).
        startPeriod: Duration.seconds(health.startPeriodSeconds),
      },
      // The worker waits this long for the engine to become healthy.
      startTimeout: syncTimeout.plus(healthWindow),
      stopTimeout,
      logging: ecs.LogDrivers.awsLogs({ logGroup: props.logGroup, streamPrefix: 'engine' }),
    });
    this.engine.addMountPoints({ sourceVolume: 'models', containerPath: '/models', readOnly: false });
    this.engine.addContainerDependencies({
      container: this.modelSync,
      condition: ecs.ContainerDependencyCondition.SUCCESS,
    });

    // Tracing: the collector sends the worker's spans to X-Ray with the task role (the same
    // actions as AWSXRayDaemonWriteAccess; none of them takes a resource).
    this.collector = this.taskDefinition.addContainer('otel-collector', {
      containerName: 'otel-collector',
      image: ecrImage(
        this,
        'CollectorImage',
        config.instances.collectorImage ?? adotCollector,
        executionRole,
      ),
      // Tracing never stops the work: a failed collector loses spans, not chunks.
      essential: false,
      memoryReservationMiB: 64,
      memoryLimitMiB: 256,
      environment: { AOT_CONFIG_CONTENT: collectorConfig(cluster.stack.region) },
      logging: ecs.LogDrivers.awsLogs({ logGroup: props.logGroup, streamPrefix: 'otel-collector' }),
    });
    taskRole.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: [
          'xray:PutTraceSegments',
          'xray:PutTelemetryRecords',
          'xray:GetSamplingRules',
          'xray:GetSamplingTargets',
          'xray:GetSamplingStatisticSummaries',
        ],
        resources: ['*'],
      }),
    );
    acknowledgeFindings(
      taskRole,
      'AwsSolutions-IAM5',
      ['Resource::*'],
      "X-Ray's write and sampling actions (those of AWSXRayDaemonWriteAccess) take no resource.",
    );

    const consumed = props.declaration.queue;
    const ownQueue =
      consumed === 'spot' || consumed === 'dedicated'
        ? refs.poolQueue(consumed, group)
        : refs.queue(consumed);
    ownQueue.grantConsumeMessages(taskRole);
    this.worker = this.taskDefinition.addContainer('worker', {
      containerName: 'worker',
      image: props.workerImage,
      essential: true,
      memoryReservationMiB: config.worker.memoryMiB,
      memoryLimitMiB: config.worker.memoryMiB * 2,
      environment: {
        ...sharedEnvironment(config),
        // Its own group's spot and dedicated queues: where it sends its batch's next chunk and
        // hands reclaimed work (core/app/declaration.ts workerUses).
        ...refs.bind(taskRole, workerUses, this.taskDefinition, group),
        POOL: pool,
        POOL_GROUP: group,
        QUEUE_URL: ownQueue.queueUrl,
        ENGINE_URL: `http://engine:${enginePort}`,
        ENGINE_CONCURRENCY: String(config.worker.engineConcurrency),
        CHUNKS_IN_PARALLEL: String(config.worker.chunksInParallel),
        VISIBILITY_TIMEOUT_SECONDS: String(queueDecl.visibilityTimeoutSeconds),
        AWS_REGION: cluster.stack.region,
        // Metrics leave as EMF lines on stdout; CloudWatch Logs extracts them from the log group.
        AWS_EMF_ENVIRONMENT: 'Local',
        AWS_EMF_SERVICE_NAME: names.service(pool, group),
        // Spans to the collector beside it (core/observability/tracing.ts).
        OPENBATCH_TRACING: 'xray',
        OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: `http://otel-collector:${collectorOtlpPort}/v1/traces`,
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
    this.worker.addLink(this.collector, 'otel-collector');
    this.worker.addContainerDependencies({
      container: this.collector,
      condition: ecs.ContainerDependencyCondition.START,
    });

    this.service = new ecs.Ec2Service(this, 'Service', {
      serviceName: names.service(pool, group),
      cluster,
      taskDefinition: this.taskDefinition,
      capacityProviderStrategies: [
        { capacityProvider: this.capacityProvider.capacityProviderName, weight: 1 },
      ],
      // No task at create: CloudFormation would otherwise start one GPU task and wait for it.
      // From then on the backlog scaling sets the count (its minimum is minWorkers).
      desiredCount: 0,
      // Deployments need no spare GPU: old tasks stop (busy ones are scale-in protected) before
      // new ones start.
      minHealthyPercent: 0,
      maxHealthyPercent: 100,
      circuitBreaker: { enable: true, rollback: true },
      placementStrategies: [ecs.PlacementStrategy.packedByMemory()],
      propagateTags: ecs.PropagatedTagSource.SERVICE,
      enableECSManagedTags: true,
    });
    // The capacity provider must exist and be associated with the cluster before the service
    // uses it: the cluster construct holds the AWS::ECS::ClusterCapacityProviderAssociations.
    this.service.node.addDependency(this.capacityProvider, cluster);

    this.scaling = new BacklogScaling(this, 'Scaling', {
      service: this.service,
      cluster,
      queue: ownQueue,
      minWorkers: poolConfig.minWorkers,
      maxWorkers: poolConfig.maxWorkers,
      chunksPerWorker: config.worker.chunksInParallel,
      idleMinutes: config.scaling.idleMinutesBeforeScaleToZero,
      desiredTasks: desiredTasksMetric(pool, group),
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
