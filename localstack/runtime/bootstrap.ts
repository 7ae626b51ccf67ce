import {
  CreateTableCommand,
  DescribeTableCommand,
  type KeySchemaElement,
  ResourceInUseException,
  UpdateTimeToLiveCommand,
} from '@aws-sdk/client-dynamodb';
import { CreateBucketCommand, PutBucketCorsCommand } from '@aws-sdk/client-s3';
import { CreateQueueCommand, GetQueueAttributesCommand } from '@aws-sdk/client-sqs';
import { ApiKeysRepo } from '../../core/adapters/api-keys-repo.js';
import type { AwsClients } from '../../core/adapters/aws-clients.js';
import {
  buckets,
  deadLetterSuffix,
  type KeyAttribute,
  physicalName,
  type QueueName,
  queues,
  type TableDeclaration,
  tables,
} from '../../core/app/declaration.js';

export interface BootstrapOptions {
  prefix: string;
  /** api key → tenant */
  apiKeys: Record<string, string>;
  /** Overrides the worker queues' visibility timeout (tests use a short one to see redelivery quickly). */
  workerVisibilityTimeoutSeconds?: number;
}

/**
 * Creates, in the emulator, the buckets, tables and queues that the CDK app creates on AWS,
 * from the same declaration: same names, keys, indexes and redrive settings. Idempotent.
 * Returns the environment variables through which code finds them.
 */
export async function bootstrapResources(
  aws: AwsClients,
  opts: BootstrapOptions,
): Promise<Record<string, string>> {
  const env: Record<string, string> = {};
  for (const [logical, decl] of Object.entries(buckets)) {
    const name = physicalName(opts.prefix, logical);
    try {
      await aws.s3.send(new CreateBucketCommand({ Bucket: name }));
    } catch (err) {
      if (!['BucketAlreadyOwnedByYou', 'BucketAlreadyExists'].includes((err as Error).name)) throw err;
    }
    await aws.s3.send(
      new PutBucketCorsCommand({
        Bucket: name,
        CORSConfiguration: {
          CORSRules: [
            {
              AllowedMethods: ['GET', 'PUT'],
              AllowedOrigins: ['*'],
              AllowedHeaders: ['*'],
              ExposeHeaders: ['ETag'],
            },
          ],
        },
      }),
    );
    env[decl.env] = name;
  }
  await Promise.all(
    Object.entries(tables).map(async ([logical, decl]) => {
      const name = physicalName(opts.prefix, logical);
      await createTable(aws, name, decl);
      env[decl.env] = name;
    }),
  );
  for (const [logical, decl] of Object.entries(queues) as [QueueName, (typeof queues)[QueueName]][]) {
    const name = physicalName(opts.prefix, logical);
    const dlq = await aws.sqs.send(
      new CreateQueueCommand({
        QueueName: `${name}${deadLetterSuffix}`,
        Attributes: { MessageRetentionPeriod: '1209600' },
      }),
    );
    const dlqArn = await aws.sqs.send(
      new GetQueueAttributesCommand({ QueueUrl: dlq.QueueUrl, AttributeNames: ['QueueArn'] }),
    );
    const isWorkerQueue = logical === 'spot' || logical === 'dedicated';
    const visibility =
      isWorkerQueue && opts.workerVisibilityTimeoutSeconds
        ? opts.workerVisibilityTimeoutSeconds
        : decl.visibilityTimeoutSeconds;
    const queue = await aws.sqs.send(
      new CreateQueueCommand({
        QueueName: name,
        Attributes: {
          VisibilityTimeout: String(visibility),
          MessageRetentionPeriod: String(decl.retentionSeconds),
          RedrivePolicy: JSON.stringify({
            deadLetterTargetArn: dlqArn.Attributes?.QueueArn,
            maxReceiveCount: decl.maxReceiveCount,
          }),
        },
      }),
    );
    env[decl.env] = queue.QueueUrl ?? '';
    env[`${decl.env.replace(/_URL$/, '')}_DLQ_URL`] = dlq.QueueUrl ?? '';
  }
  const keys = new ApiKeysRepo(aws.doc, env[tables.apiKeys.env] ?? '');
  for (const [key, tenant] of Object.entries(opts.apiKeys)) await keys.register(key, tenant);
  return env;
}

const keySchema = (pk: KeyAttribute, sk?: KeyAttribute): KeySchemaElement[] => [
  { AttributeName: pk.name, KeyType: 'HASH' },
  ...(sk ? [{ AttributeName: sk.name, KeyType: 'RANGE' as const }] : []),
];

async function createTable(aws: AwsClients, name: string, decl: TableDeclaration): Promise<void> {
  const attributes = new Map<string, 'S' | 'N'>();
  for (const a of [
    decl.partitionKey,
    decl.sortKey,
    ...(decl.indexes ?? []).flatMap((i) => [i.partitionKey, i.sortKey]),
  ]) {
    if (a) attributes.set(a.name, a.type);
  }
  try {
    await aws.dynamo.send(
      new CreateTableCommand({
        TableName: name,
        BillingMode: 'PAY_PER_REQUEST',
        KeySchema: keySchema(decl.partitionKey, decl.sortKey),
        AttributeDefinitions: [...attributes].map(([AttributeName, AttributeType]) => ({
          AttributeName,
          AttributeType,
        })),
        ...(decl.indexes
          ? {
              GlobalSecondaryIndexes: decl.indexes.map((i) => ({
                IndexName: i.name,
                KeySchema: keySchema(i.partitionKey, i.sortKey),
                Projection: { ProjectionType: 'ALL' },
              })),
            }
          : {}),
      }),
    );
  } catch (err) {
    if (!(err instanceof ResourceInUseException)) throw err;
  }
  for (let i = 0; i < 100; i++) {
    const t = await aws.dynamo.send(new DescribeTableCommand({ TableName: name }));
    if (t.Table?.TableStatus === 'ACTIVE') break;
    await new Promise((r) => setTimeout(r, 100));
  }
  if (decl.ttlAttribute) {
    await aws.dynamo
      .send(
        new UpdateTimeToLiveCommand({
          TableName: name,
          TimeToLiveSpecification: { Enabled: true, AttributeName: decl.ttlAttribute },
        }),
      )
      .catch((err: Error) => {
        if (!/already enabled/i.test(err.message)) throw err;
      });
  }
}
