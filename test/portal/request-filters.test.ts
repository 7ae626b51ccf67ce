import { describe, expect, it } from 'vitest';
import type { BatchRequest } from '../../portal/src/features/requests/types.js';
import {
  countRequestsByStatus,
  filterRequests,
  isRetryable,
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
