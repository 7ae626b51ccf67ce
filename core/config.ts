import { z } from 'zod';
import { parseCatalog } from './models/catalog.js';
import { DEFAULT_COMPLETION_WINDOWS, windowAllowlist } from './sla/windows.js';

/**
 * Typed configuration, read once from the environment and validated up front so that a
 * missing or malformed variable fails at start-up with its name, not deep inside a request.
 */

const positiveInt = z.coerce.number().int().positive();
const rate = z.coerce.number().min(0).max(1);

export const limitsSchema = z.object({
  MAX_REQUESTS_PER_BATCH: positiveInt.default(50_000),
  MAX_BATCH_FILE_BYTES: positiveInt.default(200 * 1024 * 1024),
  MAX_LINE_BYTES: positiveInt.default(10 * 1024 * 1024),
  /** Direct uploads through API Gateway + Lambda (6 MB payload, base64) top out near 4.5 MB. */
  MAX_API_UPLOAD_BYTES: positiveInt.default(4 * 1024 * 1024),
  /** The largest Upload (OpenAI: 8 GB); batch input is further bounded by MAX_BATCH_FILE_BYTES. */
  MAX_UPLOAD_BYTES: positiveInt.default(8 * 1024 * 1024 * 1024),
  /**
   * Parts added through the API are stitched by the completing request itself, within API
   * Gateway's 29 s; above this total, uploads must use pre-signed parts (straight to S3).
   */
  MAX_API_PARTS_TOTAL_BYTES: positiveInt.default(512 * 1024 * 1024),
  /** A whole-file md5 on a pre-signed upload is checked by reading the file back, up to this size. */
  MAX_MD5_CHECK_BYTES: positiveInt.default(256 * 1024 * 1024),
  /** File content above this size is served by a redirect to a pre-signed S3 URL. */
  MAX_INLINE_CONTENT_BYTES: positiveInt.default(4 * 1024 * 1024),
  CHUNK_MAX_LINES: positiveInt.default(2_000),
  CHUNK_MAX_BYTES: positiveInt.default(8 * 1024 * 1024),
  /**
   * The smallest chunk the end of a batch is cut into (plan-chunks.ts `tailSizes`): the last
   * CHUNK_MAX_LINES requests run as chunks of 1,000, 500, 250 and 250 by default, so a batch's
   * tail spreads over the workers. 0 turns the tail cut off.
   */
  CHUNK_TAIL_MIN_LINES: z.coerce.number().int().min(0).default(250),
  MAX_REPORTED_LINE_ERRORS: positiveInt.default(100),
  /**
   * Chunk messages a batch keeps on its pool's queue at a time (core/chunks/dispatch.ts): the
   * rest follow as its chunks complete, so a batch created later is not queued behind all of an
   * earlier one's chunks. Set it to the chunks a pool's workers hold at once (tasks ×
   * CHUNKS_IN_PARALLEL; the CDK app does): fewer would leave workers idle. 0: every chunk at once.
   * This is a normal-priority batch's window; a low one keeps half as many, a high one twice as
   * many (core/policy `priorityWindow`, by the policy's priority weights).
   */
  DISPATCH_WINDOW_CHUNKS: z.coerce.number().int().min(0).default(16),
  /**
   * Comma-separated completion windows a batch may ask for: a whole number of s, m, h or d
   * (core/sla/windows.ts). OpenAI's `24h` is always accepted, listed or not.
   */
  COMPLETION_WINDOWS: z
    .string()
    .default(DEFAULT_COMPLETION_WINDOWS.join(','))
    .transform((s, ctx) => {
      const entries = s
        .split(',')
        .map((w) => w.trim())
        .filter(Boolean);
      try {
        return [...windowAllowlist(entries).names];
      } catch (err) {
        ctx.addIssue({ code: 'custom', message: (err as Error).message });
        return z.NEVER;
      }
    }),
  /** Comma-separated model allowlist, the catalog's shorthand (MODEL_CATALOG wins when both are set). */
  MODELS: z
    .string()
    .default('')
    .transform((s) =>
      s
        .split(',')
        .map((m) => m.trim())
        .filter(Boolean),
    ),
  /**
   * The model catalog (core/models/catalog.ts), JSON: the models batches may name and the pool
   * group that runs each. Unset: MODELS on the default pool group, else the simulated models.
   */
  MODEL_CATALOG: z
    .string()
    .optional()
    .transform((s, ctx) => {
      if (s === undefined || s.trim() === '') return undefined;
      try {
        return parseCatalog(s);
      } catch (err) {
        ctx.addIssue({ code: 'custom', message: (err as Error).message });
        return z.NEVER;
      }
    }),
  FILE_RETENTION_DAYS: positiveInt.default(30),
  /**
   * Exact deduplication per tenant (docs/dedup.md): `on` lets each batch reuse earlier answers
   * unless it asks otherwise (`openbatch.dedup` at create); `off` turns it off for every batch.
   */
  DEDUP: z.enum(['on', 'off']).default('on'),
  /** Days an answer stays reusable (at most FILE_RETENTION_DAYS: the packs are in the files bucket). */
  DEDUP_RETENTION_DAYS: positiveInt.default(7),
  /** Index entries (16 bytes each) a worker holds per tenant: the newest packs up to this many answers. */
  DEDUP_INDEX_MAX_ENTRIES: positiveInt.default(1_000_000),
  /**
   * A scheduler invocation validates for at most this long, then saves its place and hands the
   * rest to the next invocation (the Lambda has 15 minutes).
   */
  SCHEDULER_SEGMENT_SECONDS: positiveInt.default(600),
  /** And at most this many lines (0: no line bound); small values make every file resumable in tests. */
  SCHEDULER_SEGMENT_LINES: z.coerce.number().int().min(0).default(0),
});
export type Limits = z.infer<typeof limitsSchema>;

export const awsSchema = z.object({
  AWS_REGION: z.string().default('us-east-1'),
  /** Unset on AWS; LocalStack's or the emulator's endpoint locally. */
  AWS_ENDPOINT_URL: z.string().url().optional(),
  /** The SDK's standard per-service override, e.g. DynamoDB Local beside moto. */
  AWS_ENDPOINT_URL_DYNAMODB: z.string().url().optional(),
});
export type AwsSettings = z.infer<typeof awsSchema>;

export const workerSchema = z.object({
  POOL: z.enum(['spot', 'dedicated']),
  /** The pool group (core/models/catalog.ts) whose queue this worker consumes. */
  POOL_GROUP: z.string().min(1).default('default'),
  QUEUE_URL: z.string().min(1),
  ENGINE_URL: z.string().url().optional(),
  ENGINE_API_KEY: z.string().optional(),
  ENGINE_TIMEOUT_MS: positiveInt.default(600_000),
  /**
   * The worker's budget at its engine: requests in flight at once, shared by every chunk the
   * worker holds, and the size of its keep-alive connection pool. Set it to what the engine
   * runs at once (vLLM's --max-num-seqs, whose default is 256; llama.cpp's --parallel).
   */
  ENGINE_CONCURRENCY: positiveInt.default(256),
  ENGINE_MAX_RETRIES: z.coerce.number().int().min(0).default(4),
  /**
   * Chunks a worker holds at once. It receives another as soon as one is done, so the budget
   * stays full across chunk boundaries, and chunks of other batches share the budget at once.
   */
  CHUNKS_IN_PARALLEL: positiveInt.default(16),
  /** SQS long-poll wait; shorter locally so workers stop promptly. */
  RECEIVE_WAIT_SECONDS: z.coerce.number().int().min(0).max(20).default(20),
  /** How long a received chunk stays invisible; the worker extends it while it works. */
  VISIBILITY_TIMEOUT_SECONDS: positiveInt.default(30),
  /**
   * How often the worker flushes its engine figures (latency, tokens, errors, retries, lease
   * renewals) as EMF when no chunk ends; a chunk's end flushes them too. Its engine's health and
   * Prometheus endpoints are probed four times as often.
   */
  METRICS_INTERVAL_SECONDS: positiveInt.default(60),
  SIM_ENGINE_LATENCY_MS: z.coerce.number().min(0).default(0),
  SIM_ENGINE_FAILURE_RATE: rate.default(0),
  SIM_SPOT_INTERRUPTION_RATE: rate.default(0),
});
export type WorkerSettings = z.infer<typeof workerSchema>;

export const slaSchema = z.object({
  /**
   * The rule before core/policy (core/sla/policy.ts `isAtRisk`): at risk when the remaining work
   * would need more than this share of the time left. The system now decides with core/policy;
   * kept so that existing deployment settings stay valid.
   */
  SLA_RISK_RATIO: z.coerce.number().positive().max(1).default(0.5),
  /**
   * Requests per second one task completes, as core/policy assumes it (nothing is measured yet):
   * admission, escalation and the desired task counts all rest on it. Keep it on the low side.
   */
  SLA_ASSUMED_REQUESTS_PER_SECOND: z.coerce.number().positive().default(5),
  /**
   * A batch validating with no progress for this long lost its scheduling message (a crash
   * between the write and the send, or a message dead-lettered): the SLA monitor sends it again,
   * up to VALIDATION_REDRIVES times, then fails the batch. Longer than a scheduler invocation.
   */
  VALIDATION_STALL_SECONDS: z.coerce.number().int().positive().default(1_200),
  VALIDATION_REDRIVES: z.coerce.number().int().min(0).default(2),
  /**
   * A running batch with chunks left, none of which completed for this long, lost a message that
   * was to send its next chunks (a worker that died between a chunk's completion and the send,
   * a dead-lettered chunk): the SLA monitor sends its pending chunks again (core/chunks/dispatch.ts).
   * Longer than a chunk takes; a chunk still running gets a second copy, which completes once.
   */
  DISPATCH_STALL_SECONDS: z.coerce.number().int().positive().default(3_600),
  /**
   * The SLA monitor judges a running batch from its counters and reads its chunk records only
   * when they say it is done or it must escalate, and otherwise once every this many seconds,
   * to catch a counter that missed an update.
   */
  SLA_RECONCILE_SECONDS: z.coerce.number().int().min(60).default(600),
  /**
   * Admission (docs/policy.md): a batch that its model's dedicated capacity could not finish
   * inside its window, even if Spot gave nothing, is refused with a 400 (`reject`), or accepted
   * with `openbatch.admission_warning` set (`warn`).
   */
  SLA_ADMISSION: z.enum(['reject', 'warn']).default('reject'),
  /**
   * At create the line count is unknown: admission estimates the requests as the input's bytes
   * over this figure. A high figure under-counts, so create refuses only batches that are too
   * large even so; the exact count is checked again when validation ends.
   */
  SLA_ADMISSION_BYTES_PER_REQUEST: z.coerce.number().int().positive().default(2_048),
  /**
   * Tasks each pool may run (the deployment's maxWorkers) and keeps running (minWorkers). The
   * policy has no view of ECS: it takes the pool's minimum as the tasks surely running, and
   * counts a start-up before the rest serve. The defaults describe the local runtime's fleet
   * (one spot and one dedicated worker, always running); the CDK app sets the deployment's.
   */
  SLA_SPOT_MIN_TASKS: z.coerce.number().int().min(0).default(1),
  SLA_SPOT_MAX_TASKS: z.coerce.number().int().min(0).default(1),
  SLA_DEDICATED_MIN_TASKS: z.coerce.number().int().min(0).default(1),
  SLA_DEDICATED_MAX_TASKS: z.coerce.number().int().min(0).default(1),
  /** Seconds from launching a task to its engine serving (the CDK app sets the deployment's). */
  SLA_TASK_STARTUP_SECONDS: z.coerce.number().min(0).default(180),
  /**
   * Prices per task-hour (one GPU instance), for the policy's price-inversion check. Defaults:
   * g6.xlarge On-Demand in us-east-1 ($0.8048, AWS's list price) and an assumed Spot price.
   */
  SLA_SPOT_PRICE_PER_TASK_HOUR: z.coerce.number().min(0).default(0.3),
  SLA_ON_DEMAND_PRICE_PER_TASK_HOUR: z.coerce.number().min(0).default(0.8048),
  /**
   * After its sweep, the SLA monitor waits for the running batches whose window ends within this
   * many seconds and expires each at its second, so a batch expires at its window rather than at
   * the next sweep. Set it to the monitor's period (the CDK app and the local runtime do); 0
   * leaves expiry to the next sweep.
   */
  SLA_EXPIRY_LOOKAHEAD_SECONDS: z.coerce.number().int().min(0).max(240).default(0),
});
export type SlaSettings = z.infer<typeof slaSchema>;

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

/** Parses `env` with `schema`, reporting every bad variable by name at once. */
export function readConfig<S extends z.ZodType>(schema: S, env: NodeJS.ProcessEnv = process.env): z.infer<S> {
  const parsed = schema.safeParse(env);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join('.') || '(env)'}: ${i.message}`);
    throw new ConfigError(`Invalid configuration: ${problems.join('; ')}`);
  }
  return parsed.data;
}
