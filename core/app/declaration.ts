/**
 * The one declaration of openbatch's data plane and functions.
 *
 * The CDK app builds buckets, tables, queues, Lambdas and their event sources from this object;
 * the local runtime builds the same resources in the emulator, its HTTP router, its queue pollers
 * and its timers from it. Wiring is never written twice: add a route or a queue here and both
 * places pick it up.
 */

export type BucketName = 'files';
export type TableName = 'files' | 'batches' | 'chunks' | 'apiKeys' | 'uploads' | 'dedup' | 'pools';
export type QueueName = 'scheduling' | 'spot' | 'dedicated' | 'finalizing';
export type FunctionName =
  | 'authorizer'
  | 'filesApi'
  | 'batchesApi'
  | 'scheduler'
  | 'finalizer'
  | 'slaMonitor'
  | 'uploadsApi'
  | 'modelsApi'
  | 'housekeeping';
export type PoolName = 'spot' | 'dedicated';

export interface BucketDeclaration {
  /** Environment variable through which code receives the bucket's name. */
  readonly env: string;
}

export interface KeyAttribute {
  readonly name: string;
  readonly type: 'S' | 'N';
}

export interface TableDeclaration {
  readonly env: string;
  readonly partitionKey: KeyAttribute;
  readonly sortKey?: KeyAttribute;
  /** Sparse indexes; only items carrying the index's partition key appear in them. */
  readonly indexes?: readonly {
    readonly name: string;
    readonly partitionKey: KeyAttribute;
    readonly sortKey?: KeyAttribute;
  }[];
  readonly ttlAttribute?: string;
}

export interface QueueDeclaration {
  readonly env: string;
  readonly visibilityTimeoutSeconds: number;
  readonly retentionSeconds: number;
  /** Receives after which a message moves to the queue's dead-letter queue. */
  readonly maxReceiveCount: number;
}

export type Trigger =
  | { readonly kind: 'http'; readonly method: 'GET' | 'POST' | 'DELETE'; readonly path: string }
  | {
      readonly kind: 'queue';
      readonly queue: QueueName;
      readonly batchSize: number;
      /**
       * Invocations at once: the event source's maximum concurrency on AWS (2 to 1,000), the
       * queue trigger's on the local runtime. Unset: Lambda's account limit; locally 2.
       */
      readonly maxConcurrency?: number;
    }
  | { readonly kind: 'schedule'; readonly everySeconds: number }
  | { readonly kind: 'authorizer' };

/**
 * How much of a resource a function may touch. The CDK app grants exactly these IAM actions
 * (core/app/access.ts) and the local runtime refuses any other call, so a missing grant shows
 * up in the tests rather than on AWS.
 * - tables: `read` (get, query, batch get) or `readWrite` (and put, update, delete, transact).
 * - buckets: `read` (get objects), `readWrite` (and put, multipart), `readWriteDelete` (and
 *   delete and list, for removing a prefix).
 * - queues: the named queues are sent to; consuming a queue comes from its trigger or pool.
 */
export type TableAccess = 'read' | 'readWrite';
export type BucketAccess = 'read' | 'readWrite' | 'readWriteDelete';

export interface Uses {
  readonly buckets?: Readonly<Partial<Record<BucketName, BucketAccess>>>;
  readonly tables?: Readonly<Partial<Record<TableName, TableAccess>>>;
  readonly queues?: readonly QueueName[];
}

export interface FunctionDeclaration {
  /** Module (relative to the repository root) exporting `handler`. */
  readonly entry: string;
  readonly description: string;
  readonly timeoutSeconds: number;
  readonly memoryMb: number;
  readonly triggers: readonly Trigger[];
  readonly uses: Uses;
}

export interface WorkerPoolDeclaration {
  readonly queue: QueueName;
  readonly capacity: 'spot' | 'on-demand';
}

const stringKey = (name: string): KeyAttribute => ({ name, type: 'S' });

export const buckets: Readonly<Record<BucketName, BucketDeclaration>> = {
  files: { env: 'FILES_BUCKET' },
};

export const tables: Readonly<Record<TableName, TableDeclaration>> = {
  files: {
    env: 'FILES_TABLE',
    partitionKey: stringKey('tenant'),
    sortKey: stringKey('id'),
    // Files with an expiry carry `expiring`, so the housekeeping sweep reads just the expired.
    indexes: [
      {
        name: 'expiring-by-time',
        partitionKey: stringKey('expiring'),
        sortKey: { name: 'expires_at', type: 'N' },
      },
    ],
  },
  batches: {
    env: 'BATCHES_TABLE',
    partitionKey: stringKey('tenant'),
    sortKey: stringKey('id'),
    // Only batches that are still running carry `active`, so the SLA monitor reads just those.
    indexes: [
      {
        name: 'active-by-expiry',
        partitionKey: stringKey('active'),
        sortKey: { name: 'expires_at', type: 'N' },
      },
    ],
  },
  chunks: {
    env: 'CHUNKS_TABLE',
    partitionKey: stringKey('batch_key'),
    sortKey: { name: 'chunk', type: 'N' },
    ttlAttribute: 'ttl',
  },
  apiKeys: { env: 'API_KEYS_TABLE', partitionKey: stringKey('key_hash') },
  // Uploads (`id`) and the parts added to them through the API (`<upload id>#<part id>`).
  uploads: {
    env: 'UPLOADS_TABLE',
    partitionKey: stringKey('tenant'),
    sortKey: stringKey('id'),
    // Only pending uploads carry `active`, so the sweep reads just those past their hour.
    indexes: [
      {
        name: 'pending-by-expiry',
        partitionKey: stringKey('active'),
        sortKey: { name: 'expires_at', type: 'N' },
      },
    ],
    ttlAttribute: 'ttl',
  },
  // Exact deduplication's index (docs/dedup.md): one item per answer pack (a completed chunk's
  // reusable answers, in the files bucket), `pack` time-ordered; expired packs leave by TTL.
  dedup: {
    env: 'DEDUP_TABLE',
    partitionKey: stringKey('tenant'),
    sortKey: stringKey('pack'),
    ttlAttribute: 'ttl',
  },
  // The worker tasks' reports (core/pools/task-report.ts): one item per task, overwritten every
  // METRICS_INTERVAL_SECONDS, read by the SLA monitor for measured throughput and running tasks.
  pools: {
    env: 'POOLS_TABLE',
    partitionKey: stringKey('pool'),
    sortKey: stringKey('task'),
    ttlAttribute: 'ttl',
  },
};

export const queues: Readonly<Record<QueueName, QueueDeclaration>> = {
  scheduling: {
    env: 'SCHEDULING_QUEUE_URL',
    visibilityTimeoutSeconds: 960,
    retentionSeconds: 4 * 86400,
    maxReceiveCount: 3,
  },
  // Spot work is interrupted by design; each interruption is a receive, so allow plenty.
  // A worker's chunk stays invisible 30 s at a time, extended every 10 s while it works, so the
  // chunk of a worker that died reappears within 30 s (and resumes from its last checkpoint).
  spot: {
    env: 'SPOT_QUEUE_URL',
    visibilityTimeoutSeconds: 30,
    retentionSeconds: 4 * 86400,
    maxReceiveCount: 10,
  },
  dedicated: {
    env: 'DEDICATED_QUEUE_URL',
    visibilityTimeoutSeconds: 30,
    retentionSeconds: 4 * 86400,
    maxReceiveCount: 5,
  },
  finalizing: {
    env: 'FINALIZING_QUEUE_URL',
    visibilityTimeoutSeconds: 960,
    retentionSeconds: 4 * 86400,
    maxReceiveCount: 3,
  },
};

/**
 * The spot and dedicated queues of every pool group but the default (core/models/catalog.ts),
 * JSON `{"<group>": {"spot": url, "dedicated": url}}`: set for a principal that declares the
 * `spot` or `dedicated` queue (and allowed to send to those of every group), alongside the
 * default group's SPOT_QUEUE_URL and DEDICATED_QUEUE_URL. A worker gets neither: its
 * DEDICATED_QUEUE_URL is its own group's.
 */
export const POOL_QUEUE_URLS = 'POOL_QUEUE_URLS';

/** Whether `uses` sends to a pool's queues (and so to every pool group's). */
export const sendsToPoolQueues = (uses: Uses): boolean =>
  (uses.queues ?? []).some((q) => q === 'spot' || q === 'dedicated');

export const workerPools: Readonly<Record<PoolName, WorkerPoolDeclaration>> = {
  spot: { queue: 'spot', capacity: 'spot' },
  dedicated: { queue: 'dedicated', capacity: 'on-demand' },
};

/**
 * What a gpu-worker touches besides consuming its pool's queue: it reads chunk lines and writes
 * result parts and checkpoints (never deletes), completes chunks, sends its batch's next chunk
 * to its route's queue, hands reclaimed work to the dedicated queue, asks for finalization and
 * reports what it did to the pools table. For deduplication it reads and writes answer packs
 * (files bucket) and their index (dedup table). The CDK app grants a worker's task role exactly this.
 */
export const workerUses: Uses = {
  buckets: { files: 'readWrite' },
  tables: { batches: 'readWrite', chunks: 'readWrite', dedup: 'readWrite', pools: 'readWrite' },
  // spot and dedicated: a completed chunk sends its batch's next one (core/chunks/dispatch.ts).
  queues: ['spot', 'dedicated', 'finalizing'],
};

export const functions: Readonly<Record<FunctionName, FunctionDeclaration>> = {
  authorizer: {
    entry: 'lambdas/authorizer/handler.ts',
    description: 'Resolves a Bearer API key to its tenant',
    timeoutSeconds: 5,
    memoryMb: 256,
    triggers: [{ kind: 'authorizer' }],
    uses: { tables: { apiKeys: 'read' } },
  },
  filesApi: {
    entry: 'lambdas/files-api/handler.ts',
    description: 'OpenAI Files API',
    timeoutSeconds: 29,
    memoryMb: 512,
    triggers: [
      { kind: 'http', method: 'POST', path: '/v1/files' },
      { kind: 'http', method: 'GET', path: '/v1/files' },
      { kind: 'http', method: 'GET', path: '/v1/files/{file_id}' },
      { kind: 'http', method: 'DELETE', path: '/v1/files/{file_id}' },
      { kind: 'http', method: 'GET', path: '/v1/files/{file_id}/content' },
    ],
    // Reads the batches holding a file before deleting it.
    uses: { buckets: { files: 'readWriteDelete' }, tables: { files: 'readWrite', batches: 'read' } },
  },
  batchesApi: {
    entry: 'lambdas/batches-api/handler.ts',
    description: 'OpenAI Batches API',
    timeoutSeconds: 29,
    memoryMb: 512,
    triggers: [
      { kind: 'http', method: 'POST', path: '/v1/batches' },
      { kind: 'http', method: 'GET', path: '/v1/batches' },
      { kind: 'http', method: 'GET', path: '/v1/batches/{batch_id}' },
      { kind: 'http', method: 'POST', path: '/v1/batches/{batch_id}/cancel' },
      // Extension beside the OpenAI contract: per-chunk progress, pools and escalations.
      { kind: 'http', method: 'GET', path: '/v1/openbatch/batches/{batch_id}/chunks' },
      // Extensions: per-request view (from chunk records, checkpoints and results, no item per
      // request) and retry of a batch's failed and expired requests as a new batch.
      { kind: 'http', method: 'GET', path: '/v1/openbatch/batches/{batch_id}/requests' },
      { kind: 'http', method: 'GET', path: '/v1/openbatch/batches/{batch_id}/requests/{custom_id}' },
      { kind: 'http', method: 'POST', path: '/v1/openbatch/batches/{batch_id}/retry' },
      { kind: 'http', method: 'GET', path: '/v1/openbatch/batches/{batch_id}/partial_output' },
    ],
    uses: {
      // files bucket: reads inputs, parts, checkpoints and result files; writes a retry's input.
      buckets: { files: 'readWrite' },
      // files table: a batch holds its input file (in_use_by) from create to end; a retry's input.
      tables: { files: 'readWrite', batches: 'readWrite', chunks: 'read' },
      queues: ['scheduling', 'finalizing'],
    },
  },
  scheduler: {
    entry: 'lambdas/scheduler/handler.ts',
    description: 'Validates a batch input file and fans it out as chunk messages',
    timeoutSeconds: 900,
    memoryMb: 1024,
    // Many small batches are validated side by side, a bounded number at a time.
    triggers: [{ kind: 'queue', queue: 'scheduling', batchSize: 1, maxConcurrency: 10 }],
    // Writes and deletes only the state of a validation split over invocations, and sends the
    // scheduling message that continues it.
    uses: {
      buckets: { files: 'readWriteDelete' },
      // files: releases the input of a batch that fails validation.
      tables: { batches: 'readWrite', chunks: 'readWrite', files: 'readWrite' },
      queues: ['spot', 'dedicated', 'scheduling'],
    },
  },
  finalizer: {
    entry: 'lambdas/finalizer/handler.ts',
    description: 'Stitches chunk results into the output and error files',
    timeoutSeconds: 900,
    memoryMb: 1024,
    triggers: [{ kind: 'queue', queue: 'finalizing', batchSize: 1, maxConcurrency: 10 }],
    uses: {
      buckets: { files: 'readWriteDelete' },
      tables: { files: 'readWrite', batches: 'readWrite', chunks: 'read' },
    },
  },
  uploadsApi: {
    entry: 'lambdas/uploads-api/handler.ts',
    description: 'OpenAI Uploads API, with pre-signed S3 part URLs beside it',
    timeoutSeconds: 29,
    memoryMb: 1024,
    triggers: [
      { kind: 'http', method: 'POST', path: '/v1/uploads' },
      { kind: 'http', method: 'POST', path: '/v1/uploads/{upload_id}/parts' },
      { kind: 'http', method: 'POST', path: '/v1/uploads/{upload_id}/complete' },
      { kind: 'http', method: 'POST', path: '/v1/uploads/{upload_id}/cancel' },
      // Extensions beside the OpenAI contract: parts straight to S3, and the state to resume from.
      { kind: 'http', method: 'POST', path: '/v1/openbatch/uploads/{upload_id}/part_urls' },
      { kind: 'http', method: 'GET', path: '/v1/openbatch/uploads/{upload_id}' },
    ],
    uses: {
      buckets: { files: 'readWriteDelete' },
      tables: { uploads: 'readWrite', files: 'readWrite' },
    },
  },
  modelsApi: {
    entry: 'lambdas/models-api/handler.ts',
    description: "OpenAI Models API: the deployment's model catalog",
    timeoutSeconds: 10,
    memoryMb: 256,
    triggers: [
      { kind: 'http', method: 'GET', path: '/v1/models' },
      { kind: 'http', method: 'GET', path: '/v1/models/{model}' },
    ],
    // The catalog is a setting (MODEL_CATALOG): nothing to read but the environment.
    uses: {},
  },
  housekeeping: {
    entry: 'lambdas/housekeeping/handler.ts',
    description: 'Ends uploads past their hour and deletes files past their expiry',
    timeoutSeconds: 300,
    memoryMb: 512,
    triggers: [{ kind: 'schedule', everySeconds: 300 }],
    uses: { buckets: { files: 'readWriteDelete' }, tables: { uploads: 'readWrite', files: 'readWrite' } },
  },
  slaMonitor: {
    entry: 'lambdas/sla-monitor/handler.ts',
    description: 'Expires batches at their completion window and escalates work at deadline risk',
    timeoutSeconds: 300,
    memoryMb: 512,
    triggers: [{ kind: 'schedule', everySeconds: 60 }],
    // scheduling: re-drives a batch stuck validating. spot: sends again the pending chunks of a
    // batch whose chain of chunk messages broke (core/chunks/dispatch.ts).
    uses: {
      // pools: the worker tasks' reports, for measured throughput and running tasks, and what it
      // asked each pool for (core/pools/task-report.ts AskedRecord), for the tasks still starting.
      tables: { batches: 'readWrite', chunks: 'readWrite', pools: 'readWrite' },
      queues: ['spot', 'dedicated', 'finalizing', 'scheduling'],
    },
  },
};

/** Physical resource names: one prefix per environment, e.g. `openbatch-dev-batches`. */
export function physicalName(prefix: string, logical: string): string {
  const kebab = logical.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
  return `${prefix}-${kebab}`;
}

export const deadLetterSuffix = '-dlq';

/** The body API Gateway answers with when the authorizer rejects a key (mirrors OpenAI's 401). */
export const unauthorizedBody = {
  error: {
    message: 'Incorrect API key provided. You can find your API key in your openbatch deployment.',
    type: 'invalid_request_error',
    param: null,
    code: 'invalid_api_key',
  },
} as const;
