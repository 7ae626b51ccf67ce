import { CfnOutput, Duration, RemovalPolicy, Stack, type StackProps } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';
import {
  type BucketName,
  buckets,
  type KeyAttribute,
  type PoolName,
  type QueueName,
  queues,
  type TableName,
  tables,
  workerPools,
} from '../../../core/app/declaration.js';
import { DEFAULT_POOL_GROUP } from '../../../core/models/catalog.js';
import { type EnvironmentConfig, modelsOf } from '../../config.js';
import { groupId, pascal } from '../data-plane.js';
import { ResourceNames } from '../names.js';

export interface DataStackProps extends StackProps {
  readonly config: EnvironmentConfig;
}

/**
 * The bucket model files are staged in (docs/deploy.md) and workers copy them from. Not part of
 * the declaration: only the GPU workers on AWS read it, never a function or the local runtime.
 */
export function modelsBucketName(prefix: string, stack: Stack): string {
  return `${prefix}-models-${stack.account}-${stack.region}`;
}

/** SQS keeps a message at most 14 days; dead letters stay that long for inspection and redrive. */
const deadLetterRetention = Duration.days(14);

/**
 * The stateful part of openbatch: the buckets, tables and queues of the declaration, with
 * their physical names. Longest-lived stack; the others find these resources by name.
 */
export class DataStack extends Stack {
  readonly buckets = {} as Record<BucketName, s3.Bucket>;
  readonly tables = {} as Record<TableName, dynamodb.Table>;
  readonly queues = {} as Record<QueueName, sqs.Queue>;
  readonly deadLetterQueues = {} as Record<QueueName, sqs.Queue>;
  /** The pool queues of every pool group but the default (whose are `queues.spot`/`dedicated`). */
  readonly poolGroupQueues: Record<string, Record<PoolName, { queue: sqs.Queue; deadLetter: sqs.Queue }>> =
    {};
  readonly modelsBucket: s3.Bucket;

  constructor(scope: Construct, id: string, props: DataStackProps) {
    super(scope, id, props);
    const { config } = props;
    const names = new ResourceNames(config.prefix, this);
    const removalPolicy = config.retainData ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY;
    // Where data is not kept (dev), a stack deletion empties the buckets first, so it succeeds.
    const autoDeleteObjects = !config.retainData;

    const accessLogs = new s3.Bucket(this, 'AccessLogsBucket', {
      encryption: s3.BucketEncryption.S3_MANAGED,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      lifecycleRules: [{ expiration: Duration.days(Math.max(90, config.fileRetentionDays)) }],
      removalPolicy,
      autoDeleteObjects,
    });

    for (const logical of Object.keys(buckets) as BucketName[]) {
      this.buckets[logical] = new s3.Bucket(this, `${pascal(logical)}Bucket`, {
        bucketName: names.bucket(logical),
        encryption: s3.BucketEncryption.S3_MANAGED,
        blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
        enforceSSL: true,
        objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
        serverAccessLogsBucket: accessLogs,
        serverAccessLogsPrefix: `${logical}/`,
        lifecycleRules: [
          {
            id: 'abort-incomplete-multipart-uploads',
            abortIncompleteMultipartUploadAfter: Duration.days(config.abortIncompleteUploadsAfterDays),
          },
          { id: 'expire-files', expiration: Duration.days(config.fileRetentionDays) },
        ],
        // Browsers upload parts straight to S3 with pre-signed URLs and need each part's ETag
        // to complete the upload. The signature is the authorization; CORS only lets the
        // browser read the response.
        cors: [
          {
            allowedMethods: [s3.HttpMethods.PUT, s3.HttpMethods.GET, s3.HttpMethods.HEAD],
            allowedOrigins: ['*'],
            allowedHeaders: ['*'],
            exposedHeaders: ['ETag'],
            maxAge: 3600,
          },
        ],
        removalPolicy,
        autoDeleteObjects,
      });
    }

    this.modelsBucket = new s3.Bucket(this, 'ModelsBucket', {
      bucketName: modelsBucketName(config.prefix, this),
      encryption: s3.BucketEncryption.S3_MANAGED,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      serverAccessLogsBucket: accessLogs,
      serverAccessLogsPrefix: 'models/',
      // A re-staged model replaces its files; old versions go after a week.
      versioned: true,
      lifecycleRules: [
        { id: 'expire-replaced-model-files', noncurrentVersionExpiration: Duration.days(7) },
        {
          id: 'abort-incomplete-multipart-uploads',
          abortIncompleteMultipartUploadAfter: Duration.days(config.abortIncompleteUploadsAfterDays),
        },
      ],
      removalPolicy,
      autoDeleteObjects,
    });

    for (const [logical, decl] of Object.entries(tables) as [TableName, (typeof tables)[TableName]][]) {
      const table = new dynamodb.Table(this, `${pascal(logical)}Table`, {
        tableName: names.table(logical),
        partitionKey: attribute(decl.partitionKey),
        ...(decl.sortKey ? { sortKey: attribute(decl.sortKey) } : {}),
        billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
        pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
        ...(decl.ttlAttribute ? { timeToLiveAttribute: decl.ttlAttribute } : {}),
        encryption: dynamodb.TableEncryption.AWS_MANAGED,
        deletionProtection: config.retainData,
        removalPolicy,
      });
      for (const index of decl.indexes ?? []) {
        table.addGlobalSecondaryIndex({
          indexName: index.name,
          partitionKey: attribute(index.partitionKey),
          ...(index.sortKey ? { sortKey: attribute(index.sortKey) } : {}),
          projectionType: dynamodb.ProjectionType.ALL,
        });
      }
      this.tables[logical] = table;
    }

    const queueWithDlq = (
      id: string,
      name: string,
      deadLetterName: string,
      decl: (typeof queues)[QueueName],
    ) => {
      const deadLetter = new sqs.Queue(this, `${id}DeadLetterQueue`, {
        queueName: deadLetterName,
        retentionPeriod: deadLetterRetention,
        encryption: sqs.QueueEncryption.SQS_MANAGED,
        enforceSSL: true,
        removalPolicy,
      });
      const queue = new sqs.Queue(this, `${id}Queue`, {
        queueName: name,
        visibilityTimeout: Duration.seconds(decl.visibilityTimeoutSeconds),
        retentionPeriod: Duration.seconds(decl.retentionSeconds),
        encryption: sqs.QueueEncryption.SQS_MANAGED,
        enforceSSL: true,
        deadLetterQueue: { queue: deadLetter, maxReceiveCount: decl.maxReceiveCount },
        removalPolicy,
      });
      return { queue, deadLetter };
    };
    for (const [logical, decl] of Object.entries(queues) as [QueueName, (typeof queues)[QueueName]][]) {
      const { queue, deadLetter } = queueWithDlq(
        pascal(logical),
        names.queue(logical),
        names.deadLetterQueue(logical),
        decl,
      );
      this.deadLetterQueues[logical] = deadLetter;
      this.queues[logical] = queue;
    }
    // Each other pool group's pools get queues like the default group's (core/models/catalog.ts).
    for (const { group } of modelsOf(config)) {
      if (group === DEFAULT_POOL_GROUP) continue;
      const pools = {} as Record<PoolName, { queue: sqs.Queue; deadLetter: sqs.Queue }>;
      for (const pool of Object.keys(workerPools) as PoolName[])
        pools[pool] = queueWithDlq(
          `${groupId(group)}${pascal(pool)}`,
          names.poolQueue(pool, group),
          names.poolDeadLetterQueue(pool, group),
          queues[pool],
        );
      this.poolGroupQueues[group] = pools;
    }

    for (const [logical, bucket] of Object.entries(this.buckets)) {
      new CfnOutput(this, `${pascal(logical)}BucketName`, { value: bucket.bucketName });
    }
    new CfnOutput(this, 'ModelsBucketName', {
      value: this.modelsBucket.bucketName,
      description: 'Stage the model files here (docs/deploy.md)',
    });
    for (const [logical, table] of Object.entries(this.tables)) {
      new CfnOutput(this, `${pascal(logical)}TableName`, { value: table.tableName });
    }
    for (const [logical, queue] of Object.entries(this.queues)) {
      new CfnOutput(this, `${pascal(logical)}QueueUrl`, { value: queue.queueUrl });
    }
    for (const [group, pools] of Object.entries(this.poolGroupQueues))
      for (const [pool, { queue }] of Object.entries(pools))
        new CfnOutput(this, `${groupId(group)}${pascal(pool)}QueueUrl`, { value: queue.queueUrl });
  }
}

const attribute = (a: KeyAttribute): dynamodb.Attribute => ({
  name: a.name,
  type: a.type === 'N' ? dynamodb.AttributeType.NUMBER : dynamodb.AttributeType.STRING,
});
