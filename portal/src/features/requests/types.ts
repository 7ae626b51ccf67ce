/**
 * The per-request API as issue 10 describes it (`GET /v1/openbatch/batches/{batch_id}/requests`,
 * `GET …/requests/{custom_id}`, `POST …/retry`). The server side is being built; until its types
 * land in `core/openai/schemas.ts` these are the portal's reading of the contract, and the
 * components below take them as props only: no page shows them before the API exists.
 */
import type { Pool, ResultLine } from '../../types/api';

/** A request's state: where it is in its batch's run. */
export type RequestStatus = 'pending' | 'running' | 'succeeded' | 'failed' | 'expired' | 'cancelled';

/** One row of the per-request list, in input-line order. */
export interface BatchRequest {
  object: 'batch.request';
  /** `line_<line>`: the list's cursor for `after`. */
  id: string;
  custom_id: string;
  /** 1-based line of the input file. */
  line: number;
  status: RequestStatus;
  /** Where it ran (or runs); null before it was scheduled. */
  pool: Pool | null;
  attempts: number;
  http_status: number | null;
  error_code: string | null;
  /** Answered from an earlier identical request (deduplication, issue 10 point 5), without running. */
  reused?: boolean;
}

/** One request with its input and, once done, its output or error line. */
export interface BatchRequestDetail extends BatchRequest {
  /** The input line: method, url and the body sent to the engine. */
  method: string;
  url: string;
  body: Record<string, unknown>;
  /** The output or error file's line for this request; null until it is done. */
  result: ResultLine | null;
}

/**
 * What `POST /v1/openbatch/batches/{batch_id}/retry` runs again: every criterion given must hold;
 * with none, all failed and expired requests.
 */
export interface RetryFilter {
  custom_ids?: string[];
  statuses?: ('succeeded' | 'failed' | 'expired' | 'cancelled')[];
  error_codes?: string[];
  http_statuses?: number[];
}
