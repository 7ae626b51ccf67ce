import { z } from 'zod';

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

/** OpenAI metadata: up to 16 string pairs, keys ≤ 64 chars, values ≤ 512 chars. */
export const metadataSchema = z
  .record(z.string().max(64), z.string().max(512))
  .refine((m) => Object.keys(m).length <= 16, { message: 'metadata can hold at most 16 keys' });

export const createBatchBodySchema = z.object({
  input_file_id: z.string().min(1),
  endpoint: z.string().min(1),
  completion_window: z.string().min(1),
  metadata: metadataSchema.nullish(),
  /** Extension beside the contract: `high` runs on dedicated capacity from the start. */
  priority: z.enum(['normal', 'high']).optional(),
});
export type CreateBatchBody = z.infer<typeof createBatchBodySchema>;

export const listQuerySchema = z.object({
  after: z.string().min(1).optional(),
  limit: z.coerce.number().int().min(1).max(100).default(20),
});

export const listFilesQuerySchema = z.object({
  after: z.string().min(1).optional(),
  limit: z.coerce.number().int().min(1).max(10_000).default(10_000),
  order: z.enum(['asc', 'desc']).default('desc'),
  purpose: z.string().optional(),
});

/** OpenAI's `expires_after` on files and uploads: seconds after `created_at`, 1 hour to 30 days. */
export const expiresAfterSchema = z.object({
  anchor: z.literal('created_at'),
  seconds: z.number().int().min(3_600).max(2_592_000),
});
export type ExpiresAfter = z.infer<typeof expiresAfterSchema>;

/** A name as a file system would take it: no path, no control characters, at most 255 bytes. */
export const filenameSchema = z
  .string()
  .min(1)
  .refine((s) => Buffer.byteLength(s) <= 255, 'must be at most 255 bytes')
  .refine((s) => !/[\u0000-\u001f/\\]/.test(s), 'must not contain slashes or control characters');

export const createUploadBodySchema = z.object({
  filename: filenameSchema,
  purpose: z.string().min(1),
  bytes: z.number().int().min(1),
  mime_type: z.string().regex(/^[\w.+-]+\/[\w.+-]+$/, 'must be a MIME type such as application/jsonl'),
  expires_after: expiresAfterSchema.optional(),
});
export type CreateUploadBody = z.infer<typeof createUploadBodySchema>;

export const completeUploadBodySchema = z.object({
  part_ids: z.array(z.string().min(1).max(128)).max(10_000),
  md5: z
    .string()
    .regex(/^[0-9a-fA-F]{32}$/, 'must be 32 hexadecimal digits')
    .optional(),
});
export type CompleteUploadBody = z.infer<typeof completeUploadBodySchema>;

/** openbatch extension: pre-signed S3 part URLs for an upload (part numbers 1 to 10,000, at most 1,000 a call). */
export const partUrlsBodySchema = z.object({
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
  /** Extension beside the contract (the SDKs ignore unknown fields). */
  openbatch: OpenBatchExtension;
}

export interface OpenBatchExtension {
  priority: 'normal' | 'high';
  /** `state` is null for batches that failed or were cancelled: no deadline applies any more. */
  sla: { deadline_at: number; state: 'on_track' | 'at_risk' | 'met' | 'breached' | null };
  /** Requests completed on each pool. */
  pools: { spot: number; dedicated: number };
  chunks: { total: number; done: number; escalated: number; interruptions: number };
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

/** One line of a batch input file (BatchRequestInput). */
export const requestLineSchema = z.object({
  custom_id: z.string().min(1),
  method: z.string(),
  url: z.string(),
  body: z.record(z.string(), z.unknown()),
});
export type RequestLine = z.infer<typeof requestLineSchema>;

/** One line of a batch output or error file (BatchRequestOutput). */
export interface ResultLine {
  id: string;
  custom_id: string;
  response: { status_code: number; request_id: string; body: unknown } | null;
  error: { code: string; message: string } | null;
}
