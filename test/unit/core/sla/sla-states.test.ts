import { describe, expect, it } from 'vitest';
import type { BatchRecord } from '../../../../core/batches/batch-record.js';
import { slaStatesAfterSweep } from '../../../../core/sla/sla-states.js';

const batch = (id: string, status: BatchRecord['status'], atRisk = false) =>
  ({ id, status, ...(atRisk ? { at_risk: true } : {}) }) as BatchRecord;

describe('slaStatesAfterSweep', () => {
  it('counts running batches on track and at risk, as the sweep left them', () => {
    const listed = [
      batch('validating', 'validating'),
      batch('running', 'in_progress'),
      batch('flagged', 'in_progress', true),
      batch('escalated-now', 'in_progress'),
      batch('expired-now', 'in_progress', true),
      batch('finalizing', 'finalizing'),
      batch('cancelling', 'cancelling'),
    ];
    expect(
      slaStatesAfterSweep(listed, {
        expired: ['expired-now'],
        escalated: [{ batchId: 'escalated-now', chunks: 3 }],
      }),
    ).toEqual({ on_track: 3, at_risk: 2 });
  });

  it('counts nothing when nothing runs', () => {
    expect(slaStatesAfterSweep([], { expired: [], escalated: [] })).toEqual({ on_track: 0, at_risk: 0 });
  });
});
