import { GetItemCommand, PutItemCommand, ScanCommand } from '@aws-sdk/client-dynamodb';
import { GetObjectCommand, HeadObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { SendMessageCommand } from '@aws-sdk/client-sqs';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { CallCounter, createAwsClients } from '../../../core/adapters/aws-clients.js';
import { functions, workerUses } from '../../../core/app/declaration.js';
import { AccessDenied, accessGuard, permissionsOf } from '../../../localstack/runtime/access-guard.js';

const env = {
  API_KEYS_TABLE: 'p-api-keys',
  FILES_BUCKET: 'p-files',
  BATCHES_TABLE: 'p-batches',
  CHUNKS_TABLE: 'p-chunks',
  DEDICATED_QUEUE_URL: 'http://sqs/q/p-dedicated',
  FINALIZING_QUEUE_URL: 'http://sqs/q/p-finalizing',
  SPOT_QUEUE_URL: 'http://sqs/q/p-spot',
};

/** Clients whose calls the guard sees; an allowed call is answered by a stub, never the network. */
function guarded(principal: string, permissions: ReturnType<typeof permissionsOf>) {
  const clients = createAwsClients({ AWS_REGION: 'us-east-1' }, new CallCounter(), [
    accessGuard(principal, permissions),
    () => ({
      applyToStack: (stack) => {
        // SQS checks the body's MD5 in the answer: the stub answers for the body '{}'.
        stack.add(
          () => async () => ({
            output: { $metadata: {}, MD5OfMessageBody: '99914b932bd37a50b983c5e7c90ae93b' },
            response: {},
          }),
          {
            step: 'build',
            name: 'stubNetwork',
          },
        );
      },
    }),
  ]);
  return clients;
}

/** Clients whose allowed calls find no such object (the emulator's 404, NoSuchKey). */
function guardedMissing(principal: string, permissions: ReturnType<typeof permissionsOf>) {
  return createAwsClients({ AWS_REGION: 'us-east-1' }, new CallCounter(), [
    accessGuard(principal, permissions),
    () => ({
      applyToStack: (stack) => {
        stack.add(
          () => async () => {
            throw Object.assign(new Error('The specified key does not exist.'), { name: 'NoSuchKey' });
          },
          { step: 'build', name: 'stubMissing' },
        );
      },
    }),
  ]);
}

describe('the local IAM check', () => {
  beforeEach(() => {
    vi.stubEnv('AWS_ACCESS_KEY_ID', 'test');
    vi.stubEnv('AWS_SECRET_ACCESS_KEY', 'test');
  });

  it('lets the authorizer read its keys and refuses it any write, naming principal, action and table', async () => {
    const c = guarded('authorizer', permissionsOf(functions.authorizer.uses, env));
    await expect(
      c.dynamo.send(new GetItemCommand({ TableName: 'p-api-keys', Key: { key_hash: { S: 'h' } } })),
    ).resolves.toBeDefined();
    const put = c.dynamo.send(
      new PutItemCommand({ TableName: 'p-api-keys', Item: { key_hash: { S: 'h' } } }),
    );
    await expect(put).rejects.toThrow(AccessDenied);
    await expect(
      c.dynamo.send(new PutItemCommand({ TableName: 'p-api-keys', Item: { key_hash: { S: 'h' } } })),
    ).rejects.toThrow('authorizer is not authorized to perform dynamodb:PutItem on table p-api-keys');
  });

  it('refuses a table the function does not declare', async () => {
    const c = guarded('authorizer', permissionsOf(functions.authorizer.uses, env));
    await expect(
      c.dynamo.send(new GetItemCommand({ TableName: 'p-batches', Key: { id: { S: 'x' } } })),
    ).rejects.toThrow('dynamodb:GetItem on table p-batches');
  });

  it('lets the worker read and write objects, consume its own queue, and nothing more', async () => {
    const c = guarded('worker', permissionsOf(workerUses, env, env.SPOT_QUEUE_URL));
    await expect(c.s3.send(new GetObjectCommand({ Bucket: 'p-files', Key: 'k' }))).resolves.toBeDefined();
    await expect(
      c.s3.send(new PutObjectCommand({ Bucket: 'p-files', Key: 'k', Body: 'x' })),
    ).resolves.toBeDefined();
    await expect(c.dynamo.send(new ScanCommand({ TableName: 'p-chunks' }))).rejects.toThrow('dynamodb:Scan');
    await expect(
      c.sqs.send(new SendMessageCommand({ QueueUrl: env.DEDICATED_QUEUE_URL, MessageBody: '{}' })),
    ).resolves.toBeDefined();
    await expect(
      c.sqs.send(new SendMessageCommand({ QueueUrl: 'http://sqs/q/p-scheduling', MessageBody: '{}' })),
    ).rejects.toThrow('sqs:SendMessage on queue http://sqs/q/p-scheduling');
  });

  it("lets a function that sends to the pools' queues send to every pool group's, and no other", async () => {
    const groups = {
      ...env,
      POOL_QUEUE_URLS: JSON.stringify({
        gpu: { spot: 'http://sqs/q/p-gpu-spot', dedicated: 'http://sqs/q/p-gpu-dedicated' },
      }),
    };
    const send = (c: ReturnType<typeof guarded>, url: string) =>
      c.sqs.send(new SendMessageCommand({ QueueUrl: url, MessageBody: '{}' }));
    const scheduler = guarded('scheduler', permissionsOf(functions.scheduler.uses, groups));
    await expect(send(scheduler, 'http://sqs/q/p-gpu-spot')).resolves.toBeDefined();
    await expect(send(scheduler, 'http://sqs/q/p-gpu-dedicated')).resolves.toBeDefined();
    // The finalizer sends to no pool queue: another group's is as closed to it as the default's.
    const finalizer = guarded('finalizer', permissionsOf(functions.finalizer.uses, groups));
    await expect(send(finalizer, 'http://sqs/q/p-gpu-spot')).rejects.toThrow('sqs:SendMessage');
  });

  it('answers a read of a missing object as S3 does: 404 only to a caller that may list the bucket, else 403', async () => {
    // The scheduler may list the files bucket (it deletes prefixes): S3 tells it the key is missing.
    const scheduler = guardedMissing('scheduler', permissionsOf(functions.scheduler.uses, env));
    await expect(scheduler.s3.send(new GetObjectCommand({ Bucket: 'p-files', Key: 'gone' }))).rejects.toThrow(
      'The specified key does not exist.',
    );
    // A worker may not: S3 answers 403 AccessDenied, and so does the local runtime.
    const worker = guardedMissing('worker', permissionsOf(workerUses, env));
    const read = worker.s3.send(new GetObjectCommand({ Bucket: 'p-files', Key: 'gone' }));
    await expect(read).rejects.toThrow(AccessDenied);
    await expect(worker.s3.send(new HeadObjectCommand({ Bucket: 'p-files', Key: 'gone' }))).rejects.toThrow(
      'answered as S3 answers a caller without s3:ListBucket on p-files',
    );
  });
});
