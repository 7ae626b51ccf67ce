import type { PoolName, QueueName } from '../core/app/declaration.js';
import { queues, workerPools } from '../core/app/declaration.js';
import { limitsSchema, slaSchema } from '../core/config.js';

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

export interface EngineConfig {
  /** OpenAI-compatible inference server image (vLLM by default), pinned to a tag. */
  readonly image: string;
  /** Model the engine loads (a Hugging Face id for vLLM). */
  readonly model: string;
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
   * The engine's whole command line, for an engine other than vLLM. It must listen on
   * port 8000. @default vLLM's: --model, --served-model-name, --port 8000, extraArgs
   */
  readonly command?: readonly string[];
  /**
   * Shell command that succeeds once the engine serves (a container health check).
   * @default GET http://localhost:8000/health with the image's python3 (vLLM)
   */
  readonly healthCheck?: string;
  /** Secrets Manager secret holding a Hugging Face token, for gated models. @default none */
  readonly huggingFaceTokenSecretName?: string;
}

export interface WorkerConfig {
  /**
   * A pre-built gpu-worker image (e.g. an ECR URI pushed by CI). @default built by CDK from
   * gpu-worker/Dockerfile at deploy time (needs Docker on the deploying machine)
   */
  readonly image?: string;
  /** ENGINE_CONCURRENCY: requests one worker keeps in flight against its engine. */
  readonly engineConcurrency: number;
  /** CHUNKS_IN_PARALLEL: chunks one worker works on at once. */
  readonly chunksInParallel: number;
  /** Memory reserved for the worker container, MiB. */
  readonly memoryMiB: number;
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
  };
  readonly pools: Readonly<Record<PoolName, PoolConfig>>;
  readonly engine: EngineConfig;
  readonly worker: WorkerConfig;
  readonly network: {
    /** NAT gateways; 0 puts GPU instances in public subnets (public IP, no inbound rules) to save the NAT cost. */
    readonly natGateways: number;
    /** Root volume of a GPU instance (images and model weights are cached there), GiB. */
    readonly instanceVolumeGiB: number;
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
export const gpuInstanceTypes: Readonly<Record<string, { memoryGiB: number; gpus: number }>> = {
  'g4dn.xlarge': { memoryGiB: 16, gpus: 1 },
  'g4dn.2xlarge': { memoryGiB: 32, gpus: 1 },
  'g4dn.4xlarge': { memoryGiB: 64, gpus: 1 },
  'g4dn.8xlarge': { memoryGiB: 128, gpus: 1 },
  'g4dn.12xlarge': { memoryGiB: 192, gpus: 4 },
  'g5.xlarge': { memoryGiB: 16, gpus: 1 },
  'g5.2xlarge': { memoryGiB: 32, gpus: 1 },
  'g5.4xlarge': { memoryGiB: 64, gpus: 1 },
  'g5.8xlarge': { memoryGiB: 128, gpus: 1 },
  'g5.12xlarge': { memoryGiB: 192, gpus: 4 },
  'g5.24xlarge': { memoryGiB: 384, gpus: 4 },
  'g5.48xlarge': { memoryGiB: 768, gpus: 8 },
  'g6.xlarge': { memoryGiB: 16, gpus: 1 },
  'g6.2xlarge': { memoryGiB: 32, gpus: 1 },
  'g6.4xlarge': { memoryGiB: 64, gpus: 1 },
  'g6.8xlarge': { memoryGiB: 128, gpus: 1 },
  'g6.12xlarge': { memoryGiB: 192, gpus: 4 },
  'g6.24xlarge': { memoryGiB: 384, gpus: 4 },
  'g6.48xlarge': { memoryGiB: 768, gpus: 8 },
  'g6e.xlarge': { memoryGiB: 32, gpus: 1 },
  'g6e.2xlarge': { memoryGiB: 64, gpus: 1 },
  'g6e.4xlarge': { memoryGiB: 128, gpus: 1 },
  'g6e.12xlarge': { memoryGiB: 384, gpus: 4 },
  'g6e.24xlarge': { memoryGiB: 768, gpus: 4 },
  'g6e.48xlarge': { memoryGiB: 1536, gpus: 8 },
  'p4d.24xlarge': { memoryGiB: 1152, gpus: 8 },
  'p5.48xlarge': { memoryGiB: 2048, gpus: 8 },
};

/** Memory the OS and the ECS agent keep on a container instance, MiB. */
const instanceOverheadMiB = 1024;

const vllm = 'vllm/vllm-openai:v0.11.0';

/** The engine staging and prod share, so staging tests what prod runs. */
const qwen7b: EngineConfig = {
  image: vllm,
  model: 'Qwen/Qwen2.5-7B-Instruct',
  gpus: 1,
  memoryMiB: 12288,
  sharedMemoryMiB: 4096,
  extraArgs: ['--max-model-len', '16384', '--gpu-memory-utilization', '0.92'],
};

const base = {
  region: 'us-east-1',
  abortIncompleteUploadsAfterDays: 1,
  allowedOrigins: [],
  api: { rateLimit: 100, burstLimit: 200, authorizerCacheSeconds: 300 },
  worker: { engineConcurrency: 32, chunksInParallel: 2, memoryMiB: 1024 },
  network: { natGateways: 0, instanceVolumeGiB: 200 },
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
    network: { natGateways: 1, instanceVolumeGiB: 200 },
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
    network: { natGateways: 2, instanceVolumeGiB: 200 },
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
  for (const pool of Object.keys(workerPools) as PoolName[]) {
    const pc = c.pools[pool];
    if (!pc) {
      p.push(`pools.${pool}: missing`);
      continue;
    }
    if (pc.instanceTypes.length === 0) p.push(`pools.${pool}.instanceTypes: at least one instance type`);
    for (const t of pc.instanceTypes) {
      const spec = gpuInstanceTypes[t];
      if (!spec) {
        p.push(
          `pools.${pool}.instanceTypes: '${t}' is not an NVIDIA GPU instance type listed in cdk/config.ts`,
        );
        continue;
      }
      const taskMiB = c.engine.memoryMiB + c.worker.memoryMiB;
      if (taskMiB > spec.memoryGiB * 1024 - instanceOverheadMiB)
        p.push(
          `pools.${pool}.instanceTypes: a worker task (${taskMiB} MiB) does not fit on ${t} (${spec.memoryGiB} GiB)`,
        );
      if (c.engine.gpus > spec.gpus)
        p.push(
          `pools.${pool}.instanceTypes: ${t} has ${spec.gpus} GPU(s); the engine reserves ${c.engine.gpus}`,
        );
    }
    if (new Set(pc.instanceTypes).size !== pc.instanceTypes.length)
      p.push(`pools.${pool}.instanceTypes: duplicates`);
    if (!isInt(pc.minWorkers, 0)) p.push(`pools.${pool}.minWorkers: must be a whole number, at least 0`);
    if (!isInt(pc.maxWorkers, 1)) p.push(`pools.${pool}.maxWorkers: must be a whole number, at least 1`);
    if (pc.maxWorkers < pc.minWorkers) p.push(`pools.${pool}.maxWorkers: must be at least minWorkers`);
  }
  if (!/^[\w.-]+(\/[\w.-]+)*(:[\w.-]+|@sha256:[0-9a-f]{64})$/.test(c.engine.image))
    p.push(`engine.image: '${c.engine.image}' must be pinned to a tag or digest`);
  if (!c.engine.model) p.push('engine.model: required');
  if (!isInt(c.engine.gpus, 1) || c.engine.gpus > 8) p.push('engine.gpus: between 1 and 8');
  if (!isInt(c.engine.memoryMiB, 512)) p.push('engine.memoryMiB: at least 512');
  if (!isInt(c.engine.sharedMemoryMiB, 64)) p.push('engine.sharedMemoryMiB: at least 64');
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
  if (!isInt(c.network.instanceVolumeGiB, 60))
    p.push('network.instanceVolumeGiB: at least 60 (GPU AMI, engine image, weights)');
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
    if (c.settings.FILE_RETENTION_DAYS !== undefined)
      p.push('settings.FILE_RETENTION_DAYS: set fileRetentionDays instead (it also drives the S3 lifecycle)');
  }
  return p;
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
