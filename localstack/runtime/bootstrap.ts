import {
  CreateTableCommand,
  DescribeTableCommand,
  type KeySchemaElement,
  ResourceInUseException,
  UpdateTableCommand,
  UpdateTimeToLiveCommand,
} from '@aws-sdk/client-dynamodb';
import { CreateBucketCommand, HeadBucketCommand, PutBucketCorsCommand } from '@aws-sdk/client-s3';
import {
  CreateQueueCommand,
  GetQueueAttributesCommand,
  GetQueueUrlCommand,
  type QueueAttributeName,
  SetQueueAttributesCommand,
} from '@aws-sdk/client-sqs';
import { ApiKeysRepo } from '../../core/adapters/api-keys-repo.js';
import type { AwsClients } from '../../core/adapters/aws-clients.js';
import {
  buckets,
  deadLetterSuffix,
  type KeyAttribute,
  POOL_QUEUE_URLS,
  physicalName,
  type QueueName,
  queues,
  type TableDeclaration,
  tables,
} from '../../core/app/declaration.js';
import { DEFAULT_POOL_GROUP, type PoolQueueUrls, poolQueueLogical } from '../../core/models/catalog.js';

export interface BootstrapOptions {
  prefix: string;
  /** api key → tenant */
  apiKeys: Record<string, string>;
  /** Overrides the worker queues' visibility timeout (tests use a short one to see redelivery quickly). */
  workerVisibilityTimeoutSeconds?: number;
  /** The catalog's pool groups: each but the default gets its own spot and dedicated queues. */
  poolGroups?: readonly string[];
}

/** The variable of a queue's dead-letter queue's URL (`SPOT_DLQ_URL`). */
export const dlqEnv = (queueEnv: string): string => `${queueEnv.replace(/_URL$/, '')}_DLQ_URL`;

/**
 * Creates, in the emulator, the buckets, tables and queues that the CDK app creates on AWS,
 * from the same declaration: same names, keys, indexes and redrive settings. Idempotent, and
 * safe on the resources a previous run left in the data directory: a queue whose settings
 * changed gets the declared ones, a table gets the indexes declared since it was created.
 * Returns the environment variables through which code finds them.
 */
export async function bootstrapResources(
  aws: AwsClients,
  opts: BootstrapOptions,
): Promise<Record<string, string>> {
  const env: Record<string, string> = {};
  for (const [logical, decl] of Object.entries(buckets)) {
    const name = physicalName(opts.prefix, logical);
    // Only when missing: moto answers CreateBucket on an existing us-east-1 bucket by replacing
    // it with an empty one, which would drop every object the data directory brought back.
    if (!(await bucketExists(aws, name))) {
      try {
        await aws.s3.send(new CreateBucketCommand({ Bucket: name }));
      } catch (err) {
        if (!['BucketAlreadyOwnedByYou', 'BucketAlreadyExists'].includes((err as Error).name)) throw err;
      }
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
  const queueWithDlq = async (name: string, logical: QueueName) => {
    const decl = queues[logical];
    const dlqUrl = await ensureQueue(aws, `${name}${deadLetterSuffix}`, {
      MessageRetentionPeriod: '1209600',
    });
    const dlqArn = await aws.sqs.send(
      new GetQueueAttributesCommand({ QueueUrl: dlqUrl, AttributeNames: ['QueueArn'] }),
    );
    const isWorkerQueue = logical === 'spot' || logical === 'dedicated';
    const visibility =
      isWorkerQueue && opts.workerVisibilityTimeoutSeconds
        ? opts.workerVisibilityTimeoutSeconds
        : decl.visibilityTimeoutSeconds;
    const url = await ensureQueue(aws, name, {
      VisibilityTimeout: String(visibility),
      MessageRetentionPeriod: String(decl.retentionSeconds),
      RedrivePolicy: JSON.stringify({
        deadLetterTargetArn: dlqArn.Attributes?.QueueArn,
        maxReceiveCount: decl.maxReceiveCount,
      }),
    });
    return { url, dlqUrl };
  };
  for (const logical of Object.keys(queues) as QueueName[]) {
    const { url, dlqUrl } = await queueWithDlq(physicalName(opts.prefix, logical), logical);
    env[queues[logical].env] = url;
    env[dlqEnv(queues[logical].env)] = dlqUrl;
  }
  // Each pool group besides the default has a spot and a dedicated queue of its own, as the
  // compute stack makes them: same settings as the default group's, `<prefix>-<group>-spot`.
  const groups: PoolQueueUrls = {};
  for (const group of opts.poolGroups ?? []) {
    if (group === DEFAULT_POOL_GROUP) continue;
    const spot = await queueWithDlq(physicalName(opts.prefix, poolQueueLogical('spot', group)), 'spot');
    const dedicated = await queueWithDlq(
      physicalName(opts.prefix, poolQueueLogical('dedicated', group)),
      'dedicated',
    );
    groups[group] = { spot: spot.url, dedicated: dedicated.url };
  }
  if (Object.keys(groups).length > 0) env[POOL_QUEUE_URLS] = JSON.stringify(groups);
  const keys = new ApiKeysRepo(aws.doc, env[tables.apiKeys.env] ?? '');
  for (const [key, tenant] of Object.entries(opts.apiKeys)) await keys.register(key, tenant);
  return env;
}

async function bucketExists(aws: AwsClients, name: string): Promise<boolean> {
  try {
    await aws.s3.send(new HeadBucketCommand({ Bucket: name }));
    return true;
  } catch (err) {
    if ((err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode === 404) return false;
    throw err;
  }
}

/** Creates the queue, or gives an existing one (from the data directory) the attributes asked for. */
async function ensureQueue(
  aws: AwsClients,
  name: string,
  attributes: Partial<Record<QueueAttributeName, string>>,
): Promise<string> {
  try {
    const created = await aws.sqs.send(new CreateQueueCommand({ QueueName: name, Attributes: attributes }));
    return created.QueueUrl ?? '';
  } catch (err) {
    // SQS refuses to "create" an existing queue with other attributes (QueueAlreadyExists).
    if (!['QueueNameExists', 'QueueAlreadyExists'].includes((err as Error).name)) throw err;
  }
  const { QueueUrl } = await aws.sqs.send(new GetQueueUrlCommand({ QueueName: name }));
  await aws.sqs.send(new SetQueueAttributesCommand({ QueueUrl, Attributes: attributes }));
  return QueueUrl ?? '';
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
    // The table is from a previous run: add the indexes declared since (one per update, as DynamoDB allows).
    const existing = await tableActive(aws, name);
    const have = new Set((existing?.GlobalSecondaryIndexes ?? []).map((i) => i.IndexName));
    for (const index of decl.indexes ?? []) {
      if (have.has(index.name)) continue;
      await aws.dynamo.send(
        new UpdateTableCommand({
          TableName: name,
          AttributeDefinitions: [index.partitionKey, index.sortKey]
            .filter((a): a is KeyAttribute => a !== undefined)
            .map((a) => ({ AttributeName: a.name, AttributeType: a.type })),
          GlobalSecondaryIndexUpdates: [
            {
              Create: {
                IndexName: index.name,
                KeySchema: keySchema(index.partitionKey, index.sortKey),
                Projection: { ProjectionType: 'ALL' },
              },
            },
          ],
        }),
      );
      await tableActive(aws, name);
    }
  }
  await tableActive(aws, name);
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

/** Waits until the table and its indexes are ACTIVE; returns its description. */
async function tableActive(aws: AwsClients, name: string) {
  for (let i = 0; ; i++) {
    const t = await aws.dynamo.send(new DescribeTableCommand({ TableName: name }));
    const active =
      t.Table?.TableStatus === 'ACTIVE' &&
      (t.Table.GlobalSecondaryIndexes ?? []).every((g) => g.IndexStatus === 'ACTIVE');
    if (active || i >= 300) return t.Table;
    await new Promise((r) => setTimeout(r, 100));
  }
}
