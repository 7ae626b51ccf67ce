import { ApiKeysRepo } from '../adapters/api-keys-repo.js';
import { type AwsClients, createAwsClients } from '../adapters/aws-clients.js';
import { BatchStore } from '../adapters/batch-store.js';
import { BlobStore } from '../adapters/blob-store.js';
import { DedupStore } from '../adapters/dedup-store.js';
import { FilesRepo } from '../adapters/files-repo.js';
import { PoolReports } from '../adapters/pool-reports.js';
import { UploadsRepo } from '../adapters/uploads-repo.js';
import { WorkQueue } from '../adapters/work-queue.js';
import { type Clock, systemClock } from '../clock.js';
import { awsSchema, type Limits, limitsSchema, readConfig, type SlaSettings, slaSchema } from '../config.js';
import { createIdSource, type IdSource } from '../ids.js';
import type {
  ApiKeyRepo,
  BatchRepo,
  BlobStorePort,
  DedupRepo,
  FileRepo,
  PoolReportRepo,
  QueuePort,
  UploadRepo,
} from '../ports.js';
import { type FunctionName, functions, type Uses, workerUses } from './declaration.js';
import { resolveResources } from './resources.js';

/** Everything the domain flows need, as ports, so tests can replace any part. */
export interface Deps {
  clock: Clock;
  ids: IdSource;
  limits: Limits;
  sla: SlaSettings;
  blobs: BlobStorePort;
  files: FileRepo;
  batches: BatchRepo;
  apiKeys: ApiKeyRepo;
  uploads: UploadRepo;
  queue: QueuePort;
  /** The answer packs of exact deduplication (the worker's). */
  dedup: DedupRepo;
  /** The worker tasks' reports (written by workers, read by the SLA monitor). */
  pools: PoolReportRepo;
}

/** Who runs: a declared function, or the gpu-worker. */
export type Principal = FunctionName | 'worker';

export const usesOf = (principal: Principal): Uses =>
  principal === 'worker' ? workerUses : functions[principal].uses;

/**
 * Builds `principal`'s dependencies from exactly the resources its declaration names: a
 * declared resource whose variable is missing fails here, at start-up; an undeclared one
 * fails with a WiringError the moment a flow touches it, as it would lack a grant on AWS.
 */
export function createDeps(
  principal: Principal,
  env: NodeJS.ProcessEnv = process.env,
  clients?: AwsClients,
): Deps {
  return depsFor(principal, usesOf(principal), env, clients);
}

/** As createDeps, for a principal given by its `uses` (tests that inspect every table). */
export function depsFor(principal: string, uses: Uses, env: NodeJS.ProcessEnv, clients?: AwsClients): Deps {
  const resources = resolveResources(principal, uses, env);
  const aws = clients ?? createAwsClients(readConfig(awsSchema, env));
  const clock = systemClock;
  return {
    clock,
    ids: createIdSource(() => clock.now()),
    limits: readConfig(limitsSchema, env),
    sla: readConfig(slaSchema, env),
    blobs: new BlobStore(aws.s3, () => resources.bucket('files')),
    files: new FilesRepo(aws.doc, () => resources.table('files')),
    batches: new BatchStore(
      aws.doc,
      () => resources.table('batches'),
      () => resources.table('chunks'),
    ),
    apiKeys: new ApiKeysRepo(aws.doc, () => resources.table('apiKeys')),
    uploads: new UploadsRepo(aws.doc, () => resources.table('uploads')),
    queue: new WorkQueue(aws.sqs, (q) => resources.queue(q)),
    dedup: new DedupStore(aws.doc, () => resources.table('dedup')),
    pools: new PoolReports(aws.doc, () => resources.table('pools')),
  };
}

const cached = new Map<Principal, Deps>();
/** One set of clients and repositories per Lambda container or process. */
export const getDeps = (principal: Principal): Deps => {
  let deps = cached.get(principal);
  if (!deps) {
    deps = createDeps(principal);
    cached.set(principal, deps);
  }
  return deps;
};
