/**
 * The per-request API (`GET /v1/openbatch/batches/{batch_id}/requests`, `…/requests/{custom_id}`,
 * `POST …/retry`): its types come from the contract in `core/openai/schemas.ts`, so a change there
 * breaks these components' type check.
 */
import type {
  BatchRequestDetail as ApiRequestDetail,
  BatchRequestView,
  RequestStatus,
  RetryBody,
} from '../../types/api';

export type { RequestStatus };

/**
 * One row of the per-request list, in input-line order; `reused` marks a request answered from
 * an earlier identical one (deduplication) without running. An API from before deduplication
 * leaves it out, which reads as not reused.
 */
export type BatchRequest = BatchRequestView;

/** One request with its input line (method, url, body) and, once done, its output or error line. */
export type BatchRequestDetail = ApiRequestDetail;

/**
 * What `POST /v1/openbatch/batches/{batch_id}/retry` runs again: every criterion given must hold;
 * with none, all failed and expired requests.
 */
export type RetryFilter = RetryBody;
