import type { Batch } from '../../../types/api';
import type { BatchRequest, RequestStatus } from '../types';

/** Every status, in run order; a status the API adds is a type error here until it is placed. */
const statusOrder: Record<RequestStatus, number> = {
  pending: 0,
  running: 1,
  succeeded: 2,
  failed: 3,
  expired: 4,
  cancelled: 5,
};
export const REQUEST_STATUSES = (Object.keys(statusOrder) as RequestStatus[]).sort(
  (a, b) => statusOrder[a] - statusOrder[b],
);

export type StatusFilter = RequestStatus | 'all';

/** Whether a request matches the search: part of its custom_id, or its error code, any case. */
export function matchesRequestSearch(
  r: Pick<BatchRequest, 'custom_id' | 'error_code'>,
  search: string,
): boolean {
  const q = search.trim().toLowerCase();
  if (!q) return true;
  return r.custom_id.toLowerCase().includes(q) || (r.error_code?.toLowerCase().includes(q) ?? false);
}

/** The rows to show: the search and the status filter applied, in input-line order. */
export function filterRequests(
  requests: readonly BatchRequest[],
  opts: { status: StatusFilter; search: string },
): BatchRequest[] {
  return requests
    .filter(
      (r) => (opts.status === 'all' || r.status === opts.status) && matchesRequestSearch(r, opts.search),
    )
    .sort((a, b) => a.line - b.line);
}

/**
 * Requests per status among those the search matches, so each filter chip says how many rows it
 * would show (`all` included); a status with none is 0, not absent.
 */
export function countRequestsByStatus(
  requests: readonly BatchRequest[],
  search: string,
): Record<StatusFilter, number> {
  const counts = Object.fromEntries([['all', 0], ...REQUEST_STATUSES.map((s) => [s, 0])]) as Record<
    StatusFilter,
    number
  >;
  for (const r of requests) {
    if (!matchesRequestSearch(r, search)) continue;
    counts.all += 1;
    counts[r.status] += 1;
  }
  return counts;
}

/** Requests a retry would run again by default: failed and expired. */
export const isRetryable = (r: Pick<BatchRequest, 'status'>): boolean =>
  r.status === 'failed' || r.status === 'expired';

/**
 * What a retry of the whole batch would run again, and why it cannot yet: the API retries ended
 * batches only (completed, expired, cancelled), by default their failed and expired requests (an
 * expired batch's unfinished requests are expired; a cancelled batch's are cancelled).
 */
export function retryState(b: Pick<Batch, 'status' | 'request_counts'>): {
  retryable: number;
  disabledReason: string | null;
} {
  const c = b.request_counts;
  const unfinished = Math.max(0, c.total - c.completed - c.failed);
  const retryable = c.failed + (b.status === 'expired' ? unfinished : 0);
  switch (b.status) {
    case 'validating':
    case 'in_progress':
    case 'finalizing':
    case 'cancelling':
      return { retryable, disabledReason: 'The batch is still running; retry it once it has ended.' };
    case 'failed':
      return { retryable: 0, disabledReason: 'The batch failed validation: no request ran to retry.' };
    default:
      return { retryable, disabledReason: null };
  }
}
