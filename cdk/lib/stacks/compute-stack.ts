import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { CfnOutput, IgnoreMode, RemovalPolicy, Stack, type StackProps } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import { Platform } from 'aws-cdk-lib/aws-ecr-assets';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import type { Construct } from 'constructs';
import { type PoolName, workerPools } from '../../../core/app/declaration.js';
import { DEFAULT_POOL_GROUP } from '../../../core/models/catalog.js';
import { type EnvironmentConfig, modelsOf } from '../../config.js';
import { WorkerPool } from '../constructs/worker-pool.js';
import { DataPlaneRefs, groupId, pascal } from '../data-plane.js';
import { ResourceNames } from '../names.js';
import { modelsBucketName } from './data-stack.js';

export interface ComputeStackProps extends StackProps {
  readonly config: EnvironmentConfig;
  /** Repository root: the gpu-worker image's build context. */
  readonly root: string;
}

/** The gpu-worker image's Dockerfile and ignore file, relative to the repository root. */
export const workerDockerfile = 'gpu-worker/Dockerfile';
export const workerDockerignore = 'gpu-worker/Dockerfile.dockerignore';

/** Patterns of the worker's Dockerfile-specific ignore file (what Docker's BuildKit honours too). */
export function workerImageExcludes(root: string): string[] {
  return readFileSync(resolve(root, workerDockerignore), 'utf8')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'));
}

/**
 * The GPU workers: a VPC, an ECS cluster on the GPU-optimized AMI, and per configured model
 * (cdk/config.ts `models`) one worker pool per declared pool (spot on Spot capacity, dedicated
 * on On-Demand), each consuming its pool group's queue and serving that model.
 */
export class ComputeStack extends Stack {
  readonly vpc: ec2.Vpc;
  readonly cluster: ecs.Cluster;
  /** The default group's pools. */
  readonly pools = {} as Record<PoolName, WorkerPool>;
  /** Every group's pools, the default group's included. */
  readonly poolGroups: Record<string, Record<PoolName, WorkerPool>> = {};

  constructor(scope: Construct, id: string, props: ComputeStackProps) {
    super(scope, id, props);
    const { config } = props;
    const names = new ResourceNames(config.prefix, this);
    const refs = new DataPlaneRefs(this, names);
    const removalPolicy = config.retainData ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY;
    const privateSubnets = config.network.natGateways > 0;

    const flowLogs = new logs.LogGroup(this, 'FlowLogs', {
      retention: config.logRetentionDays,
      removalPolicy,
    });
    this.vpc = new ec2.Vpc(this, 'Vpc', {
      vpcName: physicalVpcName(config.prefix),
      maxAzs: 2,
      natGateways: config.network.natGateways,
      subnetConfiguration: [
        { name: 'public', subnetType: ec2.SubnetType.PUBLIC, cidrMask: 24 },
        ...(privateSubnets
          ? [{ name: 'workers', subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS, cidrMask: 20 }]
          : []),
      ],
      // Chunk reads and result writes (S3) and chunk records (DynamoDB) stay off the NAT.
      gatewayEndpoints: {
        S3: { service: ec2.GatewayVpcEndpointAwsService.S3 },
        DynamoDB: { service: ec2.GatewayVpcEndpointAwsService.DYNAMODB },
      },
      flowLogs: {
        rejected: {
          destination: ec2.FlowLogDestination.toCloudWatchLogs(flowLogs),
          trafficType: ec2.FlowLogTrafficType.REJECT,
        },
      },
      restrictDefaultSecurityGroup: false,
    });
    const securityGroup = new ec2.SecurityGroup(this, 'WorkerInstances', {
      vpc: this.vpc,
      description:
        'GPU worker instances: no inbound traffic; outbound to AWS APIs, registries and model hubs',
      allowAllOutbound: true,
    });

    this.cluster = new ecs.Cluster(this, 'Cluster', {
      clusterName: names.cluster(),
      vpc: this.vpc,
      // Per-service task counts (workers per pool) on the dashboard.
      containerInsightsV2: ecs.ContainerInsights.ENABLED,
    });

    // No physical name: a retained group from a failed first create would block the next one.
    const workerLogs = new logs.LogGroup(this, 'WorkerLogs', {
      retention: config.logRetentionDays,
      removalPolicy,
    });
    const modelsBucket = s3.Bucket.fromBucketName(
      this,
      'ModelsBucket',
      modelsBucketName(config.prefix, this),
    );
    const workerImage = config.worker.image
      ? ecs.ContainerImage.fromRegistry(config.worker.image)
      : ecs.ContainerImage.fromAsset(props.root, {
          file: workerDockerfile,
          // GPU instances are x86_64.
          platform: Platform.LINUX_AMD64,
          exclude: workerImageExcludes(props.root),
          ignoreMode: IgnoreMode.DOCKER,
        });

    for (const model of modelsOf(config)) {
      const group = {} as Record<PoolName, WorkerPool>;
      for (const [pool, declaration] of Object.entries(workerPools) as [
        PoolName,
        (typeof workerPools)[PoolName],
      ][]) {
        // The default group keeps the ids it had before pool groups: its resources are not replaced.
        const id = `${model.group === DEFAULT_POOL_GROUP ? '' : groupId(model.group)}${pascal(pool)}Pool`;
        group[pool] = new WorkerPool(this, id, {
          pool,
          declaration,
          config,
          model,
          names,
          refs,
          cluster: this.cluster,
          vpc: this.vpc,
          subnets: {
            subnetType: privateSubnets ? ec2.SubnetType.PRIVATE_WITH_EGRESS : ec2.SubnetType.PUBLIC,
          },
          securityGroup,
          workerImage,
          logGroup: workerLogs,
          modelsBucket,
        });
      }
      this.poolGroups[model.group] = group;
      if (model.group === DEFAULT_POOL_GROUP) Object.assign(this.pools, group);
    }

    new CfnOutput(this, 'ClusterName', { value: this.cluster.clusterName });
    new CfnOutput(this, 'WorkerLogGroup', { value: workerLogs.logGroupName });
  }
}

const physicalVpcName = (prefix: string) => `${prefix}-workers`;
