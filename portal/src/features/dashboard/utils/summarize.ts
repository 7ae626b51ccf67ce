import { BATCH_STATUSES, isActive, pendingRequests, processingSeconds } from '../../../lib/batch-status';
import type { Batch, BatchStatus, SlaState } from '../../../types/api';

export interface DashboardSummary {
  batches: number;
  active: number;
  completed24h: number;
  /** Failed or expired in the last 24 hours. */
  failed24h: number;
  requests: { total: number; completed: number; failed: number; pending: number; notRun: number };
  /**
   * Requests that ran on each pool, succeeded or failed (the API's `openbatch.pools`): not
   * completions, which the batch object does not split by pool.
   */
  poolsRun: { spot: number; dedicated: number };
  sla: Record<SlaState, number>;
  byStatus: { status: BatchStatus; count: number }[];
  /** Newest last, for charts that read left to right. */
  recentOutcomes: { id: string; label: string; completed: number; failed: number }[];
  processing: { id: string; label: string; seconds: number }[];
}

const DAY = 86_400;
const short = (id: string) => (id.length > 12 ? `…${id.slice(-6)}` : id);

/** Every figure on the dashboard, computed from the batches loaded (pure, for tests). */
export function summarize(batches: Batch[], nowMs: number, recent = 12): DashboardSummary {
  const since = nowMs / 1000 - DAY;
  const sla: Record<SlaState, number> = { on_track: 0, at_risk: 0, met: 0, breached: 0 };
  const requests = { total: 0, completed: 0, failed: 0, pending: 0, notRun: 0 };
  const poolsRun = { spot: 0, dedicated: 0 };
  const statusCount = new Map<BatchStatus, number>();
  let completed24h = 0;
  let failed24h = 0;
  for (const b of batches) {
    statusCount.set(b.status, (statusCount.get(b.status) ?? 0) + 1);
    requests.total += b.request_counts.total;
    requests.completed += b.request_counts.completed;
    requests.failed += b.request_counts.failed;
    if (isActive(b)) requests.pending += pendingRequests(b);
    else requests.notRun += pendingRequests(b);
    poolsRun.spot += b.openbatch?.pools?.spot ?? 0;
    poolsRun.dedicated += b.openbatch?.pools?.dedicated ?? 0;
    const state = b.openbatch?.sla?.state;
    if (state) sla[state] += 1;
    if (b.completed_at && b.completed_at >= since) completed24h += 1;
    if ((b.failed_at && b.failed_at >= since) || (b.expired_at && b.expired_at >= since)) failed24h += 1;
  }
  const newestFirst = [...batches].sort((a, b) => b.created_at - a.created_at);
  const recentOutcomes = newestFirst
    .filter((b) => b.request_counts.total > 0)
    .slice(0, recent)
    .reverse()
    .map((b) => ({
      id: b.id,
      label: short(b.id),
      completed: b.request_counts.completed,
      failed: b.request_counts.failed,
    }));
  const processing = newestFirst
    .flatMap((b) => {
      const s = processingSeconds(b);
      return s !== null && b.status === 'completed' ? [{ id: b.id, label: short(b.id), seconds: s }] : [];
    })
    .slice(0, recent)
    .reverse();
  return {
    batches: batches.length,
    active: batches.filter(isActive).length,
    completed24h,
    failed24h,
    requests,
    poolsRun,
    sla,
    byStatus: BATCH_STATUSES.map((status) => ({ status, count: statusCount.get(status) ?? 0 })).filter(
      (s) => s.count > 0,
    ),
    recentOutcomes,
    processing,
  };
}
