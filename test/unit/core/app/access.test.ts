import { describe, expect, it } from 'vitest';
import { actionsOf, bindingsOf, needsOf } from '../../../../core/app/access.js';
import { functions, workerUses } from '../../../../core/app/declaration.js';

describe('bindingsOf', () => {
  it('lists each declared resource with the variable that names it and its access', () => {
    expect(bindingsOf(functions.slaMonitor.uses)).toEqual([
      { kind: 'table', logical: 'batches', env: 'BATCHES_TABLE', access: 'readWrite' },
      { kind: 'table', logical: 'chunks', env: 'CHUNKS_TABLE', access: 'readWrite' },
      { kind: 'table', logical: 'pools', env: 'POOLS_TABLE', access: 'readWrite' },
      { kind: 'queue', logical: 'spot', env: 'SPOT_QUEUE_URL', access: 'send' },
      { kind: 'queue', logical: 'dedicated', env: 'DEDICATED_QUEUE_URL', access: 'send' },
      { kind: 'queue', logical: 'finalizing', env: 'FINALIZING_QUEUE_URL', access: 'send' },
      { kind: 'queue', logical: 'scheduling', env: 'SCHEDULING_QUEUE_URL', access: 'send' },
    ]);
    expect(bindingsOf(functions.authorizer.uses)).toEqual([
      { kind: 'table', logical: 'apiKeys', env: 'API_KEYS_TABLE', access: 'read' },
    ]);
  });
});

describe('actionsOf', () => {
  it('gives a read-only table no write and no scan', () => {
    const actions = actionsOf({ kind: 'table', logical: 'apiKeys', env: 'API_KEYS_TABLE', access: 'read' });
    expect(actions).toContain('dynamodb:GetItem');
    for (const a of ['dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem', 'dynamodb:Scan'])
      expect(actions).not.toContain(a);
  });

  it('lets only readWriteDelete delete objects or list the bucket', () => {
    const of = (access: 'read' | 'readWrite' | 'readWriteDelete') =>
      actionsOf({ kind: 'bucket', logical: 'files', env: 'FILES_BUCKET', access });
    expect(of('read')).toEqual(['s3:GetObject']);
    expect(of('readWrite')).toEqual([
      's3:GetObject',
      's3:PutObject',
      's3:ListMultipartUploadParts',
      's3:AbortMultipartUpload',
    ]);
    expect(of('readWriteDelete')).toEqual(expect.arrayContaining(['s3:DeleteObject', 's3:ListBucket']));
  });

  it('keeps the worker from deleting objects or scanning tables', () => {
    const all = bindingsOf(workerUses).flatMap(actionsOf);
    expect(all).not.toContain('s3:DeleteObject');
    expect(all).not.toContain('dynamodb:Scan');
  });
});

describe('needsOf', () => {
  it('needs each transaction item’s action on that item’s table', () => {
    expect(
      needsOf('DynamoDB', 'TransactWriteItemsCommand', {
        TransactItems: [{ Update: { TableName: 'chunks' } }, { ConditionCheck: { TableName: 'batches' } }],
      }),
    ).toEqual([
      { action: 'dynamodb:UpdateItem', kind: 'table', resource: 'chunks' },
      { action: 'dynamodb:ConditionCheckItem', kind: 'table', resource: 'batches' },
    ]);
  });

  it('needs the batch action on every table of a batch call', () => {
    expect(needsOf('DynamoDB', 'BatchGetItemCommand', { RequestItems: { a: {}, b: {} } })).toEqual([
      { action: 'dynamodb:BatchGetItem', kind: 'table', resource: 'a' },
      { action: 'dynamodb:BatchGetItem', kind: 'table', resource: 'b' },
    ]);
  });

  it('maps S3 multipart and batch deletes to the actions IAM checks', () => {
    expect(needsOf('S3', 'UploadPartCommand', { Bucket: 'b' })).toEqual([
      { action: 's3:PutObject', kind: 'bucket', resource: 'b' },
    ]);
    expect(needsOf('S3', 'DeleteObjectsCommand', { Bucket: 'b' })?.[0]?.action).toBe('s3:DeleteObject');
    expect(needsOf('S3', 'ListObjectsV2Command', { Bucket: 'b' })?.[0]?.action).toBe('s3:ListBucket');
  });

  it('maps SendMessageBatch to SendMessage on the queue URL', () => {
    expect(needsOf('SQS', 'SendMessageBatchCommand', { QueueUrl: 'http://q/x' })).toEqual([
      { action: 'sqs:SendMessage', kind: 'queue', resource: 'http://q/x' },
    ]);
  });

  it('knows nothing of commands openbatch does not use, so they are refused', () => {
    expect(needsOf('S3', 'PutBucketPolicyCommand', { Bucket: 'b' })).toBeUndefined();
    expect(needsOf('SQS', 'PurgeQueueCommand', { QueueUrl: 'q' })).toBeUndefined();
  });
});
