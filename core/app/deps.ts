import { ApiKeysRepo } from '../adapters/api-keys-repo.js';
import { type AwsClients, createAwsClients } from '../adapters/aws-clients.js';
import { BatchStore } from '../adapters/batch-store.js';
import { BlobStore } from '../adapters/blob-store.js';
import { FilesRepo } from '../adapters/files-repo.js';
import { WorkQueue } from '../adapters/work-queue.js';
import { type Clock, systemClock } from '../clock.js';
import { awsSchema, type Limits, limitsSchema, readConfig, type SlaSettings, slaSchema } from '../config.js';
import { createIdSource, type IdSource } from '../ids.js';
import type { QueueName } from './declaration.js';
import { buckets, queues, tables } from './declaration.js';

/** Everything the domain services need, handed in so tests can replace any part. */
export interface Deps {
  clock: Clock;
  ids: IdSource;
  limits: Limits;
  sla: SlaSettings;
  blobs: BlobStore;
  files: FilesRepo;
  batches: BatchStore;
  apiKeys: ApiKeysRepo;
  queue: WorkQueue;
  /** Queue URLs by logical name; only those the deployment handed in. */
  queueUrls: Partial<Record<QueueName, string>>;
}

/** Resolves resource names from the environment variables the declaration names. */
export function createDeps(env: NodeJS.ProcessEnv = process.env, clients?: AwsClients): Deps {
  const aws = clients ?? createAwsClients(readConfig(awsSchema, env));
  const name = (v: string) => env[v] ?? '';
  const queueUrls: Partial<Record<QueueName, string>> = {};
  for (const [q, decl] of Object.entries(queues) as [QueueName, { env: string }][]) {
    if (env[decl.env]) queueUrls[q] = env[decl.env];
  }
  const clock = systemClock;
  return {
    clock,
    ids: createIdSource(() => clock.now()),
    limits: readConfig(limitsSchema, env),
    sla: readConfig(slaSchema, env),
    blobs: new BlobStore(aws.s3, name(buckets.files.env)),
    files: new FilesRepo(aws.doc, name(tables.files.env)),
    batches: new BatchStore(aws.doc, name(tables.batches.env), name(tables.chunks.env)),
    apiKeys: new ApiKeysRepo(aws.doc, name(tables.apiKeys.env)),
    queue: new WorkQueue(aws.sqs),
    queueUrls,
  };
}

export function queueUrl(deps: Pick<Deps, 'queueUrls'>, q: QueueName): string {
  const url = deps.queueUrls[q];
  if (!url) throw new Error(`Queue ${q} is not configured (${queues[q].env})`);
  return url;
}

let cached: Deps | undefined;
/** One set of clients and repositories per Lambda container or process. */
export const getDeps = (): Deps => {
  cached ??= createDeps();
  return cached;
};
