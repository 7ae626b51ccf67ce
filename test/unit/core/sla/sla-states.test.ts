import { describe, expect, it } from 'vitest';
import type { BatchRecord } from '../../../../core/batches/batch-record.js';
import { slaStatesAfterSweep } from '../../../../core/sla/sla-states.js';

const batch = (id: string, status: BatchRecord['status'], atRisk = false) =>
  ({ id, status, ...(atRisk ? { at_risk: true } : {}) }) as BatchRecord;

describe('slaStatesAfterSweep', () => {
  it("counts running batches on track and at risk by the sweep's policy, not by what was stored before", () => {
    const listed = [
      batch('validating', 'validating'),
      batch('running', 'in_progress'),
      batch('still-at-risk', 'in_progress', true),
      batch('de-escalated', 'in_progress', true),
      batch('escalated-now', 'in_progress'),
      batch('expired-now', 'in_progress', true),
      batch('finalizing', 'finalizing'),
      batch('cancelling', 'cancelling'),
    ];
    expect(
      slaStatesAfterSweep(listed, {
        expired: ['expired-now'],
        atRisk: ['still-at-risk', 'escalated-now'],
      }),
    ).toEqual({ on_track: 4, at_risk: 2 });
  });

  it('counts nothing when nothing runs', () => {
    expect(slaStatesAfterSweep([], { expired: [], atRisk: [] })).toEqual({ on_track: 0, at_risk: 0 });
  });
});
