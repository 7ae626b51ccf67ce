import { describe, expect, it } from 'vitest';
import {
  chunkFacts,
  chunkState,
  poolOutcomes,
  processedLabel,
  successRateLabel,
} from '../../portal/src/features/batches/utils/progress.js';
import type { ChunkView } from '../../portal/src/types/api.js';
import { batch } from './support/fixtures.js';

const T = 1_800_000_000;

function chunk(over: Partial<ChunkView> & { chunk: number }): ChunkView {
  return {
    object: 'batch.chunk',
    status: 'done',
    requests: 10,
    completed: 10,
    failed: 0,
    pool: 'spot',
    escalated: false,
    interruptions: 0,
    line_start: over.chunk * 10 + 1,
    line_end: over.chunk * 10 + 10,
    ...over,
  };
}

describe('processedLabel (the progress card: how long the batch ran)', () => {
  it('names the duration and the requests of a batch that processed some', () => {
    const b = batch(
      { id: 'b', status: 'completed', in_progress_at: T, completed_at: T + 65 },
      { total: 40, completed: 37, failed: 3 },
    );
    expect(processedLabel(b)).toBe('Processed 40 requests in 1m 05s.');
  });

  it('never says "Processed in 5s" of a batch that processed nothing', () => {
    const cancelled = batch(
      { id: 'c', status: 'cancelled', in_progress_at: T, cancelled_at: T + 5 },
      { total: 3000, completed: 0, failed: 0 },
    );
    expect(processedLabel(cancelled)).toBe('Cancelled before any request ran.');
    const expired = batch(
      { id: 'e', status: 'expired', in_progress_at: T, expired_at: T + 86_400 },
      { total: 10, completed: 0, failed: 0 },
    );
    expect(processedLabel(expired)).toBe('Expired before any request ran.');
    expect(processedLabel(batch({ id: 'f', status: 'failed', failed_at: T }))).toBe(
      'Failed before any request ran.',
    );
  });

  it('says a stopped batch was stopped, rather than "processed"', () => {
    const cancelled = batch(
      { id: 'c', status: 'cancelled', in_progress_at: T, cancelled_at: T + 12 },
      { total: 3000, completed: 19, failed: 1 },
    );
    expect(processedLabel(cancelled)).toBe('Ran 20 requests in 12s, then was cancelled.');
    const expired = batch(
      { id: 'e', status: 'expired', in_progress_at: T, expired_at: T + 7_200 },
      { total: 10, completed: 1, failed: 0 },
    );
    expect(processedLabel(expired)).toBe('Ran 1 request in 2h 00m, then expired.');
  });

  it('says the figures move while the batch runs', () => {
    const running = batch(
      { id: 'r', status: 'in_progress', in_progress_at: T },
      { total: 10, completed: 2, failed: 0 },
    );
    expect(processedLabel(running)).toBe('Updating while the batch runs.');
    expect(processedLabel({ ...running, status: 'cancelling' })).toBe('Updating while the batch runs.');
  });
});

describe('successRateLabel', () => {
  it('is absent before any request finished, never "0%"', () => {
    expect(successRateLabel(batch({ id: 'a' }, { total: 10, completed: 0, failed: 0 }))).toBeNull();
    expect(successRateLabel(batch({ id: 'a' }, { total: 0, completed: 0, failed: 0 }))).toBeNull();
  });

  it('is the share of finished requests that succeeded', () => {
    expect(successRateLabel(batch({ id: 'a' }, { total: 100, completed: 3, failed: 1 }))).toBe(
      'Success rate 75% of 4 finished requests.',
    );
    expect(successRateLabel(batch({ id: 'a' }, { total: 10, completed: 0, failed: 1 }))).toBe(
      'Success rate 0% of 1 finished request.',
    );
  });
});

describe('chunkState', () => {
  it('shows a chunk pending only while its batch can still run it', () => {
    const pending = { status: 'pending' } as const;
    expect(chunkState(pending, { status: 'in_progress' })).toBe('pending');
    expect(chunkState(pending, { status: 'validating' })).toBe('pending');
    expect(chunkState(pending, { status: 'finalizing' })).toBe('pending');
    for (const status of ['cancelling', 'cancelled', 'expired', 'failed', 'completed'] as const)
      expect(chunkState(pending, { status }), status).toBe('not run');
    expect(chunkState({ status: 'done' }, { status: 'cancelled' })).toBe('done');
  });
});

describe('poolOutcomes (requests per pool)', () => {
  it('counts failed requests as failed, not completed, per pool', () => {
    const p = poolOutcomes([
      chunk({ chunk: 0, pool: 'spot', completed: 8, failed: 2 }),
      chunk({ chunk: 1, pool: 'dedicated', completed: 9, failed: 1, escalated: true }),
      chunk({ chunk: 2, pool: 'spot', completed: 10, failed: 0 }),
      // Not done: its requests have not run on any pool yet.
      chunk({ chunk: 3, status: 'pending', pool: null, completed: 0, failed: 0 }),
    ]);
    expect(p).toEqual({ spot: { succeeded: 18, failed: 2 }, dedicated: { succeeded: 9, failed: 1 } });
  });
});

describe('chunkFacts', () => {
  const ext = { chunks: { total: 4, done: 1, escalated: 0, interruptions: 0 } };
  it('reads the chunk rows the page shows, so the figures agree with the table', () => {
    const rows = [
      chunk({ chunk: 0 }),
      chunk({ chunk: 1, pool: 'dedicated', escalated: true, interruptions: 2 }),
      chunk({ chunk: 2, status: 'pending', pool: null }),
      chunk({ chunk: 3, status: 'pending', pool: null, interruptions: 1 }),
    ];
    expect(chunkFacts(ext, rows)).toEqual({ done: 2, total: 4, escalated: 1, interruptions: 3 });
  });

  it("falls back to the batch's counters without chunk rows", () => {
    expect(chunkFacts(ext, null)).toEqual(ext.chunks);
    expect(chunkFacts(ext, [])).toEqual(ext.chunks);
  });
});
