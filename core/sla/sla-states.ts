import { type BatchRecord, slaState } from '../batches/batch-record.js';
import type { SweepReport } from './sla-sweep.js';

export interface SlaStateCounts {
  on_track: number;
  at_risk: number;
}

/**
 * Running batches by SLA state once a sweep is done, from the batches it listed at its start:
 * a batch it escalated is at risk now; a batch it expired missed its window (the sweep's
 * `expired`) and is neither on track nor at risk; batches with no SLA state (cancelling) are
 * left out.
 */
export function slaStatesAfterSweep(
  listed: readonly BatchRecord[],
  report: Pick<SweepReport, 'expired' | 'escalated'>,
): SlaStateCounts {
  const expired = new Set(report.expired);
  const escalated = new Set(report.escalated.map((e) => e.batchId));
  const counts: SlaStateCounts = { on_track: 0, at_risk: 0 };
  for (const batch of listed) {
    if (expired.has(batch.id)) continue;
    const state = escalated.has(batch.id) ? 'at_risk' : slaState(batch);
    if (state === 'on_track' || state === 'at_risk') counts[state] += 1;
  }
  return counts;
}
