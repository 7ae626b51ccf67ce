import { mkdirSync } from 'node:fs';
import type { Server } from 'node:http';
import { resolve } from 'node:path';
import { GetQueueAttributesCommand } from '@aws-sdk/client-sqs';
import { type AwsClients, CallCounter, createAwsClients } from '../../core/adapters/aws-clients.js';
import {
  deadLetterSuffix,
  type FunctionName,
  POOL_QUEUE_URLS,
  type PoolName,
  physicalName,
  type QueueName,
  queues,
  workerPools,
} from '../../core/app/declaration.js';
import { parsePoolQueueUrls } from '../../core/app/resources.js';
import { dispatchWindow } from '../../core/chunks/dispatch.js';
import { limitsSchema, readConfig, workerSchema } from '../../core/config.js';
import {
  catalogOf,
  DEFAULT_POOL_GROUP,
  engineUrlOf,
  poolGroups,
  poolQueueLogical,
} from '../../core/models/catalog.js';
import { log } from '../../core/observability/log.js';
import { expiryLookaheadSeconds, slaMonitorPeriodSeconds } from '../../core/sla/schedule.js';
import { bootstrapResources, dlqEnv } from './bootstrap.js';
import { dynamoDbLocalInstalled, startDynamoDbLocal } from './dynamodb-local.js';
import { type Emulator, startEmulator } from './emulator.js';
import { functionEnvironment, platformEnvironment, workerEnvironment } from './environments.js';
import { type FunctionSet, startFunctions } from './functions.js';
import { createGateway, send } from './gateway.js';
import { localMetrics } from './local-metrics.js';
import { openDataDir } from './persistence.js';
import { watchQueueDepths } from './queue-gauges.js';
import { startQueueTrigger, startScheduleTrigger } from './queue-trigger.js';
import { portalHandler } from './static-portal.js';
import { openLog, WorkerFleet } from './worker-processes.js';

export const DEFAULT_API_KEY = 'sk-openbatch-local';

export interface LocalRuntimeOptions {
  port?: number;
  host?: string;
  /** Resource name prefix, as the CDK app's per-environment prefix. */
  prefix?: string;
  /** api key → tenant. Default: OPENBATCH_API_KEY (or the documented dev key) → tenant `local`. */
  apiKeys?: Record<string, string>;
  /** An AWS endpoint already running (LocalStack); otherwise moto is started. */
  awsEndpoint?: string;
  workers?: { spot: number; dedicated: number };
  /** Extra environment for functions and workers (limits, simulated engine settings, ENGINE_URL…). */
  env?: Record<string, string>;
  workerVisibilityTimeoutSeconds?: number;
  slaEverySeconds?: number;
  /**
   * Which DynamoDB to run locally: `local` (DynamoDB Local, the default when installed) or `moto`.
   * moto rolls a failed transaction back by restoring whole-table snapshots, which wipes writes
   * made concurrently by other requests; DynamoDB Local does not. Env: OPENBATCH_DYNAMODB.
   */
  dynamoDb?: 'local' | 'moto';
  /**
   * Where S3, SQS and DynamoDB data outlast a restart (persistence.ts); `npm start` uses
   * `.openbatch/data`. Unset: everything is in memory and gone at close (tests).
   */
  dataDir?: string;
  /** Empty `dataDir` before starting. */
  fresh?: boolean;
  /**
   * Play the WAF body-size guard (cdk/config.ts `api.bodySizeGuard`); false mirrors an
   * environment deployed without it. Default: true.
   */
  bodySizeGuard?: boolean;
  /** Where worker logs go; default `.openbatch/workers.log`. */
  workerLog?: string;
  root?: string;
}

export interface LocalRuntime {
  url: string;
  apiKey: string;
  /** The emulator's endpoint and credentials, and every resource's variable (for tests to inspect). */
  env: Record<string, string>;
  /** Exactly the environment `name` runs with. */
  functionEnv(name: FunctionName): Record<string, string>;
  /** The process each function runs in. */
  functionPids(): Record<string, number | undefined>;
  aws: AwsClients;
  fleet: WorkerFleet;
  emulator: Emulator;
  /** DynamoDB Local, when the runtime started it. */
  dynamoDbLocal: Emulator | undefined;
  runSlaMonitor(): Promise<void>;
  close(): Promise<void>;
}

/**
 * `npm start`: the whole of openbatch on one machine. The emulator stands in for AWS, this
 * process stands in for API Gateway, Lambda event sources and EventBridge, and worker
 * processes stand in for the ECS services. The code it runs is the code that runs on AWS.
 */
export async function startLocalRuntime(opts: LocalRuntimeOptions = {}): Promise<LocalRuntime> {
  const root = opts.root ?? process.cwd();
  const stateDir = resolve(root, '.openbatch');
  mkdirSync(stateDir, { recursive: true });
  const apiKey = process.env.OPENBATCH_API_KEY ?? DEFAULT_API_KEY;
  const apiKeys = opts.apiKeys ?? { [apiKey]: 'local' };

  const useDynamoDbLocal =
    !opts.awsEndpoint &&
    (opts.dynamoDb ?? process.env.OPENBATCH_DYNAMODB ?? 'local') === 'local' &&
    dynamoDbLocalInstalled(root);
  const data =
    opts.dataDir && !opts.awsEndpoint ? await openDataDir(opts.dataDir, { fresh: opts.fresh }) : undefined;
  const [emulator, dynamoDbLocal] = await Promise.all([
    startEmulator({ endpoint: opts.awsEndpoint, root, stateFile: data?.motoStateFile }),
    useDynamoDbLocal ? startDynamoDbLocal(root, { dbPath: data?.dynamoDbPath }) : undefined,
  ]);
  data?.recordEmulators([emulator.pid, dynamoDbLocal?.pid]);
  const awsEnv = {
    AWS_ENDPOINT_URL: emulator.endpoint,
    ...(dynamoDbLocal ? { AWS_ENDPOINT_URL_DYNAMODB: dynamoDbLocal.endpoint } : {}),
    AWS_REGION: process.env.AWS_REGION ?? 'us-east-1',
    AWS_ACCESS_KEY_ID: process.env.AWS_ACCESS_KEY_ID ?? 'test',
    AWS_SECRET_ACCESS_KEY: process.env.AWS_SECRET_ACCESS_KEY ?? 'test',
    AWS_EMF_ENVIRONMENT: 'Local',
  };
  // This process plays AWS's services (event sources, gateway): its own clients use the emulator.
  Object.assign(process.env, awsEnv);
  const aws = createAwsClients(awsEnv);
  const prefix = opts.prefix ?? 'openbatch-local';
  // The model catalog (MODEL_CATALOG, else MODELS, else the simulated models): one set of queues
  // and workers per pool group.
  const limits = readConfig(limitsSchema, opts.env ?? {});
  const catalog = catalogOf(limits);
  const groups = poolGroups(catalog);
  const resourceEnv = await bootstrapResources(aws, {
    prefix,
    apiKeys,
    poolGroups: groups,
    ...(opts.workerVisibilityTimeoutSeconds
      ? { workerVisibilityTimeoutSeconds: opts.workerVisibilityTimeoutSeconds }
      : {}),
  });
  const workers = opts.workers ?? { spot: 1, dedicated: 1 };
  // core/policy is told the fleet this runtime runs: every worker always running (SLA_* settings).
  const settings: Record<string, string> = {
    SLA_SPOT_MIN_TASKS: String(workers.spot),
    SLA_SPOT_MAX_TASKS: String(workers.spot),
    SLA_DEDICATED_MIN_TASKS: String(workers.dedicated),
    SLA_DEDICATED_MAX_TASKS: String(workers.dedicated),
    // A batch keeps queued half of what the larger pool's workers hold at once, as the CDK app
    // sets it (cdk/lib/environment.ts `dispatchWindow`).
    DISPATCH_WINDOW_CHUNKS: String(
      dispatchWindow(
        Math.max(workers.spot, workers.dedicated),
        workerSchema.pick({ CHUNKS_IN_PARALLEL: true }).parse(opts.env ?? {}).CHUNKS_IN_PARALLEL,
      ),
    ),
    // Batches expire at their window's second, whatever the sweep period (a long one turns it off).
    SLA_EXPIRY_LOOKAHEAD_SECONDS: String(
      expiryLookaheadSeconds(opts.slaEverySeconds ?? slaMonitorPeriodSeconds()),
    ),
    ...(opts.env ?? {}),
  };
  const env: Record<string, string> = { ...awsEnv, ...resourceEnv, ...settings };
  const inputs = {
    platform: platformEnvironment(awsEnv),
    settings,
    resources: resourceEnv,
    prefix,
  };
  const functionEnv = (name: FunctionName) => functionEnvironment(name, inputs);
  // Each function runs in a process of its own with exactly its environment, memory and grants.
  const functionSet: FunctionSet = await startFunctions(root, functionEnv);
  const fns = functionSet.functions;
  const stops: (() => Promise<void>)[] = [];
  let slaRun: (() => Promise<void>) | undefined;
  for (const fn of fns.values()) {
    for (const t of fn.decl.triggers) {
      if (t.kind === 'queue') {
        const url = resourceEnv[queues[t.queue].env] ?? '';
        const attrs = await aws.sqs.send(
          new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['QueueArn'] }),
        );
        const trigger = startQueueTrigger({
          sqs: aws.sqs,
          queueUrl: url,
          queueArn: attrs.Attributes?.QueueArn ?? '',
          batchSize: t.batchSize,
          fn,
          concurrency: t.maxConcurrency ?? 2,
        });
        stops.push(trigger.stop);
      }
      if (t.kind === 'schedule') {
        const trigger = startScheduleTrigger(fn, opts.slaEverySeconds ?? t.everySeconds);
        if (fn.name === 'slaMonitor') slaRun = trigger.runNow;
        stops.push(trigger.stop);
      }
    }
  }

  const poolQueueUrls = parsePoolQueueUrls(resourceEnv[POOL_QUEUE_URLS]);
  // Queue depths for the local GET /metrics (on AWS, SQS publishes them itself), from a client
  // whose calls are not counted among openbatch's.
  const stopWatching = watchQueueDepths(
    createAwsClients(awsEnv, new CallCounter()).sqs,
    [
      ...(Object.entries(queues) as [QueueName, (typeof queues)[QueueName]][]).flatMap(([name, q]) => {
        const url = resourceEnv[q.env];
        const dlq = resourceEnv[dlqEnv(q.env)];
        return [
          ...(url ? [{ name, url }] : []),
          ...(dlq ? [{ name: `${name}${deadLetterSuffix}`, url: dlq }] : []),
        ];
      }),
      ...Object.entries(poolQueueUrls).flatMap(([group, urls]) =>
        (['spot', 'dedicated'] as const).map((pool) => ({
          name: poolQueueLogical(pool, group),
          url: urls[pool],
        })),
      ),
    ],
    (flush) => localMetrics.add(flush),
  );
  stops.push(async () => stopWatching());

  const fleet = new WorkerFleet(
    root,
    {
      ...workerEnvironment(inputs),
      RECEIVE_WAIT_SECONDS: '1',
      ...(opts.workerVisibilityTimeoutSeconds
        ? { VISIBILITY_TIMEOUT_SECONDS: String(opts.workerVisibilityTimeoutSeconds) }
        : {}),
    },
    openLog(opts.workerLog ?? resolve(stateDir, 'workers.log')),
    // Killed, this process leaves the emulators up until the workers have wound down.
    [emulator.lifeline, dynamoDbLocal?.lifeline],
  );
  // Per pool group: its workers consume its queues, send on and hand reclaimed work to its queues
  // and call its engine (the catalog's engine_url, else ENGINE_URL, else the simulated engine).
  for (const group of groups) {
    const urls =
      group === DEFAULT_POOL_GROUP
        ? {
            spot: resourceEnv[queues.spot.env] ?? '',
            dedicated: resourceEnv[queues.dedicated.env] ?? '',
          }
        : poolQueueUrls[group];
    if (!urls) throw new Error(`no queues for pool group '${group}'`);
    const engineUrl = engineUrlOf(catalog, group);
    const groupEnv = {
      POOL_GROUP: group,
      // A completed chunk sends its batch's next one to the batch's pool (core/chunks/dispatch.ts).
      [queues.spot.env]: urls.spot,
      [queues.dedicated.env]: urls.dedicated,
      ...(engineUrl ? { ENGINE_URL: engineUrl } : {}),
    };
    for (const [pool, decl] of Object.entries(workerPools) as [PoolName, (typeof workerPools)[PoolName]][]) {
      fleet.start(pool, workers[pool], urls[decl.queue === 'spot' ? 'spot' : 'dedicated'], groupEnv);
    }
  }

  let url = '';
  // The portal sends files above the API's direct-upload limit through pre-signed parts.
  // and its create form offers the completion windows the deployment allows.
  const portal = portalHandler(resolve(root, 'portal/dist'), () => ({
    apiBaseUrl: `${url}/v1`,
    environment: 'local',
    directUploadLimitBytes: limits.MAX_API_UPLOAD_BYTES,
    completionWindows: limits.COMPLETION_WINDOWS,
  }));
  const gateway: Server = createGateway({
    functions: fns,
    ...(opts.bodySizeGuard === undefined ? {} : { bodySizeGuard: opts.bodySizeGuard }),
    before: (req, res) => {
      if (req.url === '/healthz') {
        send(res, 200, {
          status: 'ok',
          endpoint: emulator.endpoint,
          dynamodb: dynamoDbLocal?.endpoint ?? emulator.endpoint,
          prefix,
        });
        return true;
      }
      return portal(req, res);
    },
  });
  const host = opts.host ?? '127.0.0.1';
  await new Promise<void>((res) => gateway.listen(opts.port ?? 8080, host, res));
  const address = gateway.address();
  const port = typeof address === 'object' && address ? address.port : opts.port;
  url = `http://${host}:${port}`;
  log.info('openbatch is running', {
    api: `${url}/v1`,
    aws: emulator.endpoint,
    prefix,
    queues: physicalName(prefix, 'spot'),
  });

  return {
    url,
    apiKey,
    env,
    functionEnv,
    functionPids: () => functionSet.pids(),
    aws,
    fleet,
    emulator,
    dynamoDbLocal,
    runSlaMonitor: async () => {
      await slaRun?.();
    },
    close: async () => {
      await new Promise<void>((res) => gateway.close(() => res()));
      gateway.closeAllConnections();
      await fleet.stop();
      await Promise.all(stops.map((s) => s()));
      await functionSet.close();
      await Promise.all([emulator.stop(), dynamoDbLocal?.stop()]);
      data?.release();
    },
  };
}
