import { isActive, processingSeconds } from '../../../lib/batch-status';
import { formatDuration, formatNumber, formatPercent } from '../../../lib/format';
import type { Batch, ChunkView, OpenBatchExtension, Pool } from '../../../types/api';

/** Requests that ended either way: succeeded (`completed`) or failed. */
export const finishedRequests = (b: Pick<Batch, 'request_counts'>): number =>
  b.request_counts.completed + b.request_counts.failed;

/**
 * The progress card's line on how long the batch ran. It names a duration only for a batch that
 * ran something: a batch cancelled, expired or failed before any request finished says so
 * instead of "Processed in 5s".
 */
export function processedLabel(b: Batch): string | null {
  if (isActive(b)) return 'Updating while the batch runs.';
  const finished = finishedRequests(b);
  const took = processingSeconds(b);
  if (finished === 0) {
    switch (b.status) {
      case 'cancelled':
        return 'Cancelled before any request ran.';
      case 'expired':
        return 'Expired before any request ran.';
      case 'failed':
        return 'Failed before any request ran.';
      default:
        return 'No request ran.';
    }
  }
  if (took === null) return null;
  const n = `${formatNumber(finished)} ${finished === 1 ? 'request' : 'requests'}`;
  switch (b.status) {
    case 'cancelled':
      return `Ran ${n} in ${formatDuration(took)}, then was cancelled.`;
    case 'expired':
      return `Ran ${n} in ${formatDuration(took)}, then expired.`;
    default:
      return `Processed ${n} in ${formatDuration(took)}.`;
  }
}

/**
 * The success rate of finished requests, or null while none has finished: "0%" before anything
 * ran would read as "everything failed".
 */
export function successRateLabel(b: Pick<Batch, 'request_counts'>): string | null {
  const finished = finishedRequests(b);
  if (finished === 0) return null;
  return `Success rate ${formatPercent(b.request_counts.completed, finished)} of ${formatNumber(finished)} finished ${finished === 1 ? 'request' : 'requests'}.`;
}

/**
 * How a chunk reads on the page. The API says only `pending` or `done`; a chunk still pending
 * once its batch has stopped (cancelled, cancelling, expired, failed) will never run, so it
 * reads "not run", not "pending".
 */
export type ChunkState = 'done' | 'pending' | 'not run';

export function chunkState(chunk: Pick<ChunkView, 'status'>, batch: Pick<Batch, 'status'>): ChunkState {
  if (chunk.status === 'done') return 'done';
  return isActive(batch) && batch.status !== 'cancelling' ? 'pending' : 'not run';
}

/** Requests that finished on one pool, by outcome. */
export interface PoolOutcome {
  succeeded: number;
  failed: number;
}

/**
 * Requests per pool from the chunk records (a done chunk ran all its requests on one pool):
 * succeeded and failed apart, so a failure is never counted as a completion.
 */
export function poolOutcomes(chunks: readonly ChunkView[]): Record<Pool, PoolOutcome> {
  const out: Record<Pool, PoolOutcome> = {
    spot: { succeeded: 0, failed: 0 },
    dedicated: { succeeded: 0, failed: 0 },
  };
  for (const c of chunks) {
    if (c.status !== 'done' || !c.pool) continue;
    out[c.pool].succeeded += c.completed;
    out[c.pool].failed += c.failed;
  }
  return out;
}

/** The chunk figures of the batch page. */
export interface ChunkFacts {
  done: number;
  total: number;
  escalated: number;
  interruptions: number;
}

/**
 * Chunk figures from the chunk records when the page has them (the same rows the map and table
 * show, so the figures above them cannot disagree), else from the batch's counters.
 */
export function chunkFacts(
  ext: Pick<OpenBatchExtension, 'chunks'>,
  chunks: readonly ChunkView[] | null | undefined,
): ChunkFacts {
  if (!chunks || chunks.length === 0) return { ...ext.chunks };
  return {
    done: chunks.filter((c) => c.status === 'done').length,
    total: Math.max(chunks.length, ext.chunks.total),
    escalated: chunks.filter((c) => c.escalated).length,
    interruptions: chunks.reduce((n, c) => n + c.interruptions, 0),
  };
}
