import type { Batch, BatchStatus } from '../types/api';

export const BATCH_STATUSES: readonly BatchStatus[] = [
  'validating',
  'in_progress',
  'finalizing',
  'completed',
  'failed',
  'expired',
  'cancelling',
  'cancelled',
];

const ACTIVE: ReadonlySet<BatchStatus> = new Set(['validating', 'in_progress', 'finalizing', 'cancelling']);

export const isActive = (b: Pick<Batch, 'status'>): boolean => ACTIVE.has(b.status);
export const isCancellable = (b: Pick<Batch, 'status'>): boolean =>
  b.status === 'validating' || b.status === 'in_progress' || b.status === 'finalizing';

export const statusLabel = (s: BatchStatus): string =>
  ({
    validating: 'Validating',
    in_progress: 'In progress',
    finalizing: 'Finalizing',
    completed: 'Completed',
    failed: 'Failed',
    expired: 'Expired',
    cancelling: 'Cancelling',
    cancelled: 'Cancelled',
  })[s];

/** Requests neither completed nor failed yet. */
export const pendingRequests = (b: Pick<Batch, 'request_counts'>): number =>
  Math.max(0, b.request_counts.total - b.request_counts.completed - b.request_counts.failed);

/** Seconds from start of processing to the end, when both are known. */
export function processingSeconds(b: Batch): number | null {
  const end = b.completed_at ?? b.expired_at ?? b.cancelled_at;
  return end && b.in_progress_at ? end - b.in_progress_at : null;
}

/** The batch's pools: where its requests ran (succeeded or failed). */
export function poolsUsed(b: Batch): ('spot' | 'dedicated')[] {
  const p = b.openbatch?.pools;
  if (!p) return [];
  return [...(p.spot > 0 ? (['spot'] as const) : []), ...(p.dedicated > 0 ? (['dedicated'] as const) : [])];
}
