/**
 * The per-request API (`GET /v1/openbatch/batches/{batch_id}/requests`, `…/requests/{custom_id}`,
 * `POST …/retry`): its types come from the contract in `core/openai/schemas.ts`, so a change there
 * breaks these components' type check. The components take them as props only; no page shows them
 * yet.
 */
import type {
  BatchRequestDetail as ApiRequestDetail,
  BatchRequestView,
  RequestStatus,
  RetryBody,
} from '../../types/api';

export type { RequestStatus };

/**
 * Whether a request was answered from an earlier identical one (deduplication, issue 10 point 5),
 * without running; absent until the API reports it.
 */
interface Dedup {
  reused?: boolean;
}

/** One row of the per-request list, in input-line order. */
export type BatchRequest = BatchRequestView & Dedup;

/** One request with its input line (method, url, body) and, once done, its output or error line. */
export type BatchRequestDetail = ApiRequestDetail & Dedup;

/**
 * What `POST /v1/openbatch/batches/{batch_id}/retry` runs again: every criterion given must hold;
 * with none, all failed and expired requests.
 */
export type RetryFilter = RetryBody;
