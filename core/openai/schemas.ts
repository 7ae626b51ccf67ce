import { z } from 'zod';
import type { CostEstimate } from '../pricing/cost.js';
import type { BatchUsage } from '../results/usage.js';

/** Endpoints openbatch runs; each needs an OpenAI-compatible engine route of the same path. */
export const SUPPORTED_ENDPOINTS = [
  '/v1/chat/completions',
  '/v1/completions',
  '/v1/embeddings',
  '/v1/responses',
] as const;
export type Endpoint = (typeof SUPPORTED_ENDPOINTS)[number];

export const isSupportedEndpoint = (url: string): url is Endpoint =>
  (SUPPORTED_ENDPOINTS as readonly string[]).includes(url);

/**
 * Object ids as openbatch issues them (`file-…`, `batch_…`, `upload_…`, `part_…`): letters,
 * digits, `_` and `-`, at most 128 characters. Checked at the edge, so no path or body id ever
 * reaches DynamoDB (1,024-byte sort keys) or S3 (1,024-byte keys) out of bounds, and none can
 * carry a slash or `..` into a key.
 */
export const MAX_ID_LENGTH = 128;
export const idSchema = z
  .string()
  .min(1, 'must not be empty')
  .max(MAX_ID_LENGTH, `must be at most ${MAX_ID_LENGTH} characters`)
  .regex(/^[A-Za-z0-9_-]+$/, "must contain only letters, digits, '_' and '-'");

export const METADATA_MAX_PAIRS = 16;
export const METADATA_MAX_KEY_LENGTH = 64;
export const METADATA_MAX_VALUE_LENGTH = 512;

const shown = (s: string) => JSON.stringify(s.length > 40 ? `${s.slice(0, 40)}…` : s);

/** Why `value` is not OpenAI metadata, or undefined when it is. */
function metadataProblem(m: Record<string, unknown>): string | undefined {
  const entries = Object.entries(m);
  if (entries.length > METADATA_MAX_PAIRS)
    return `metadata holds at most ${METADATA_MAX_PAIRS} key-value pairs, not ${entries.length}.`;
  for (const [key, value] of entries) {
    if (key.length === 0) return 'metadata keys must not be empty.';
    if (key.length > METADATA_MAX_KEY_LENGTH)
      return `metadata key ${shown(key)} is longer than ${METADATA_MAX_KEY_LENGTH} characters.`;
    if (typeof value !== 'string')
      return `metadata values must be strings; the value of ${shown(key)} is ${value === null ? 'null' : Array.isArray(value) ? 'an array' : `a ${typeof value}`}.`;
    if (value.length > METADATA_MAX_VALUE_LENGTH)
      return `metadata value of ${shown(key)} is longer than ${METADATA_MAX_VALUE_LENGTH} characters.`;
  }
  return undefined;
}

/**
 * OpenAI metadata: at most 16 pairs of strings, keys 1 to 64 characters, values at most 512.
 * Every problem is reported against `metadata` itself (a key can be empty or hold a dot).
 */
export const metadataSchema = z
  .record(z.string(), z.unknown(), { error: 'metadata must be an object of string keys and values' })
  .superRefine((m, ctx) => {
    const problem = metadataProblem(m);
    if (problem) ctx.addIssue({ code: 'custom', message: problem });
  })
  .transform((m) => m as Record<string, string>);

/** OpenAI's `expires_after` on files and uploads: seconds after `created_at`, 1 hour to 30 days. */
export const expiresAfterSchema = z.strictObject({
  anchor: z.literal('created_at'),
  seconds: z.number().int().min(3_600).max(2_592_000),
});
export type ExpiresAfter = z.infer<typeof expiresAfterSchema>;

/** Strings echoed in messages or stored beside a record stay small (a Lambda answers at most 6 MB). */
const shortString = (max: number) => z.string().min(1).max(max, `must be at most ${max} characters`);

export const createBatchBodySchema = z.strictObject({
  input_file_id: idSchema,
  endpoint: shortString(256),
  completion_window: shortString(32),
  metadata: metadataSchema.nullish(),
  /** OpenAI's expiration policy for the batch's output and error files, from their creation. */
  output_expires_after: expiresAfterSchema.nullish(),
  /**
   * Extension beside the contract: the batch's weight in the fair shares of a pool (low 1,
   * normal 2, high 4) and how early it escalates to dedicated capacity (docs/policy.md).
   */
  priority: z.enum(['low', 'normal', 'high']).optional(),
  /**
   * Extension beside the contract: `dedup` reuses this tenant's earlier answers to identical
   * requests (default true; `include_sampling` also for requests that sample; docs/dedup.md).
   */
  openbatch: z
    .strictObject({ dedup: z.union([z.boolean(), z.literal('include_sampling')]).optional() })
    .optional(),
});
export type CreateBatchBody = z.infer<typeof createBatchBodySchema>;

export const listQuerySchema = z.object({
  after: idSchema.optional(),
  limit: z.coerce.number().int().min(1).max(100).default(20),
});

export const listFilesQuerySchema = z.object({
  after: idSchema.optional(),
  limit: z.coerce.number().int().min(1).max(10_000).default(10_000),
  order: z.enum(['asc', 'desc']).default('desc'),
  purpose: shortString(64).optional(),
});

/** The upper bound of a file name, in UTF-8 bytes (what file systems and S3 metadata take). */
export const MAX_FILENAME_BYTES = 255;

/** A name as a file system would take it: no path, no control characters, at most 255 bytes. */
export const filenameSchema = z
  .string()
  .min(1)
  .refine((s) => Buffer.byteLength(s) <= MAX_FILENAME_BYTES, `must be at most ${MAX_FILENAME_BYTES} bytes`)
  .refine(
    (s) => ![...s].some((c) => c === '/' || c === '\\' || (c.codePointAt(0) ?? 0) < 0x20),
    'must not contain slashes or control characters',
  );

export const createUploadBodySchema = z.strictObject({
  filename: filenameSchema,
  purpose: shortString(64),
  bytes: z.number().int().min(1),
  mime_type: z
    .string()
    .max(255, 'must be at most 255 characters')
    .regex(/^[\w.+-]+\/[\w.+-]+$/, 'must be a MIME type such as application/jsonl'),
  expires_after: expiresAfterSchema.nullish(),
});
export type CreateUploadBody = z.infer<typeof createUploadBodySchema>;

export const completeUploadBodySchema = z.strictObject({
  part_ids: z.array(idSchema).max(10_000),
  md5: z
    .string()
    .regex(/^[0-9a-fA-F]{32}$/, 'must be 32 hexadecimal digits')
    .optional(),
});
export type CompleteUploadBody = z.infer<typeof completeUploadBodySchema>;

/** openbatch extension: pre-signed S3 part URLs for an upload (part numbers 1 to 10,000, at most 1,000 a call). */
export const partUrlsBodySchema = z.strictObject({
  part_numbers: z.array(z.number().int().min(1).max(10_000)).min(1).max(1_000),
});

export interface UploadObject {
  id: string;
  object: 'upload';
  bytes: number;
  created_at: number;
  filename: string;
  purpose: string;
  status: 'pending' | 'completed' | 'cancelled' | 'expired';
  expires_at: number;
  file: FileObject | null;
}

export interface UploadPartObject {
  id: string;
  object: 'upload.part';
  created_at: number;
  upload_id: string;
}

export const FILE_PURPOSES = ['batch', 'batch_output'] as const;
export type FilePurpose = (typeof FILE_PURPOSES)[number];

export interface FileObject {
  id: string;
  object: 'file';
  bytes: number;
  created_at: number;
  expires_at: number | null;
  filename: string;
  purpose: string;
  status: 'processed';
  status_details: null;
}

export type BatchStatus =
  | 'validating'
  | 'failed'
  | 'in_progress'
  | 'finalizing'
  | 'completed'
  | 'expired'
  | 'cancelling'
  | 'cancelled';

export interface BatchError {
  code: string;
  message: string;
  param: string | null;
  line: number | null;
}

export interface BatchObject {
  id: string;
  object: 'batch';
  endpoint: string;
  errors: { object: 'list'; data: BatchError[] } | null;
  input_file_id: string;
  completion_window: string;
  status: BatchStatus;
  output_file_id: string | null;
  error_file_id: string | null;
  created_at: number;
  in_progress_at: number | null;
  expires_at: number;
  finalizing_at: number | null;
  completed_at: number | null;
  failed_at: number | null;
  expired_at: number | null;
  cancelling_at: number | null;
  cancelled_at: number | null;
  request_counts: { total: number; completed: number; failed: number };
  metadata: Record<string, string> | null;
  model?: string;
  /** Tokens used by the batch's requests so far (OpenAI's Batch `usage`). */
  usage: BatchUsage;
  /** Extension beside the contract (the SDKs ignore unknown fields). */
  openbatch: OpenBatchExtension;
}

/** A batch's priority (extension): `normal` unless the create request says otherwise. */
export type BatchPriority = 'low' | 'normal' | 'high';

export interface OpenBatchExtension {
  priority: BatchPriority;
  /**
   * Present when the batch was admitted although its model's dedicated capacity could not finish
   * it inside its window (deployments with SLA_ADMISSION=warn): why, in figures.
   */
  admission_warning?: string;
  /** `state` is null for batches that failed or were cancelled: no deadline applies any more. */
  sla: { deadline_at: number; state: 'on_track' | 'at_risk' | 'met' | 'breached' | null };
  /** Requests completed on each pool. */
  pools: { spot: number; dedicated: number };
  /** The pool group whose spot and dedicated pools run the batch's model; null before validation ends. */
  pool_group: string | null;
  /** The pool its chunks are sent to now (the policy's route); null before the first is sent. */
  route: 'spot' | 'dedicated' | null;
  chunks: { total: number; done: number; escalated: number; interruptions: number };
  /** The batch this one retries (`POST /v1/openbatch/batches/{id}/retry`), or null. */
  retry_of: string | null;
  /** Batches created to retry this one's requests, oldest first. */
  retries: string[];
  /** Estimated GPU cost so far, by pool and against all-dedicated (an estimate, never a bill). */
  cost: CostEstimate;
  /** Exact deduplication of the batch (docs/dedup.md): `on`, `off` or `include_sampling`. */
  dedup: 'on' | 'off' | 'include_sampling';
  /** Requests answered by reusing an earlier identical request's answer (done chunks), not run. */
  reused: number;
}

/** One row of `GET /v1/openbatch/batches/{batch_id}/chunks` (extension). */
export interface ChunkView {
  object: 'batch.chunk';
  chunk: number;
  status: 'pending' | 'done';
  requests: number;
  completed: number;
  failed: number;
  pool: 'spot' | 'dedicated' | null;
  escalated: boolean;
  interruptions: number;
  line_start: number;
  line_end: number;
}

export interface ListPage<T> {
  object: 'list';
  data: T[];
  first_id: string | null;
  last_id: string | null;
  has_more: boolean;
}

const isJsonObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * One line of a batch input file (BatchRequestInput). The body is checked to be an object, not
 * copied key by key as `z.record` does: the scheduler checks every line of a file before its
 * first chunk runs, and the body is the engine's to judge.
 */
export const requestLineSchema = z.object({
  custom_id: z.string().min(1),
  method: z.string(),
  url: z.string(),
  body: z.custom<Record<string, unknown>>(isJsonObject, 'expected a JSON object'),
});
export type RequestLine = z.infer<typeof requestLineSchema>;

/** One line of a batch output or error file (BatchRequestOutput). */
export interface ResultLine {
  id: string;
  custom_id: string;
  response: { status_code: number; request_id: string; body: unknown } | null;
  error: { code: string; message: string } | null;
}

/** A request's state in its batch's run (`GET /v1/openbatch/batches/{batch_id}/requests`). */
export const REQUEST_STATUSES = [
  'pending',
  'running',
  'succeeded',
  'failed',
  'expired',
  'cancelled',
] as const;
export type RequestStatus = (typeof REQUEST_STATUSES)[number];

/** The per-request list's cursor: a request's `id`, `line_<input line number>`. */
export const requestIdSchema = z
  .string()
  .regex(/^line_[1-9][0-9]{0,9}$/, "must be a request id such as 'line_42'");

/** custom_ids as the input file carries them: any non-empty string, bounded at the edge. */
const customIdSchema = z.string().min(1).max(1_024, 'must be at most 1024 characters');

export const listRequestsQuerySchema = z.strictObject({
  after: requestIdSchema.optional(),
  limit: z.coerce.number().int().min(1).max(100).default(20),
  status: z.enum(REQUEST_STATUSES).optional(),
  custom_id: customIdSchema.optional(),
});
export type ListRequestsQuery = z.infer<typeof listRequestsQuerySchema>;

/** The path of `GET /v1/openbatch/batches/{batch_id}/requests/{custom_id}` (a problem names `custom_id`). */
export const requestPathSchema = z.object({ custom_id: customIdSchema });

/**
 * What `POST /v1/openbatch/batches/{batch_id}/retry` runs again. Every criterion given must hold;
 * `statuses` defaults to failed and expired, or to any status when `custom_ids` names the lines.
 */
export const retryBodySchema = z.strictObject({
  custom_ids: z.array(customIdSchema).min(1).max(10_000).optional(),
  statuses: z
    .array(z.enum(['succeeded', 'failed', 'expired', 'cancelled']))
    .min(1)
    .optional(),
  error_codes: z.array(shortString(256)).min(1).max(100).optional(),
  http_statuses: z.array(z.number().int().min(100).max(599)).min(1).max(100).optional(),
});
export type RetryBody = z.infer<typeof retryBodySchema>;

/** One row of `GET /v1/openbatch/batches/{batch_id}/requests` (extension). */
export interface BatchRequestView {
  object: 'batch.request';
  /** `line_<line>`: the cursor for `after`. */
  id: string;
  custom_id: string;
  /** 1-based line of the input file (blank lines counted). */
  line: number;
  status: RequestStatus;
  pool: 'spot' | 'dedicated' | null;
  attempts: number;
  http_status: number | null;
  error_code: string | null;
  /** Answered with an earlier identical request's answer (deduplication), without running. */
  reused: boolean;
}

/** `GET /v1/openbatch/batches/{batch_id}/requests/{custom_id}`: the row, its input and its result line. */
export interface BatchRequestDetail extends BatchRequestView {
  method: string;
  url: string;
  body: Record<string, unknown>;
  /** The output or error file's line for this request; null until it is done (or if it never ran). */
  result: ResultLine | null;
}
