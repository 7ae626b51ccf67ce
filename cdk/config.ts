import { MAX_REQUEST_BODY_BYTES } from '../core/app/api-limits.js';
import type { PoolName, QueueName } from '../core/app/declaration.js';
import { queues, workerPools } from '../core/app/declaration.js';
import { limitsSchema, slaSchema } from '../core/config.js';
import { DEFAULT_POOL_GROUP, poolGroupName } from '../core/models/catalog.js';

/**
 * Per-environment configuration of the CDK app, in one typed place. Everything that differs
 * between dev, staging and prod lives here; everything that is the same everywhere (which
 * functions, queues and tables exist, and how they are wired) lives in core/app/declaration.ts.
 *
 * Select an environment with `cdk synth -c env=dev|staging|prod`.
 */

export const environmentNames = ['dev', 'staging', 'prod'] as const;
export type EnvironmentName = (typeof environmentNames)[number];

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

/** Retention periods CloudWatch Logs accepts, in days. */
export const logRetentionDays = [
  1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653,
] as const;

export interface PoolConfig {
  /**
   * GPU instance types the pool's Auto Scaling group may launch (one NVIDIA GPU family each:
   * g4dn, g5, g6, g6e, gr6, p3, p4d, p4de, p5, p5e, p5en, p6). Several types give Spot more
   * capacity pools to draw from; for On-Demand the order is the order of preference.
   */
  readonly instanceTypes: readonly string[];
  /** Workers kept running when there is no work. @default 0 (scale to zero) */
  readonly minWorkers: number;
  /**
   * Most workers (tasks, one GPU engine each). While work waits, the pool runs
   * ceil(backlog / worker.chunksInParallel) workers up to this many.
   */
  readonly maxWorkers: number;
}

/**
 * A container image in the deploying account's private ECR registry (the stack's account and
 * region), so that GPU instances never pull anonymously from a public registry behind a NAT.
 */
export interface EcrImageConfig {
  /**
   * Repository name. For a pull-through cache repository: the rule's prefix, then the upstream
   * path (`docker-hub/vllm/vllm-openai`, `ecr-public/aws-cli/aws-cli`); see docs/deploy.md.
   */
  readonly repository: string;
  /** A fixed tag or a digest (`sha256:...`); `latest` is refused. */
  readonly tag: string;
  /**
   * The repository is filled by an ECR pull-through cache rule on first pull: the pulling role
   * then also needs ecr:BatchImportUpstreamImage and ecr:CreateRepository on it. @default false
   */
  readonly pullThroughCache?: boolean;
}

/** The GPU AMI of the worker instances. */
export type AmiConfig =
  /** A fixed AMI id: instances are replaced only when you change it. */
  | { readonly id: string }
  /**
   * An SSM parameter holding an AMI id, read at every deploy (a new AMI behind the parameter
   * replaces the instances on the next deploy).
   */
  | { readonly ssmParameter: string };

/** The ECS-optimized Amazon Linux 2023 GPU AMI that AWS currently recommends. */
export const recommendedGpuAmiParameter =
  '/aws/service/ecs/optimized-ami/amazon-linux-2023/gpu/recommended/image_id';

export interface WeightsConfig {
  /**
   * Size of the staged model directory (weights, tokenizer, config), GiB, rounded up. Drives the
   * start-up arithmetic that `engineStartup` checks (docs/deploy.md).
   */
  readonly sizeGiB: number;
  /** Key prefix of the model's files in the models bucket. @default the model id */
  readonly s3Prefix?: string;
}

export interface EngineHealthConfig {
  /** Grace period before failed checks count; ECS allows at most 300 s. */
  readonly startPeriodSeconds: number;
  readonly intervalSeconds: number;
  /** Consecutive failures after the grace period that make the engine unhealthy (1-10). */
  readonly retries: number;
}

export interface EngineConfig {
  /** OpenAI-compatible inference server image (vLLM by default), from private ECR. */
  readonly image: EcrImageConfig;
  /** Model the engine serves (a Hugging Face id for vLLM); its files are staged in S3 (docs/deploy.md). */
  readonly model: string;
  /** The staged model files: loaded from the models bucket at task start, never from the internet. */
  readonly weights: WeightsConfig;
  /**
   * Seconds the engine needs after it starts, besides reading the weights: CUDA start-up,
   * torch.compile on an instance whose compile cache is still empty, CUDA graph capture.
   */
  readonly startupSeconds: number;
  readonly health: EngineHealthConfig;
  /** Name under which the engine serves the model; batches for other models are rejected. @default model */
  readonly servedModelName?: string;
  /** GPUs reserved per task. */
  readonly gpus: number;
  /** Memory reserved for the engine container, MiB. */
  readonly memoryMiB: number;
  /** Shared memory for the engine (PyTorch workers), MiB. */
  readonly sharedMemoryMiB: number;
  /** Extra command-line arguments for the engine (after the model and port). */
  readonly extraArgs: readonly string[];
  /**
   * The engine's whole command line (entry point included), for an engine other than vLLM. It
   * must listen on port 8000 and load the model from /models/weights/<s3Prefix>.
   * @default `vllm serve <model directory> --served-model-name … --port 8000 …extraArgs`
   */
  readonly command?: readonly string[];
  /**
   * Shell command that succeeds once the engine serves (a container health check).
   * @default GET http://localhost:8000/health with the image's python3 (vLLM)
   */
  readonly healthCheck?: string;
}

export interface WorkerConfig {
  /**
   * A pre-built gpu-worker image (e.g. an ECR URI pushed by CI). @default built by CDK from
   * gpu-worker/Dockerfile at deploy time (needs Docker on the deploying machine)
   */
  readonly image?: string;
  /**
   * ENGINE_CONCURRENCY: requests one worker keeps in flight against its engine, shared by all
   * the chunks it holds: the engine's capacity (vLLM's --max-num-seqs, and its memory).
   */
  readonly engineConcurrency: number;
  /** CHUNKS_IN_PARALLEL: chunks one worker works on at once. */
  readonly chunksInParallel: number;
  /** Memory reserved for the worker container, MiB. */
  readonly memoryMiB: number;
}

/**
 * One model of an environment's catalog (MODEL_CATALOG, docs/deploy.md "Models and pools"): the
 * engine that serves it and the pool group (one spot and one on-demand worker pool, each with
 * its own queue and DLQ) that runs it.
 */
export interface ModelConfig {
  /** The name requests use (`body.model`); the engine serves the model under it. */
  readonly id: string;
  /**
   * The pool group that runs it: lowercase letters, digits and hyphens, at most 24 (it becomes
   * part of queue and service names). One model per group; exactly one model is on `default`,
   * the group on the environment's original queues and services. @default 'default'
   */
  readonly group?: string;
  /** Its engine. `servedModelName` is ignored: the engine serves it as `id`. @default the environment's `engine` */
  readonly engine?: EngineConfig;
  /** Its two pools. @default the environment's `pools` */
  readonly pools?: Readonly<Record<PoolName, PoolConfig>>;
}

/** A model of the environment with its defaults filled in (`modelsOf`). */
export interface ResolvedModel {
  readonly id: string;
  readonly group: string;
  readonly engine: EngineConfig;
  readonly pools: Readonly<Record<PoolName, PoolConfig>>;
}

export interface DomainConfig {
  /** Host name the portal (and the API under /v1) is served on, e.g. batch.example.com. */
  readonly name: string;
  /** ACM certificate for `name`; CloudFront requires it to be in us-east-1. */
  readonly certificateArn: string;
}

export interface EnvironmentConfig {
  readonly name: EnvironmentName;
  /** Target account; unset synthesizes an account-agnostic app (the account comes from the deploying credentials). */
  readonly account?: string;
  readonly region: string;
  /** Prefix of every physical name: buckets, tables, queues, functions, stacks. */
  readonly prefix: string;
  readonly logLevel: LogLevel;
  /** CloudWatch Logs retention for functions, workers, API access logs, flow logs. */
  readonly logRetentionDays: (typeof logRetentionDays)[number];
  /** Uploaded, output and error files expire after this many days (S3 lifecycle and FILE_RETENTION_DAYS). */
  readonly fileRetentionDays: number;
  /** Incomplete multipart uploads are aborted after this many days. */
  readonly abortIncompleteUploadsAfterDays: number;
  /** Browser origins allowed to call the API directly (CORS). The portal is same-origin and needs none. */
  readonly allowedOrigins: readonly string[];
  /** Custom domain for the portal and API. @default the CloudFront domain */
  readonly domain?: DomainConfig;
  readonly api: {
    /** Steady-state requests per second across the API stage. */
    readonly rateLimit: number;
    readonly burstLimit: number;
    /** How long API Gateway caches the authorizer's answer per key. */
    readonly authorizerCacheSeconds: number;
    /**
     * An AWS WAF web ACL on the stage refuses requests whose Content-Length is above
     * MAX_REQUEST_BODY_BYTES (core/app/api-limits.ts) with OpenAI's 413 pointing at the Uploads
     * API. Without it, bodies between that and API Gateway's 10 MB reach Lambda over its 6 MB
     * payload limit and get a 5xx. WAF bills per web ACL, rule and request (docs/deploy.md,
     * "Request size limits").
     * @default true
     */
    readonly bodySizeGuard?: boolean;
  };
  /** The pools of the model on the `default` group, and of every model that names none. */
  readonly pools: Readonly<Record<PoolName, PoolConfig>>;
  /** The engine of the model on the `default` group, and of every model that names none. */
  readonly engine: EngineConfig;
  /**
   * The models batches may name, each on its own pool group (`modelsOf`). The policy decides each
   * group's pools within their own minWorkers and maxWorkers (the model catalog carries them,
   * cdk/lib/environment.ts `modelCatalog`), and each group's scaling stops at its maxWorkers.
   * @default one model, `engine` served as its servedModelName, on the `default` group
   */
  readonly models?: readonly ModelConfig[];
  readonly worker: WorkerConfig;
  readonly network: {
    /** NAT gateways; 0 puts GPU instances in public subnets (public IP, no inbound rules) to save the NAT cost. */
    readonly natGateways: number;
  };
  readonly instances: {
    /** GPU AMI. @default the ECS-optimized AL2023 GPU AMI AWS recommends now (`recommendedGpuAmiParameter`) */
    readonly ami?: AmiConfig;
    /** Root gp3 volume (engine image, model files, vLLM compile cache), GiB. */
    readonly volumeGiB: number;
    /** Provisioned gp3 throughput, MiB/s (125-1000, at most 0.25 MiB/s per provisioned IOPS). */
    readonly volumeThroughputMiBps: number;
    /** Provisioned gp3 IOPS (3,000-16,000). */
    readonly volumeIops: number;
    /** Image of the init container that copies the model files from S3 to the instance volume (AWS CLI). */
    readonly modelSyncImage: EcrImageConfig;
    /**
     * Image of the collector beside each worker that sends its spans to X-Ray (the AWS Distro for
     * OpenTelemetry collector). @default `adotCollector`, through the ECR Public pull-through cache
     */
    readonly collectorImage?: EcrImageConfig;
  };
  readonly scaling: {
    /** Minutes with neither visible nor in-flight messages before a pool scales to zero. */
    readonly idleMinutesBeforeScaleToZero: number;
  };
  readonly alarms: {
    /** Alarm notifications go to this address (an SNS email subscription). @default no subscription */
    readonly email?: string;
    /** Oldest visible message older than this (seconds) means the queue is behind its SLA. */
    readonly maxMessageAgeSeconds: Readonly<Record<QueueName, number>>;
    /** Lambda errors per 5 minutes that raise an alarm. */
    readonly functionErrors: number;
    /** API 5XX responses per 5 minutes that raise an alarm. */
    readonly api5xx: number;
  };
  /** Keep buckets and tables when the stack is deleted, and protect tables from deletion. */
  readonly retainData: boolean;
  /**
   * Settings handed to every function and worker as environment variables (limits and SLA
   * settings from core/config.ts, e.g. COMPLETION_WINDOWS). Validated with the same schemas.
   * @default none (the code's defaults)
   */
  readonly settings?: Readonly<Record<string, string>>;
}

/**
 * Memory (GiB) and NVIDIA GPUs of the instance types a pool may list. A worker task (engine
 * plus worker) must fit on every listed type, so the configuration is checked against these
 * figures; add a type here to allow it.
 */
export const gpuInstanceTypes: Readonly<Record<string, { memoryGiB: number; gpus: number; vcpus: number }>> =
  {
    'g4dn.xlarge': { memoryGiB: 16, gpus: 1, vcpus: 4 },
    'g4dn.2xlarge': { memoryGiB: 32, gpus: 1, vcpus: 8 },
    'g4dn.4xlarge': { memoryGiB: 64, gpus: 1, vcpus: 16 },
    'g4dn.8xlarge': { memoryGiB: 128, gpus: 1, vcpus: 32 },
    'g4dn.12xlarge': { memoryGiB: 192, gpus: 4, vcpus: 48 },
    'g5.xlarge': { memoryGiB: 16, gpus: 1, vcpus: 4 },
    'g5.2xlarge': { memoryGiB: 32, gpus: 1, vcpus: 8 },
    'g5.4xlarge': { memoryGiB: 64, gpus: 1, vcpus: 16 },
    'g5.8xlarge': { memoryGiB: 128, gpus: 1, vcpus: 32 },
    'g5.12xlarge': { memoryGiB: 192, gpus: 4, vcpus: 48 },
    'g5.24xlarge': { memoryGiB: 384, gpus: 4, vcpus: 96 },
    'g5.48xlarge': { memoryGiB: 768, gpus: 8, vcpus: 192 },
    'g6.xlarge': { memoryGiB: 16, gpus: 1, vcpus: 4 },
    'g6.2xlarge': { memoryGiB: 32, gpus: 1, vcpus: 8 },
    'g6.4xlarge': { memoryGiB: 64, gpus: 1, vcpus: 16 },
    'g6.8xlarge': { memoryGiB: 128, gpus: 1, vcpus: 32 },
    'g6.12xlarge': { memoryGiB: 192, gpus: 4, vcpus: 48 },
    'g6.24xlarge': { memoryGiB: 384, gpus: 4, vcpus: 96 },
    'g6.48xlarge': { memoryGiB: 768, gpus: 8, vcpus: 192 },
    'g6e.xlarge': { memoryGiB: 32, gpus: 1, vcpus: 4 },
    'g6e.2xlarge': { memoryGiB: 64, gpus: 1, vcpus: 8 },
    'g6e.4xlarge': { memoryGiB: 128, gpus: 1, vcpus: 16 },
    'g6e.12xlarge': { memoryGiB: 384, gpus: 4, vcpus: 48 },
    'g6e.24xlarge': { memoryGiB: 768, gpus: 4, vcpus: 96 },
    'g6e.48xlarge': { memoryGiB: 1536, gpus: 8, vcpus: 192 },
    'p4d.24xlarge': { memoryGiB: 1152, gpus: 8, vcpus: 96 },
    'p5.48xlarge': { memoryGiB: 2048, gpus: 8, vcpus: 192 },
  };

/** Memory the OS and the ECS agent keep on a container instance, MiB. */
const instanceOverheadMiB = 1024;

/** Memory reserved for the model-sync init container (the AWS CLI copying from S3), MiB. */
export const modelSyncMemoryMiB = 256;

/**
 * vLLM's OpenAI-compatible server, through the account's Docker Hub pull-through cache (one rule
 * per account and region, created once: docs/deploy.md). Docker Hub requires credentials for a
 * pull-through cache rule, so the rule needs a Secrets Manager secret `ecr-pullthroughcache/...`.
 */
const vllm: EcrImageConfig = {
  repository: 'docker-hub/vllm/vllm-openai',
  tag: 'v0.11.0',
  pullThroughCache: true,
};

/**
 * The AWS Distro for OpenTelemetry collector (public.ecr.aws/aws-observability/aws-otel-collector),
 * through the account's ECR Public pull-through cache: the worker's spans to X-Ray.
 */
export const adotCollector: EcrImageConfig = {
  repository: 'ecr-public/aws-observability/aws-otel-collector',
  tag: 'v0.42.0',
  pullThroughCache: true,
};

/** The AWS CLI, through the account's ECR Public pull-through cache (no credential needed). */
const awsCli: EcrImageConfig = {
  repository: 'ecr-public/aws-cli/aws-cli',
  tag: '2.32.2',
  pullThroughCache: true,
};

/**
 * ECS accepts at most 300 s of start period; 10 retries at 30 s give the engine up to
 * 300 + 10 × 30 = 600 s to serve before ECS replaces the task.
 */
const engineHealth: EngineHealthConfig = { startPeriodSeconds: 300, intervalSeconds: 30, retries: 10 };

/** The engine staging and prod share, so staging tests what prod runs. */
const qwen7b: EngineConfig = {
  image: vllm,
  model: 'Qwen/Qwen2.5-7B-Instruct',
  // 4 safetensors shards of bf16 weights, 15.2 GB, plus tokenizer and config files.
  weights: { sizeGiB: 15 },
  startupSeconds: 180,
  health: engineHealth,
  gpus: 1,
  memoryMiB: 12288,
  sharedMemoryMiB: 4096,
  extraArgs: ['--max-model-len', '16384', '--gpu-memory-utilization', '0.92'],
};

/** gp3 at 500 MiB/s (3,000 IOPS allow up to 750 MiB/s): see docs/deploy.md for the arithmetic. */
const instances = {
  volumeGiB: 200,
  volumeThroughputMiBps: 500,
  volumeIops: 3000,
  modelSyncImage: awsCli,
} as const;

const base = {
  region: 'us-east-1',
  abortIncompleteUploadsAfterDays: 1,
  allowedOrigins: [],
  api: { rateLimit: 100, burstLimit: 200, authorizerCacheSeconds: 300 },
  // 64 in flight per worker, as before the budget was shared (32 per chunk, 2 chunks).
  worker: { engineConcurrency: 64, chunksInParallel: 2, memoryMiB: 1024 },
  network: { natGateways: 0 },
  instances,
  scaling: { idleMinutesBeforeScaleToZero: 5 },
} as const;

export const environments: Readonly<Record<EnvironmentName, EnvironmentConfig>> = {
  dev: {
    ...base,
    name: 'dev',
    prefix: 'openbatch-dev',
    logLevel: 'debug',
    logRetentionDays: 14,
    fileRetentionDays: 7,
    // The portal's Vite dev server may talk to the deployed dev API.
    allowedOrigins: ['http://localhost:5173'],
    api: { rateLimit: 50, burstLimit: 100, authorizerCacheSeconds: 300 },
    pools: {
      spot: { instanceTypes: ['g6.xlarge', 'g5.xlarge', 'g4dn.xlarge'], minWorkers: 0, maxWorkers: 2 },
      dedicated: { instanceTypes: ['g6.xlarge', 'g5.xlarge'], minWorkers: 0, maxWorkers: 1 },
    },
    engine: {
      image: vllm,
      model: 'Qwen/Qwen2.5-1.5B-Instruct',
      // bf16 weights, 3.1 GB, plus tokenizer and config files.
      weights: { sizeGiB: 3 },
      startupSeconds: 120,
      health: engineHealth,
      gpus: 1,
      memoryMiB: 10240,
      sharedMemoryMiB: 2048,
      extraArgs: ['--max-model-len', '8192'],
    },
    alarms: {
      maxMessageAgeSeconds: { scheduling: 900, spot: 6 * 3600, dedicated: 3600, finalizing: 900 },
      functionErrors: 5,
      api5xx: 10,
    },
    retainData: false,
  },
  staging: {
    ...base,
    name: 'staging',
    prefix: 'openbatch-staging',
    logLevel: 'info',
    logRetentionDays: 30,
    fileRetentionDays: 14,
    pools: {
      spot: {
        instanceTypes: ['g6.xlarge', 'g6.2xlarge', 'g5.xlarge', 'g5.2xlarge'],
        minWorkers: 0,
        maxWorkers: 4,
      },
      dedicated: { instanceTypes: ['g6.xlarge', 'g5.xlarge'], minWorkers: 0, maxWorkers: 2 },
    },
    engine: qwen7b,
    network: { natGateways: 1 },
    alarms: {
      maxMessageAgeSeconds: { scheduling: 900, spot: 6 * 3600, dedicated: 3600, finalizing: 900 },
      functionErrors: 3,
      api5xx: 5,
    },
    retainData: true,
  },
  prod: {
    ...base,
    name: 'prod',
    prefix: 'openbatch-prod',
    logLevel: 'info',
    logRetentionDays: 90,
    fileRetentionDays: 30,
    api: { rateLimit: 500, burstLimit: 1000, authorizerCacheSeconds: 300 },
    pools: {
      spot: {
        instanceTypes: ['g6.xlarge', 'g6.2xlarge', 'g6.4xlarge', 'g5.xlarge', 'g5.2xlarge', 'g5.4xlarge'],
        minWorkers: 0,
        maxWorkers: 20,
      },
      dedicated: {
        instanceTypes: ['g6.xlarge', 'g5.xlarge', 'g6.2xlarge', 'g5.2xlarge'],
        minWorkers: 0,
        maxWorkers: 6,
      },
    },
    engine: qwen7b,
    network: { natGateways: 2 },
    alarms: {
      maxMessageAgeSeconds: { scheduling: 600, spot: 4 * 3600, dedicated: 1800, finalizing: 600 },
      functionErrors: 1,
      api5xx: 5,
    },
    retainData: true,
  },
};

export class EnvironmentConfigError extends Error {
  override readonly name = 'EnvironmentConfigError';
  constructor(
    readonly environment: string,
    readonly problems: readonly string[],
  ) {
    super(`Invalid configuration for environment '${environment}':\n  - ${problems.join('\n  - ')}`);
  }
}

const isInt = (n: number, min: number) => Number.isInteger(n) && n >= min;
const hostname = /^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/;

/** Every problem with a configuration, so that all of them are reported at once. */
export function configProblems(c: EnvironmentConfig): string[] {
  const p: string[] = [];
  if (!(environmentNames as readonly string[]).includes(c.name))
    p.push(`name: unknown environment '${c.name}'`);
  if (c.account !== undefined && !/^\d{12}$/.test(c.account))
    p.push('account: must be a 12-digit AWS account id');
  if (!/^[a-z]{2}(-gov)?-[a-z]+-\d$/.test(c.region)) p.push(`region: '${c.region}' is not an AWS region`);
  // Bucket names (prefix-files-<account>-<region>) must stay within S3's 63 characters.
  if (!/^[a-z][a-z0-9-]{1,22}[a-z0-9]$/.test(c.prefix))
    p.push('prefix: lower-case letters, digits and dashes, 3-24 characters, starting with a letter');
  if (!['debug', 'info', 'warn', 'error'].includes(c.logLevel))
    p.push(`logLevel: '${c.logLevel}' is not a level`);
  if (!(logRetentionDays as readonly number[]).includes(c.logRetentionDays))
    p.push(`logRetentionDays: ${c.logRetentionDays} is not a CloudWatch Logs retention period`);
  if (!isInt(c.fileRetentionDays, 1)) p.push('fileRetentionDays: must be a whole number of days, at least 1');
  if (!isInt(c.abortIncompleteUploadsAfterDays, 1))
    p.push('abortIncompleteUploadsAfterDays: must be a whole number of days, at least 1');
  for (const origin of c.allowedOrigins) {
    if (!/^https?:\/\/[^/\s]+$/.test(origin))
      p.push(`allowedOrigins: '${origin}' must be a scheme and host without a path`);
  }
  if (c.domain) {
    if (!hostname.test(c.domain.name)) p.push(`domain.name: '${c.domain.name}' is not a host name`);
    if (!/^arn:aws[a-z-]*:acm:us-east-1:\d{12}:certificate\/[0-9a-f-]+$/.test(c.domain.certificateArn))
      p.push('domain.certificateArn: must be an ACM certificate in us-east-1 (CloudFront requires it)');
  }
  if (!(c.api.rateLimit > 0)) p.push('api.rateLimit: must be positive');
  if (!isInt(c.api.burstLimit, 1)) p.push('api.burstLimit: must be a positive whole number');
  if (!isInt(c.api.authorizerCacheSeconds, 0) || c.api.authorizerCacheSeconds > 3600)
    p.push('api.authorizerCacheSeconds: must be between 0 and 3600');
  if (c.api.bodySizeGuard !== undefined && typeof c.api.bodySizeGuard !== 'boolean')
    p.push('api.bodySizeGuard: true or false');
  p.push(...poolProblems('pools', c.pools, c.engine, c));
  p.push(...engineProblems('engine', c.engine, c));
  p.push(...modelProblems(c));
  if (
    c.worker.image !== undefined &&
    !/^[\w.-]+(:\d+)?(\/[\w.-]+)+(:[\w.-]+|@sha256:[0-9a-f]{64})$/.test(c.worker.image)
  )
    p.push(`worker.image: '${c.worker.image}' must be a registry image pinned to a tag or digest`);
  if (!isInt(c.worker.engineConcurrency, 1)) p.push('worker.engineConcurrency: at least 1');
  if (!isInt(c.worker.chunksInParallel, 1)) p.push('worker.chunksInParallel: at least 1');
  if (!isInt(c.worker.memoryMiB, 256)) p.push('worker.memoryMiB: at least 256');
  if (!isInt(c.network.natGateways, 0) || c.network.natGateways > 3)
    p.push('network.natGateways: between 0 and 3');
  const i = c.instances;
  const minVolumeGiB = minimumVolumeGiB(c);
  if (!isInt(i.volumeGiB, minVolumeGiB))
    p.push(
      `instances.volumeGiB: at least ${minVolumeGiB} (GPU AMI and engine image ${volumeBaseGiB} GiB, twice the model files, compile cache)`,
    );
  if (!isInt(i.volumeIops, 3000) || i.volumeIops > 16000)
    p.push('instances.volumeIops: gp3 takes 3,000-16,000');
  if (!isInt(i.volumeThroughputMiBps, 125) || i.volumeThroughputMiBps > 1000)
    p.push('instances.volumeThroughputMiBps: gp3 takes 125-1,000 MiB/s');
  else if (i.volumeThroughputMiBps > i.volumeIops * 0.25)
    p.push(
      `instances.volumeThroughputMiBps: gp3 allows at most 0.25 MiB/s per provisioned IOPS (${i.volumeIops * 0.25} MiB/s at ${i.volumeIops} IOPS)`,
    );
  if (i.ami && 'id' in i.ami && !/^ami-[0-9a-f]{8,17}$/.test(i.ami.id))
    p.push(`instances.ami.id: '${i.ami.id}' is not an AMI id`);
  if (i.ami && 'ssmParameter' in i.ami && !/^\/[\w./-]+$/.test(i.ami.ssmParameter))
    p.push(`instances.ami.ssmParameter: '${i.ami.ssmParameter}' is not an SSM parameter name`);
  p.push(...ecrImageProblems('instances.modelSyncImage', i.modelSyncImage));
  if (i.collectorImage) p.push(...ecrImageProblems('instances.collectorImage', i.collectorImage));
  if (!isInt(c.scaling.idleMinutesBeforeScaleToZero, 1) || c.scaling.idleMinutesBeforeScaleToZero > 60)
    p.push('scaling.idleMinutesBeforeScaleToZero: between 1 and 60');
  if (c.alarms.email !== undefined && !/^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(c.alarms.email))
    p.push(`alarms.email: '${c.alarms.email}' is not an email address`);
  for (const q of Object.keys(queues) as QueueName[]) {
    const age = c.alarms.maxMessageAgeSeconds[q];
    if (age === undefined) p.push(`alarms.maxMessageAgeSeconds.${q}: missing`);
    else if (!isInt(age, 60) || age >= queues[q].retentionSeconds)
      p.push(`alarms.maxMessageAgeSeconds.${q}: at least 60 and below the queue's retention`);
  }
  if (!isInt(c.alarms.functionErrors, 1)) p.push('alarms.functionErrors: at least 1');
  if (!isInt(c.alarms.api5xx, 1)) p.push('alarms.api5xx: at least 1');
  if (c.settings) {
    const known = new Set([...Object.keys(limitsSchema.shape), ...Object.keys(slaSchema.shape)]);
    for (const key of Object.keys(c.settings)) {
      if (!known.has(key)) p.push(`settings.${key}: not a setting of core/config.ts (limits or SLA)`);
    }
    for (const schema of [limitsSchema, slaSchema]) {
      const parsed = schema.safeParse(c.settings);
      if (!parsed.success)
        for (const issue of parsed.error.issues) p.push(`settings.${issue.path.join('.')}: ${issue.message}`);
    }
    // A larger direct upload never reaches the function: the request is refused in front of it.
    if (Number(c.settings.MAX_API_UPLOAD_BYTES) > MAX_REQUEST_BODY_BYTES)
      p.push(
        `settings.MAX_API_UPLOAD_BYTES: at most ${MAX_REQUEST_BODY_BYTES} (larger request bodies are refused before they reach a function)`,
      );
    if (c.settings.FILE_RETENTION_DAYS !== undefined)
      p.push('settings.FILE_RETENTION_DAYS: set fileRetentionDays instead (it also drives the S3 lifecycle)');
    // The catalog must name the groups whose queues and workers the app makes.
    for (const key of ['MODELS', 'MODEL_CATALOG'])
      if (c.settings[key] !== undefined)
        p.push(`settings.${key}: set models instead (the catalog follows the pools the app deploys)`);
  }
  return p;
}

/**
 * The environment's models, defaults filled in: without `models`, its one engine, served under
 * its servedModelName, on the default group.
 */
export function modelsOf(c: EnvironmentConfig): ResolvedModel[] {
  if (!c.models)
    return [
      {
        id: c.engine.servedModelName ?? c.engine.model,
        group: DEFAULT_POOL_GROUP,
        engine: c.engine,
        pools: c.pools,
      },
    ];
  return c.models.map((m) => ({
    id: m.id,
    group: m.group ?? DEFAULT_POOL_GROUP,
    engine: m.engine ?? c.engine,
    pools: m.pools ?? c.pools,
  }));
}

function modelProblems(c: EnvironmentConfig): string[] {
  if (c.models === undefined) return [];
  const p: string[] = [];
  if (c.models.length === 0) p.push('models: at least one model (or leave it unset)');
  const ids = new Set<string>();
  const groups = new Set<string>();
  for (const [i, m] of c.models.entries()) {
    const at = `models[${i}]`;
    const group = m.group ?? DEFAULT_POOL_GROUP;
    if (!m.id || /[\s,]/.test(m.id))
      p.push(`${at}.id: the model name requests use, without spaces or commas`);
    else if (ids.has(m.id)) p.push(`${at}.id: '${m.id}' is listed twice`);
    ids.add(m.id);
    const name = poolGroupName.safeParse(group);
    if (!name.success) p.push(`${at}.group: '${group}': ${name.error.issues[0]?.message}`);
    // A group's workers run one engine, so one model.
    else if (groups.has(group))
      p.push(`${at}.group: '${group}' already runs another model (one model per group)`);
    groups.add(group);
    if (m.engine) p.push(...engineProblems(`${at}.engine`, m.engine, c));
    if (m.engine || m.pools)
      p.push(...poolProblems(`${at}.pools`, m.pools ?? c.pools, m.engine ?? c.engine, c));
  }
  const onDefault = c.models.filter((m) => (m.group ?? DEFAULT_POOL_GROUP) === DEFAULT_POOL_GROUP).length;
  if (c.models.length > 0 && onDefault !== 1)
    p.push(
      `models: exactly one model on the '${DEFAULT_POOL_GROUP}' group (the environment's original queues and services), found ${onDefault}`,
    );
  return p;
}

function poolProblems(
  field: string,
  pools: Readonly<Record<PoolName, PoolConfig>>,
  engine: EngineConfig,
  c: EnvironmentConfig,
): string[] {
  const p: string[] = [];
  for (const pool of Object.keys(workerPools) as PoolName[]) {
    const pc = pools[pool];
    if (!pc) {
      p.push(`${field}.${pool}: missing`);
      continue;
    }
    if (pc.instanceTypes.length === 0) p.push(`${field}.${pool}.instanceTypes: at least one instance type`);
    for (const t of pc.instanceTypes) {
      const spec = gpuInstanceTypes[t];
      if (!spec) {
        p.push(
          `${field}.${pool}.instanceTypes: '${t}' is not an NVIDIA GPU instance type listed in cdk/config.ts`,
        );
        continue;
      }
      const taskMiB = engine.memoryMiB + c.worker.memoryMiB + modelSyncMemoryMiB;
      if (taskMiB > spec.memoryGiB * 1024 - instanceOverheadMiB)
        p.push(
          `${field}.${pool}.instanceTypes: a worker task (${taskMiB} MiB) does not fit on ${t} (${spec.memoryGiB} GiB)`,
        );
      if (engine.gpus > spec.gpus)
        p.push(
          `${field}.${pool}.instanceTypes: ${t} has ${spec.gpus} GPU(s); the engine reserves ${engine.gpus}`,
        );
    }
    if (new Set(pc.instanceTypes).size !== pc.instanceTypes.length)
      p.push(`${field}.${pool}.instanceTypes: duplicates`);
    if (!isInt(pc.minWorkers, 0)) p.push(`${field}.${pool}.minWorkers: must be a whole number, at least 0`);
    if (!isInt(pc.maxWorkers, 1)) p.push(`${field}.${pool}.maxWorkers: must be a whole number, at least 1`);
    if (pc.maxWorkers < pc.minWorkers) p.push(`${field}.${pool}.maxWorkers: must be at least minWorkers`);
  }
  return p;
}

function engineProblems(field: string, engine: EngineConfig, c: EnvironmentConfig): string[] {
  const p: string[] = [];
  p.push(...ecrImageProblems(`${field}.image`, engine.image));
  if (!engine.model) p.push(`${field}.model: required`);
  if (!(engine.weights.sizeGiB > 0))
    p.push(`${field}.weights.sizeGiB: the size of the staged model files, GiB`);
  if (engine.weights.s3Prefix !== undefined && !/^[\w.-]+(\/[\w.-]+)*$/.test(engine.weights.s3Prefix))
    p.push(`${field}.weights.s3Prefix: a key prefix without leading or trailing slash`);
  if (!isInt(engine.startupSeconds, 0)) p.push(`${field}.startupSeconds: whole seconds, at least 0`);
  const h = engine.health;
  if (!isInt(h.startPeriodSeconds, 0) || h.startPeriodSeconds > 300)
    p.push(`${field}.health.startPeriodSeconds: between 0 and 300 (the ECS maximum)`);
  if (!isInt(h.intervalSeconds, 5) || h.intervalSeconds > 300)
    p.push(`${field}.health.intervalSeconds: between 5 and 300`);
  if (!isInt(h.retries, 1) || h.retries > 10) p.push(`${field}.health.retries: between 1 and 10`);
  const startup = engineStartup(c, engine);
  if (startup.requiredSeconds > startup.windowSeconds)
    p.push(
      `${field}.health: the engine needs about ${startup.requiredSeconds} s to serve (${startup.readSeconds} s to read ${engine.weights.sizeGiB} GiB at ${c.instances.volumeThroughputMiBps} MiB/s, plus startupSeconds ${engine.startupSeconds} s) but ECS gives it ${startup.windowSeconds} s (startPeriod + retries × interval): raise the volume throughput or the health window`,
    );
  if (!isInt(engine.gpus, 1) || engine.gpus > 8) p.push(`${field}.gpus: between 1 and 8`);
  if (!isInt(engine.memoryMiB, 512)) p.push(`${field}.memoryMiB: at least 512`);
  if (!isInt(engine.sharedMemoryMiB, 64)) p.push(`${field}.sharedMemoryMiB: at least 64`);
  return p;
}

const ecrRepository = /^(?:[a-z0-9]+(?:[._-][a-z0-9]+)*\/)*[a-z0-9]+(?:[._-][a-z0-9]+)*$/;

function ecrImageProblems(field: string, image: EcrImageConfig): string[] {
  const p: string[] = [];
  if (typeof image !== 'object' || !ecrRepository.test(image.repository ?? ''))
    return [
      `${field}: a private ECR repository name and a pinned tag (docs/deploy.md: mirror the image to ECR)`,
    ];
  if (!/^(sha256:[0-9a-f]{64}|[\w][\w.-]{0,127})$/.test(image.tag) || image.tag === 'latest')
    p.push(`${field}.tag: '${image.tag}' must be pinned to a fixed tag or a sha256 digest`);
  return p;
}

/** GiB of the root volume that the GPU AMI and the engine image take, before any model files. */
export const volumeBaseGiB = 60;

/** The smallest root volume for the configured model: base, twice the model files (a model change), 5 GiB compile cache. */
export function minimumVolumeGiB(c: EnvironmentConfig): number {
  // Every pool's instances get the same volume: the largest model decides.
  const sizeGiB = Math.max(...modelsOf(c).map((m) => m.engine.weights.sizeGiB));
  return volumeBaseGiB + Math.ceil(2 * sizeGiB) + 5;
}

/**
 * How long a worker task takes to serve, by the numbers docs/deploy.md explains. On a new
 * instance the model-sync container first copies the model files from S3 to the volume
 * (`copySeconds` at the volume's throughput; ECS waits at most `syncTimeoutSeconds`); then the
 * engine reads them (`readSeconds`) and starts (`startupSeconds`). ECS replaces an engine that
 * does not serve within `windowSeconds` = startPeriod + retries × interval.
 */
export function engineStartup(
  c: EnvironmentConfig,
  engine: EngineConfig = c.engine,
): {
  copySeconds: number;
  syncTimeoutSeconds: number;
  readSeconds: number;
  requiredSeconds: number;
  windowSeconds: number;
} {
  const mib = engine.weights.sizeGiB * 1024;
  const throughput = c.instances.volumeThroughputMiBps;
  const copySeconds = Math.ceil(mib / throughput);
  const readSeconds = Math.ceil(mib / throughput);
  const h = engine.health;
  return {
    copySeconds,
    // S3 latency, the instance's own EBS bandwidth, first-touch reads of the AMI's blocks.
    syncTimeoutSeconds: Math.max(600, 4 * copySeconds),
    readSeconds,
    requiredSeconds: readSeconds + engine.startupSeconds,
    windowSeconds: h.startPeriodSeconds + h.retries * h.intervalSeconds,
  };
}

/** The EC2 vCPU quota a pool needs at most: its maximum workers on its largest listed type. */
export function vcpuQuota(
  c: EnvironmentConfig,
): Record<PoolName, { quota: string; maxWorkers: number; largest: string; vcpus: number }> {
  const out = {} as Record<PoolName, { quota: string; maxWorkers: number; largest: string; vcpus: number }>;
  for (const [pool, decl] of Object.entries(workerPools) as [PoolName, (typeof workerPools)[PoolName]][]) {
    const pc = c.pools[pool];
    const largest = [...pc.instanceTypes].sort(
      (a, b) => (gpuInstanceTypes[b]?.vcpus ?? 0) - (gpuInstanceTypes[a]?.vcpus ?? 0),
    )[0] as string;
    const family = pc.instanceTypes.some((t) => t.startsWith('p')) ? 'P' : 'G and VT';
    out[pool] = {
      quota:
        decl.capacity === 'spot'
          ? `All ${family} Spot Instance Requests`
          : `Running On-Demand ${family} instances`,
      maxWorkers: pc.maxWorkers,
      largest,
      vcpus: pc.maxWorkers * (gpuInstanceTypes[largest]?.vcpus ?? 0),
    };
  }
  return out;
}

/** Throws one error listing every problem. */
export function validateConfig(c: EnvironmentConfig): EnvironmentConfig {
  const problems = configProblems(c);
  if (problems.length > 0) throw new EnvironmentConfigError(c.name, problems);
  return c;
}

/** The validated configuration of a named environment. */
export function configFor(name: string | undefined): EnvironmentConfig {
  if (!name || !(environmentNames as readonly string[]).includes(name))
    throw new EnvironmentConfigError(String(name), [
      `unknown environment; pass -c env=<${environmentNames.join('|')}>`,
    ]);
  return validateConfig(environments[name as EnvironmentName]);
}
