import { randomBytes } from 'node:crypto';
import { DeleteMessageCommand, ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import { type AwsClients, awsCalls, createAwsClients } from '../../core/adapters/aws-clients.js';
import { buckets, queues, tables, type Uses } from '../../core/app/declaration.js';
import { createDeps, type Deps, depsFor, type Principal, usesOf } from '../../core/app/deps.js';
import { resourceEnvironment } from '../../core/app/resources.js';
import { createBatch } from '../../core/batches/batches-service.js';
import { type ScheduleOutcome, scheduleBatch } from '../../core/batches/schedule-batch.js';
import { type BatchRef, type ChunkMessage, parseChunkMessage } from '../../core/chunks/chunk-message.js';
import { createFile } from '../../core/files/files-service.js';
import type { CreateBatchBody } from '../../core/openai/schemas.js';
import { accessGuard, permissionsOf } from '../../localstack/runtime/access-guard.js';
import { bootstrapResources } from '../../localstack/runtime/bootstrap.js';
import { startDynamoDbLocal } from '../../localstack/runtime/dynamodb-local.js';
import { type Emulator, startEmulator } from '../../localstack/runtime/emulator.js';

export interface TestAws {
  emulator: Emulator;
  aws: AwsClients;
  env: Record<string, string>;
  /** Full access, for a test to arrange and inspect state; flows run with `depsOf` instead. */
  deps: Deps;
  /**
   * Exactly what `principal` declares, with the local runtime's IAM check on its clients: a
   * flow that touches anything else, or writes where it may only read, fails.
   */
  depsOf(principal: Principal): Deps;
  close(): Promise<void>;
}

/**
 * Starts the local AWS emulator (moto) for one test file and creates the declared resources
 * under a fresh prefix. Every adapter talks to it through the real SDK clients.
 */
export async function startTestAws(
  extraEnv: Record<string, string> = {},
  opts: { dynamoDbLocal?: boolean } = {},
): Promise<TestAws> {
  process.env.AWS_ACCESS_KEY_ID ??= 'test';
  process.env.AWS_SECRET_ACCESS_KEY ??= 'test';
  const [emulator, dynamo] = await Promise.all([
    startEmulator(),
    opts.dynamoDbLocal ? startDynamoDbLocal() : undefined,
  ]);
  const settings = {
    AWS_REGION: 'us-east-1',
    AWS_ENDPOINT_URL: emulator.endpoint,
    ...(dynamo ? { AWS_ENDPOINT_URL_DYNAMODB: dynamo.endpoint } : {}),
  };
  const aws = createAwsClients(settings);
  const prefix = `t${randomBytes(3).toString('hex')}`;
  const env = await bootstrapResources(aws, { prefix, apiKeys: {} });
  const fullEnv = { ...env, ...settings, ...extraEnv };
  const deps = depsFor('test', everything, fullEnv, aws);
  return {
    emulator,
    aws,
    env,
    deps,
    depsOf: (principal) => {
      // Only the variables of what it declares, as the CDK app hands them out.
      const own = {
        ...settings,
        ...extraEnv,
        ...resourceEnvironment(usesOf(principal), (b) => env[b.env] ?? ''),
      };
      const permissions = permissionsOf(usesOf(principal), own);
      const guarded = createAwsClients(settings, awsCalls, [accessGuard(principal, permissions)]);
      return createDeps(principal, own, guarded);
    },
    close: async () => {
      await Promise.all([emulator.stop(), dynamo?.stop()]);
    },
  };
}

/** Read-write access to every declared resource: what a test needs to arrange and inspect. */
const everything: Uses = {
  buckets: Object.fromEntries(Object.keys(buckets).map((b) => [b, 'readWriteDelete'])),
  tables: Object.fromEntries(Object.keys(tables).map((t) => [t, 'readWrite'])),
  queues: Object.keys(queues) as (keyof typeof queues)[],
};

/** A JSONL batch input of `n` chat requests. */
export function chatLines(n: number, opts: { prefix?: string; model?: string } = {}): string {
  return Array.from({ length: n }, (_, i) =>
    JSON.stringify({
      custom_id: `${opts.prefix ?? 'req'}-${i}`,
      method: 'POST',
      url: '/v1/chat/completions',
      body: {
        model: opts.model ?? 'test-model',
        messages: [{ role: 'user', content: `Question number ${i}` }],
      },
    }),
  ).join('\n');
}

export async function waitFor<T>(
  fn: () => Promise<T | undefined>,
  timeoutMs = 30_000,
  everyMs = 200,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/**
 * Takes every message off a queue, deleting each: chunk messages parsed and sorted by chunk
 * (`parse`, the default), others only counted. Returns the parsed messages and the count.
 */
export async function drainQueue(
  t: Pick<TestAws, 'aws'>,
  url: string,
  parse = true,
): Promise<{ messages: ChunkMessage[]; count: number }> {
  const messages: ChunkMessage[] = [];
  let count = 0;
  for (;;) {
    const res = await t.aws.sqs.send(
      new ReceiveMessageCommand({ QueueUrl: url, MaxNumberOfMessages: 10, WaitTimeSeconds: 0 }),
    );
    if (!res.Messages?.length) return { messages: messages.sort((a, b) => a.chunk - b.chunk), count };
    for (const m of res.Messages) {
      count += 1;
      if (parse) messages.push(parseChunkMessage(m.Body ?? ''));
      await t.aws.sqs.send(new DeleteMessageCommand({ QueueUrl: url, ReceiptHandle: m.ReceiptHandle }));
    }
  }
}

/**
 * Uploads `content`, creates a chat-completions batch of it (24h unless `body` says otherwise),
 * takes the scheduling message off its queue and runs the scheduler on it, each flow with its own
 * function's grants, as a queue trigger would.
 */
export async function createAndSchedule(
  t: TestAws,
  tenant: string,
  content: string,
  body: Partial<CreateBatchBody> = {},
): Promise<{ ref: BatchRef; outcome: ScheduleOutcome }> {
  const file = await createFile(t.depsOf('filesApi'), tenant, {
    filename: 'in.jsonl',
    purpose: 'batch',
    content: Buffer.from(content),
  });
  const batch = await createBatch(t.depsOf('batchesApi'), tenant, {
    input_file_id: file.id,
    endpoint: '/v1/chat/completions',
    completion_window: '24h',
    ...body,
  });
  await drainQueue(t, t.env.SCHEDULING_QUEUE_URL as string, false);
  const ref = { tenant, batchId: batch.id };
  return { ref, outcome: await scheduleBatch(t.depsOf('scheduler'), ref) };
}
