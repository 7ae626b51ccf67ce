import type { Context } from 'aws-lambda';
import { getDeps } from '../../core/app/deps.js';
import { DEFAULT_POOL_GROUP } from '../../core/models/catalog.js';
import { log } from '../../core/observability/log.js';
import { emitMetrics } from '../../core/observability/metrics.js';
import { slaStatesAfterSweep } from '../../core/sla/sla-states.js';
import { expireOnTime, slaSweep } from '../../core/sla/sla-sweep.js';
import { withInvocation } from '../shared/invocation.js';
import { measuredDeps } from '../shared/measured-deps.js';

/** Runs on a schedule (EventBridge on AWS, a timer locally). */
export function handler(_event?: unknown, context?: Context): Promise<void> {
  return withInvocation(context, {}, sweep);
}

async function sweep(): Promise<void> {
  const { deps, counts } = measuredDeps(getDeps('slaMonitor'));
  const report = await slaSweep(deps);
  if (
    report.expired.length +
      report.escalated.length +
      report.deescalated.length +
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
      { ActiveBatches: { value: report.active[status] ?? 0, gauge: true } },
    );
  }
  const states = slaStatesAfterSweep(counts.active, report);
  for (const state of ['on_track', 'at_risk'] as const) {
    await emitMetrics(
      { Function: 'sla-monitor', SlaState: state },
      { BatchesBySlaState: { value: states[state], gauge: true } },
    );
  }
  // The policy's desired task count per pool, which each pool's scaling reads
  // (cdk/lib/constructs/backlog-scaling.ts): the default group's under {Pool} as before pool
  // groups, every other group's under {Pool, PoolGroup}.
  for (const [group, tasks] of Object.entries(report.groupDesiredTasks)) {
    for (const pool of ['spot', 'dedicated'] as const) {
      if (group === DEFAULT_POOL_GROUP)
        await emitMetrics(
          { Function: 'sla-monitor', Pool: pool },
          { DesiredTasks: { value: tasks[pool], gauge: true } },
        );
      else
        await emitMetrics(
          { Function: 'sla-monitor', Pool: pool, PoolGroup: group },
          { DesiredTasks: { value: tasks[pool], gauge: true } },
        );
    }
  }
  await emitMetrics(
    { Function: 'sla-monitor' },
    {
      BatchesExpired: report.expired.length,
      BatchesDeescalated: report.deescalated.length,
      ChunksEscalated: report.escalated.reduce((n, e) => n + e.chunks, 0),
      BatchesEscalated: report.escalated.length,
      FinalizeRequeued: report.finalizeRequested.length,
      ValidationRedriven: report.redriven.length,
      ValidationStalled: report.stalled.length,
    },
  );
  // Batches whose window ends before the next sweep expire at their second, not up to a period late.
  if (report.dueSoon.length > 0) {
    const expired = await expireOnTime(deps, report.dueSoon, sleep);
    if (expired.length > 0) log.info('batches expired at their window', { expired });
    await emitMetrics({ Function: 'sla-monitor' }, { BatchesExpired: expired.length });
  }
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
