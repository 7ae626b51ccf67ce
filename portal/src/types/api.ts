/**
 * The API's types. The contract lives in `core/openai/schemas.ts`, shared with the Lambdas, so
 * the portal is checked against the same declarations the server renders its responses from:
 * a changed field there breaks the portal's type check, not a user's screen. Type-only imports
 * are erased at build time; nothing from `core/` is bundled.
 */
import type {
  BatchError,
  BatchObject,
  BatchRequestDetail,
  BatchRequestView,
  BatchStatus,
  ChunkView,
  CreateBatchBody,
  FileObject,
  ListPage,
  OpenBatchExtension,
  RequestStatus,
  ResultLine,
  RetryBody,
  UploadObject,
} from '../../../core/openai/schemas.js';

export type Batch = BatchObject;
export type {
  BatchError,
  BatchRequestDetail,
  BatchRequestView,
  BatchStatus,
  ChunkView,
  FileObject,
  ListPage,
  OpenBatchExtension,
  RequestStatus,
  ResultLine,
  RetryBody,
  UploadObject,
};

/** One pre-signed part URL (openbatch extension `POST /v1/openbatch/uploads/{id}/part_urls`). */
export interface PartUrl {
  part_number: number;
  url: string;
  expires_at: number;
}
export type SlaState = NonNullable<OpenBatchExtension['sla']['state']>;
export type Pool = 'spot' | 'dedicated';
export type Priority = OpenBatchExtension['priority'];

/** Endpoints openbatch runs (mirrors SUPPORTED_ENDPOINTS, which the type below checks). */
export const ENDPOINTS = [
  '/v1/chat/completions',
  '/v1/completions',
  '/v1/embeddings',
  '/v1/responses',
] as const satisfies readonly import('../../../core/openai/schemas.js').Endpoint[];
export type Endpoint = (typeof ENDPOINTS)[number];

/** OpenAI's error body, `{"error": {...}}`. */
export interface OpenAIErrorBody {
  error: { message: string; type: string; param: string | null; code: string | null };
}

/** A batch's deduplication mode, as the batch object reports it. */
export type DedupMode = OpenBatchExtension['dedup'];

export interface CreateBatchInput {
  input_file_id: string;
  endpoint: Endpoint;
  completion_window: string;
  metadata?: Record<string, string> | null;
  priority?: Priority;
  /** Extension: `dedup` false runs every request; `include_sampling` reuses sampling requests too. */
  openbatch?: NonNullable<CreateBatchBody['openbatch']>;
}
