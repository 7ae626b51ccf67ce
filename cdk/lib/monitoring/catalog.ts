/**
 * The custom metrics openbatch emits in CloudWatch Embedded Metric Format, as the dashboards
 * and alarms read them. One list, shared by the CloudWatch dashboard, the alarms and the
 * Grafana dashboard; test/cdk/monitoring.test.ts checks that each metric marked `emittedBy`
 * is named in that source file, so a renamed metric cannot silently empty a graph.
 */

export const emfNamespace = 'openbatch';

export interface EmfMetric {
  readonly name: string;
  /** Fixed dimensions besides the varying one (e.g. Function=sla-monitor). */
  readonly dimensions: Readonly<Record<string, string>>;
  /** The dimension whose values split the metric (e.g. Pool), if any. */
  readonly by?: string;
  readonly unit: 'Count' | 'Milliseconds';
  readonly statistic: 'Sum' | 'Maximum' | 'p50' | 'p90';
  readonly description: string;
  /**
   * The source file that emits it (checked by the tests), or `requested` for a metric the
   * dashboards already show but the code does not emit yet.
   */
  readonly emittedBy: string | 'requested';
}

const worker = 'gpu-worker/src/main.ts';
const slaMonitor = 'lambdas/sla-monitor/handler.ts';

export const workerMetrics: readonly EmfMetric[] = [
  { name: 'ChunksCompleted', description: 'Chunks completed', statistic: 'Sum' },
  { name: 'ChunksHandedOff', description: 'Chunks checkpointed and handed to dedicated', statistic: 'Sum' },
  { name: 'ChunksDuplicate', description: 'Duplicate chunk deliveries (no double count)', statistic: 'Sum' },
  { name: 'RequestsRun', description: 'Requests run on the engine', statistic: 'Sum' },
  { name: 'RequestsFailed', description: 'Requests that ended in the error file', statistic: 'Sum' },
].map((m) => ({
  ...m,
  dimensions: {},
  by: 'Pool',
  unit: 'Count' as const,
  statistic: m.statistic as EmfMetric['statistic'],
  emittedBy: worker,
}));

export const chunkDuration: EmfMetric = {
  name: 'ChunkDuration',
  description: 'Time to run one chunk',
  dimensions: {},
  by: 'Pool',
  unit: 'Milliseconds',
  statistic: 'p90',
  emittedBy: worker,
};

export const slaMetrics: readonly EmfMetric[] = [
  { name: 'BatchesExpired', description: 'Batches that reached their completion window (SLA missed)' },
  { name: 'ChunksEscalated', description: 'Chunks escalated to dedicated capacity (deadline risk)' },
  { name: 'FinalizeRequeued', description: 'Finalizations requested again (lost message)' },
].map((m) => ({
  ...m,
  dimensions: { Function: 'sla-monitor' },
  unit: 'Count' as const,
  statistic: 'Sum' as const,
  emittedBy: slaMonitor,
}));

/**
 * Running batches by status (validating, in_progress, finalizing, cancelling), as the SLA
 * monitor sees them on each sweep over the `active-by-expiry` index.
 */
export const activeBatches: EmfMetric = {
  name: 'ActiveBatches',
  description: 'Running batches by status (per SLA sweep)',
  dimensions: { Function: 'sla-monitor' },
  by: 'Status',
  unit: 'Count',
  statistic: 'Maximum',
  emittedBy: slaMonitor,
};

export const allEmfMetrics: readonly EmfMetric[] = [
  ...workerMetrics,
  chunkDuration,
  ...slaMetrics,
  activeBatches,
];
