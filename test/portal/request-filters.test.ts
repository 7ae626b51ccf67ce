import { describe, expect, it } from 'vitest';
import type { BatchRequest } from '../../portal/src/features/requests/types.js';
import {
  countRequestsByStatus,
  filterRequests,
  isRetryable,
  retryState,
} from '../../portal/src/features/requests/utils/request-filters.js';

const req = (line: number, over: Partial<BatchRequest> = {}): BatchRequest => ({
  object: 'batch.request',
  id: `line_${line}`,
  custom_id: `req-${line}`,
  line,
  status: 'succeeded',
  pool: 'spot',
  attempts: 1,
  http_status: 200,
  error_code: null,
  reused: false,
  ...over,
});

const rows = [
  req(3, { status: 'failed', http_status: 500, error_code: 'engine_error' }),
  req(1),
  req(2, { custom_id: 'other-2', status: 'expired', http_status: null }),
  req(4, { custom_id: 'req-40', status: 'pending', pool: null, attempts: 0, http_status: null }),
  req(5, { custom_id: 'other-5', reused: true }),
];

describe('filterRequests', () => {
  it('keeps input-line order and applies status and search together', () => {
    expect(filterRequests(rows, { status: 'all', search: '' }).map((r) => r.line)).toEqual([1, 2, 3, 4, 5]);
    expect(filterRequests(rows, { status: 'succeeded', search: '' }).map((r) => r.line)).toEqual([1, 5]);
    expect(filterRequests(rows, { status: 'succeeded', search: 'REQ-' }).map((r) => r.line)).toEqual([1]);
    expect(filterRequests(rows, { status: 'all', search: 'engine' }).map((r) => r.line)).toEqual([3]);
  });
});

describe('countRequestsByStatus', () => {
  it('counts what the search matches, every status present', () => {
    expect(countRequestsByStatus(rows, '')).toEqual({
      all: 5,
      pending: 1,
      running: 0,
      succeeded: 2,
      failed: 1,
      expired: 1,
      cancelled: 0,
    });
    expect(countRequestsByStatus(rows, 'other')).toEqual({
      all: 2,
      pending: 0,
      running: 0,
      succeeded: 1,
      failed: 0,
      expired: 1,
      cancelled: 0,
    });
  });
});

describe('isRetryable', () => {
  it('is true of failed and expired requests only', () => {
    expect(rows.filter(isRetryable).map((r) => r.line)).toEqual([3, 2]);
  });
});

describe('retryState', () => {
  const counts = { total: 10, completed: 6, failed: 2 };
  it('retries the failed requests of an ended batch, and an expired batch its unfinished ones too', () => {
    expect(retryState({ status: 'completed', request_counts: counts })).toEqual({
      retryable: 2,
      disabledReason: null,
    });
    expect(retryState({ status: 'expired', request_counts: counts })).toEqual({
      retryable: 4,
      disabledReason: null,
    });
    // A cancelled batch's unfinished requests are cancelled, not retried by default.
    expect(retryState({ status: 'cancelled', request_counts: counts })).toEqual({
      retryable: 2,
      disabledReason: null,
    });
  });

  it('says why a running or failed batch cannot be retried', () => {
    for (const status of ['validating', 'in_progress', 'finalizing', 'cancelling'] as const)
      expect(retryState({ status, request_counts: counts }).disabledReason, status).toBe(
        'The batch is still running; retry it once it has ended.',
      );
    expect(retryState({ status: 'failed', request_counts: { total: 0, completed: 0, failed: 0 } })).toEqual({
      retryable: 0,
      disabledReason: 'The batch failed validation: no request ran to retry.',
    });
  });
});
