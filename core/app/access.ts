import {
  type BucketAccess,
  type BucketName,
  buckets,
  type QueueName,
  queues,
  type TableAccess,
  type TableName,
  tables,
  type Uses,
} from './declaration.js';

/**
 * What a declared `uses` means in IAM terms. The CDK app grants these actions and nothing
 * else; the local runtime checks every SDK call against the same table, so the two cannot
 * drift apart.
 */

export type ResourceKind = 'bucket' | 'table' | 'queue';

/** One resource a principal uses: which, through which variable, and how much. */
export type Binding =
  | { kind: 'bucket'; logical: BucketName; env: string; access: BucketAccess }
  | { kind: 'table'; logical: TableName; env: string; access: TableAccess }
  | { kind: 'queue'; logical: QueueName; env: string; access: 'send' | 'consume' };

/** The resources `uses` names, each with the environment variable that carries its name. */
export function bindingsOf(uses: Uses): Binding[] {
  const out: Binding[] = [];
  for (const [b, access] of Object.entries(uses.buckets ?? {}) as [BucketName, BucketAccess][])
    out.push({ kind: 'bucket', logical: b, env: buckets[b].env, access });
  for (const [t, access] of Object.entries(uses.tables ?? {}) as [TableName, TableAccess][])
    out.push({ kind: 'table', logical: t, env: tables[t].env, access });
  for (const q of uses.queues ?? [])
    out.push({ kind: 'queue', logical: q, env: queues[q].env, access: 'send' });
  return out;
}

const tableRead = [
  'dynamodb:GetItem',
  'dynamodb:BatchGetItem',
  'dynamodb:Query',
  'dynamodb:ConditionCheckItem',
  'dynamodb:DescribeTable',
];
const tableWrite = [
  'dynamodb:PutItem',
  'dynamodb:UpdateItem',
  'dynamodb:DeleteItem',
  'dynamodb:BatchWriteItem',
];

/** Item-level actions on a table (and its indexes). No Scan: nothing in openbatch scans. */
export const tableActions: Readonly<Record<TableAccess, readonly string[]>> = {
  read: tableRead,
  readWrite: [...tableRead, ...tableWrite],
};

const objectRead = ['s3:GetObject'];
// Multipart uploads (lib-storage's Upload, pre-signed parts) need PutObject for create, part
// and complete, ListMultipartUploadParts to see which parts arrived, and AbortMultipartUpload
// to clean up an unfinished one.
const objectWrite = ['s3:PutObject', 's3:ListMultipartUploadParts', 's3:AbortMultipartUpload'];

/** Actions on a bucket's objects (`arn:...:bucket/*`). */
export const objectActions: Readonly<Record<BucketAccess, readonly string[]>> = {
  read: objectRead,
  readWrite: [...objectRead, ...objectWrite],
  readWriteDelete: [...objectRead, ...objectWrite, 's3:DeleteObject'],
};

/** Actions on the bucket itself (`arn:...:bucket`): listing, only to delete a prefix. */
export const bucketActions: Readonly<Record<BucketAccess, readonly string[]>> = {
  read: [],
  readWrite: [],
  readWriteDelete: ['s3:ListBucket'],
};

export const queueActions: Readonly<Record<'send' | 'consume', readonly string[]>> = {
  send: ['sqs:SendMessage'],
  consume: [
    'sqs:ReceiveMessage',
    'sqs:DeleteMessage',
    'sqs:ChangeMessageVisibility',
    'sqs:GetQueueAttributes',
  ],
};

/** Every IAM action a binding grants. */
export function actionsOf(b: Binding): readonly string[] {
  switch (b.kind) {
    case 'bucket':
      return [...objectActions[b.access], ...bucketActions[b.access]];
    case 'table':
      return tableActions[b.access];
    case 'queue':
      return queueActions[b.access];
  }
}

/** What one SDK command needs: an IAM action on a resource, named as the SDK call names it. */
export interface Need {
  action: string;
  kind: ResourceKind;
  /** Physical name: table name, bucket name, or queue URL. */
  resource: string;
}

type Input = Record<string, unknown>;

const dynamoTransactActions: Record<string, string> = {
  Put: 'dynamodb:PutItem',
  Update: 'dynamodb:UpdateItem',
  Delete: 'dynamodb:DeleteItem',
  ConditionCheck: 'dynamodb:ConditionCheckItem',
  Get: 'dynamodb:GetItem',
};

const s3ObjectActions: Record<string, string> = {
  GetObject: 's3:GetObject',
  HeadObject: 's3:GetObject',
  PutObject: 's3:PutObject',
  CreateMultipartUpload: 's3:PutObject',
  UploadPart: 's3:PutObject',
  UploadPartCopy: 's3:PutObject',
  CompleteMultipartUpload: 's3:PutObject',
  AbortMultipartUpload: 's3:AbortMultipartUpload',
  ListParts: 's3:ListMultipartUploadParts',
  DeleteObject: 's3:DeleteObject',
  DeleteObjects: 's3:DeleteObject',
  ListObjectsV2: 's3:ListBucket',
  ListObjects: 's3:ListBucket',
};

const sqsActions: Record<string, string> = {
  SendMessage: 'sqs:SendMessage',
  SendMessageBatch: 'sqs:SendMessage',
  ReceiveMessage: 'sqs:ReceiveMessage',
  DeleteMessage: 'sqs:DeleteMessage',
  DeleteMessageBatch: 'sqs:DeleteMessage',
  ChangeMessageVisibility: 'sqs:ChangeMessageVisibility',
  ChangeMessageVisibilityBatch: 'sqs:ChangeMessageVisibility',
  GetQueueAttributes: 'sqs:GetQueueAttributes',
};

/**
 * The IAM actions an SDK command needs, as IAM evaluates them (a transaction needs the action
 * of each item on each item's table; DeleteObjects needs DeleteObject). Unknown commands
 * return `undefined`: the caller refuses them, as an unlisted action would be refused on AWS.
 */
export function needsOf(
  service: 'S3' | 'SQS' | 'DynamoDB',
  command: string,
  input: Input,
): Need[] | undefined {
  const name = command.replace(/Command$/, '');
  if (service === 'DynamoDB') {
    if (name === 'TransactWriteItems' || name === 'TransactGetItems') {
      return ((input.TransactItems ?? []) as Input[]).flatMap((item) =>
        Object.entries(item).map(([op, body]) => ({
          action: dynamoTransactActions[op] ?? `dynamodb:${op}`,
          kind: 'table' as const,
          resource: String((body as Input).TableName),
        })),
      );
    }
    if (name === 'BatchGetItem' || name === 'BatchWriteItem') {
      return Object.keys((input.RequestItems ?? {}) as Input).map((t) => ({
        action: `dynamodb:${name}`,
        kind: 'table' as const,
        resource: t,
      }));
    }
    return [{ action: `dynamodb:${name}`, kind: 'table', resource: String(input.TableName) }];
  }
  if (service === 'S3') {
    const action = s3ObjectActions[name];
    return action ? [{ action, kind: 'bucket', resource: String(input.Bucket) }] : undefined;
  }
  const action = sqsActions[name];
  return action ? [{ action, kind: 'queue', resource: String(input.QueueUrl) }] : undefined;
}
