import { getDeps } from '../../core/app/deps.js';
import { log } from '../../core/observability/log.js';
import { emitMetrics } from '../../core/observability/metrics.js';
import { slaSweep } from '../../core/sla/sla-sweep.js';

/** Runs on a schedule (EventBridge on AWS, a timer locally). */
export async function handler(): Promise<void> {
  const report = await slaSweep(getDeps('slaMonitor'));
  if (
    report.expired.length +
      report.escalated.length +
      report.finalizeRequested.length +
      report.redriven.length +
      report.stalled.length >
    0
  )
    log.info('sla sweep', { ...report });
  // Every status a running batch can have, so a status that empties shows 0, not a gap.
  for (const status of ['validating', 'in_progress', 'finalizing', 'cancelling'] as const) {
    await emitMetrics(
      { Function: 'sla-monitor', Status: status },
      { ActiveBatches: report.active[status] ?? 0 },
    );
  }
  await emitMetrics(
    { Function: 'sla-monitor' },
    {
      BatchesExpired: report.expired.length,
      ChunksEscalated: report.escalated.reduce((n, e) => n + e.chunks, 0),
      FinalizeRequeued: report.finalizeRequested.length,
      ValidationRedriven: report.redriven.length,
      ValidationStalled: report.stalled.length,
    },
  );
}
