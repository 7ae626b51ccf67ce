/**
 * The custom metrics openbatch emits in CloudWatch Embedded Metric Format (through
 * `emitMetrics` in core/observability/metrics.ts), as the dashboards and alarms read them. One
 * list, shared by the CloudWatch dashboard, the alarms and the Grafana dashboard.
 *
 * test/cdk/monitoring-catalog.test.ts reads every `emitMetrics(...)` call in the code (lambdas/,
 * gpu-worker/src/, core/) and checks both ways: every metric here that is not `pending` is
 * emitted with its dimensions, every metric the code emits is here, and no `pending` metric is
 * emitted yet (drop the mark when the code emits it). A renamed metric cannot silently empty a
 * graph or starve an alarm.
 */

export const emfNamespace = 'openbatch';

/** The part of openbatch that emits (or must emit) a metric. */
export type Stage = 'api' | 'scheduler' | 'worker' | 'finalizer' | 'sla-monitor' | 'housekeeping';

export type EmfUnit = 'Count' | 'Milliseconds' | 'Bytes' | 'Percent';
export type EmfStatistic = 'Sum' | 'Maximum' | 'Average' | 'p50' | 'p90' | 'p95' | 'p99';

export interface EmfMetric {
  readonly name: string;
  /** Fixed dimensions (e.g. Function=sla-monitor). */
  readonly dimensions: Readonly<Record<string, string>>;
  /** The dimensions whose values split the metric (e.g. Pool), in the order they are emitted. */
  readonly by?: readonly string[];
  readonly unit: EmfUnit;
  /** The statistic graphs and alarms use unless they ask for another. */
  readonly statistic: EmfStatistic;
  readonly description: string;
  readonly stage: Stage;
  /**
   * The dashboards or alarms read it but no code emits it yet: the stage must. Until then its
   * graphs are empty and its alarms stay OK (missing data is not breaching).
   */
  readonly pending?: true;
}

type Entry = Omit<EmfMetric, 'stage' | 'dimensions' | 'unit' | 'statistic'> &
  Partial<Pick<EmfMetric, 'dimensions' | 'unit' | 'statistic'>>;

const stage =
  (s: Stage, defaults: Pick<EmfMetric, 'dimensions'> & Partial<EmfMetric>) =>
  (entries: readonly Entry[]): EmfMetric[] =>
    entries.map((e) => ({ unit: 'Count', statistic: 'Sum', ...defaults, ...e, stage: s }));

const pool = ['Pool'] as const;

/** API functions, one data point per request (the API Gateway metrics cover the stage as a whole). */
export const apiMetrics = stage('api', { dimensions: { Function: 'api' } })([
  {
    name: 'ApiRequests',
    description: 'API requests by route (method and path template) and HTTP status',
    by: ['Route', 'Status'],
  },
  {
    name: 'ApiLatency',
    // The same dimensions as ApiRequests, so that one emitMetrics call per request carries both.
    description: 'Time the function took to answer, by route and HTTP status',
    by: ['Route', 'Status'],
    unit: 'Milliseconds',
    statistic: 'p95',
  },
]);

export const schedulerMetrics = stage('scheduler', { dimensions: { Function: 'scheduler' } })([
  { name: 'LinesValidated', description: 'Input lines validated (per second on the graphs)' },
  {
    // Validation moved ahead of the scheduler for files uploaded through POST /v1/files
    // (core/chunks/file-plan.ts): graphed beside the scheduler's own.
    name: 'LinesValidatedAtUpload',
    dimensions: { Function: 'api' },
    description:
      'Lines of batch files validated at upload: POST /v1/files, and Uploads completed from API parts (per second on the graphs)',
  },
  { name: 'ChunksPlanned', description: 'Chunks cut and sent to a pool queue' },
  {
    name: 'ValidationFailures',
    description: 'Input lines or files refused, by OpenAI error code',
    by: ['Code'],
  },
]);

export const workerMetrics = stage('worker', { dimensions: {}, by: pool })([
  { name: 'ChunksCompleted', description: 'Chunks completed' },
  { name: 'ChunksHandedOff', description: 'Chunks checkpointed and handed to dedicated' },
  { name: 'ChunksReleased', description: 'Chunks given back to their queue unfinished (worker stopping)' },
  { name: 'ChunksDuplicate', description: 'Duplicate chunk deliveries (no double count)' },
  { name: 'RequestsRun', description: 'Requests run on the engine' },
  { name: 'RequestsFailed', description: 'Requests that ended in the error file' },
  {
    name: 'ChunkDuration',
    description: 'Time to run one chunk',
    unit: 'Milliseconds',
    statistic: 'p90',
  },
  {
    name: 'EngineLatency',
    description: 'Time the engine took per request (p50 and p99 on the graphs)',
    unit: 'Milliseconds',
    statistic: 'p50',
  },
  { name: 'TokensGenerated', description: 'Completion tokens the engine produced' },
  {
    name: 'WorkerErrors',
    description: 'Engine calls that failed, by error code (before retries)',
    by: ['Pool', 'Code'],
  },
  { name: 'EngineRetries', description: 'Engine calls retried' },
  { name: 'Interruptions', description: 'Spot interruptions and drains a worker received' },
  { name: 'LeaseRenewals', description: 'Chunk visibility (lease) extensions' },
  {
    name: 'EngineUnhealthy',
    description: "Failed probes of the engine's health endpoint",
  },
  {
    name: 'EngineKvCacheUsage',
    description:
      "GPU KV-cache usage the engine reports on its Prometheus endpoint (vLLM's gpu_cache_usage_perc)",
    unit: 'Percent',
    statistic: 'Maximum',
  },
  {
    name: 'EngineRequestsRunning',
    description: "Requests running inside the engine (vLLM's num_requests_running)",
    statistic: 'Maximum',
  },
  {
    name: 'EngineRequestsWaiting',
    description: "Requests queued inside the engine (vLLM's num_requests_waiting)",
    statistic: 'Maximum',
  },
]);

export const finalizerMetrics = stage('finalizer', { dimensions: { Function: 'finalizer' } })([
  {
    name: 'FinalizeDuration',
    description: 'Time to stitch a batch’s output and error files',
    unit: 'Milliseconds',
    statistic: 'p90',
  },
  {
    name: 'BytesWritten',
    description: 'Bytes written to output and error files',
    unit: 'Bytes',
  },
]);

export const slaMetrics = stage('sla-monitor', { dimensions: { Function: 'sla-monitor' } })([
  { name: 'BatchesExpired', description: 'Batches that reached their completion window (window missed)' },
  { name: 'ChunksEscalated', description: 'Chunks escalated to dedicated capacity (deadline risk)' },
  { name: 'BatchesEscalated', description: 'Batches escalated to dedicated capacity' },
  {
    name: 'BatchesDeescalated',
    description: 'Batches the policy sent back to Spot (deadline pressure low again)',
  },
  {
    name: 'DesiredTasks',
    description: "Tasks each pool should run, by core/policy (per SLA sweep): the pool's scaling reads it",
    by: ['Pool'],
    statistic: 'Maximum',
  },
  { name: 'FinalizeRequeued', description: 'Finalizations requested again (lost message)' },
  { name: 'ValidationRedriven', description: 'Validations requested again (lost message)' },
  { name: 'ValidationStalled', description: 'Validations that stopped making progress' },
  {
    name: 'ActiveBatches',
    description: 'Running batches by status (per SLA sweep)',
    by: ['Status'],
    statistic: 'Maximum',
  },
  {
    name: 'BatchesBySlaState',
    description: 'Running batches by SLA state: on_track or at_risk (per SLA sweep)',
    by: ['SlaState'],
    statistic: 'Maximum',
  },
]);

export const housekeepingMetrics = stage('housekeeping', { dimensions: { Function: 'housekeeping' } })([
  { name: 'UploadsExpired', description: 'Uploads ended past their hour' },
  { name: 'FilesExpired', description: 'Files deleted past their expiry' },
]);

export const allEmfMetrics: readonly EmfMetric[] = [
  ...apiMetrics,
  ...schedulerMetrics,
  ...workerMetrics,
  ...finalizerMetrics,
  ...slaMetrics,
  ...housekeepingMetrics,
];

/** A metric of the catalog by name; throws on a name the catalog does not have. */
export function emf(name: string): EmfMetric {
  const m = allEmfMetrics.find((x) => x.name === name);
  if (!m) throw new Error(`'${name}' is not in the metric catalog (cdk/lib/monitoring/catalog.ts)`);
  return m;
}

/** The value an SLA sweep gives the `SlaState` dimension of a batch at deadline risk. */
export const atRiskSlaState = 'at_risk';
