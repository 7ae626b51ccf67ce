import { type BatchRecord, slaState } from '../batches/batch-record.js';
import type { SweepReport } from './sla-sweep.js';

export interface SlaStateCounts {
  on_track: number;
  at_risk: number;
}

/**
 * Running batches by SLA state once a sweep is done, from the batches it listed at its start:
 * a batch the sweep's policy judged at risk is at risk now, any other running batch on track
 * (the policy's verdict replaces the one stored before the sweep); a batch it expired missed its
 * window (the sweep's `expired`) and is neither; batches with no SLA state (cancelling) are left
 * out.
 */
export function slaStatesAfterSweep(
  listed: readonly BatchRecord[],
  report: Pick<SweepReport, 'expired' | 'atRisk'>,
): SlaStateCounts {
  const expired = new Set(report.expired);
  const atRisk = new Set(report.atRisk);
  const counts: SlaStateCounts = { on_track: 0, at_risk: 0 };
  for (const batch of listed) {
    if (expired.has(batch.id)) continue;
    const state = slaState({ ...batch, at_risk: atRisk.has(batch.id) });
    if (state === 'on_track' || state === 'at_risk') counts[state] += 1;
  }
  return counts;
}
