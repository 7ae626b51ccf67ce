import { type Exposition, meanBetween, ratePerSecond, samplesOf, sumBy, total } from './prometheus';

/**
 * The series the operator page reads, by the names the local runtime's `/metrics` gives the
 * metric catalog's EMF metrics (cdk/lib/monitoring/catalog.ts through
 * core/observability/prometheus.ts `prometheusName`: counters `_total`, times `_seconds`
 * summaries, gauges as they are, dimensions as snake-case labels).
 */
export const SERIES = {
  requestsRun: 'openbatch_requests_run_total',
  requestsFailed: 'openbatch_requests_failed_total',
  chunksCompleted: 'openbatch_chunks_completed_total',
  tokensGenerated: 'openbatch_tokens_generated_total',
  engineLatency: 'openbatch_engine_latency_seconds',
  engineWaiting: 'openbatch_engine_requests_waiting',
  engineRunning: 'openbatch_engine_requests_running',
  apiRequests: 'openbatch_api_requests_total',
  batchesBySlaState: 'openbatch_batches_by_sla_state',
  activeBatches: 'openbatch_active_batches',
  desiredTasks: 'openbatch_desired_tasks',
  /** SQS queue depth by queue (the local runtime reads it every 5 s; SQS publishes it on AWS). */
  queueDepth: 'openbatch_queue_depth',
} as const;

export const POOLS = ['spot', 'dedicated'] as const;
export type PoolName = (typeof POOLS)[number];

/** One scrape: the parsed text and when it was read (ms). */
export interface Scrape {
  exp: Exposition;
  atMs: number;
}

export interface PoolFigures {
  pool: PoolName;
  /** Counters since the runtime started; undefined when the series is absent. */
  requestsRun: number | undefined;
  requestsFailed: number | undefined;
  chunksCompleted: number | undefined;
  tokensGenerated: number | undefined;
  /** Per second since the previous scrape. */
  requestsPerSecond: number | undefined;
  tokensPerSecond: number | undefined;
  /** Engine latency in seconds: summary quantiles over the latest observations, and the mean since the previous scrape. */
  latencyP50: number | undefined;
  latencyP99: number | undefined;
  latencyMeanRecent: number | undefined;
  /** Requests queued and running inside the engine (last report). */
  engineWaiting: number | undefined;
  engineRunning: number | undefined;
  /** Tasks the scheduling policy wants this pool to run (last SLA sweep). */
  desiredTasks: number | undefined;
}

export interface OperatorFigures {
  pools: PoolFigures[];
  /** Running batches by SLA state (last sweep), absent before the first sweep. */
  slaStates: Map<string, number>;
  /** Running batches by status (last sweep). */
  activeByStatus: Map<string, number>;
  /** SQS queue depth by queue, when reported. */
  queueDepths: Map<string, number>;
  api: { requests: number | undefined; perSecond: number | undefined; serverErrors: number | undefined };
  /** Seconds between this scrape and the previous one; rates need two. */
  intervalSeconds: number | undefined;
}

const quantile = (exp: Exposition, pool: string, q: string) =>
  samplesOf(exp, SERIES.engineLatency, { pool, quantile: q }).find((s) => Number.isFinite(s.value))?.value;

const summaryTotals = (exp: Exposition, pool: string) => {
  const sum = total(exp, `${SERIES.engineLatency}_sum`, { pool });
  const count = total(exp, `${SERIES.engineLatency}_count`, { pool });
  return sum === undefined || count === undefined ? undefined : { sum, count };
};

/** Every figure of the operator page from the latest scrape and, for rates, the one before. Pure. */
export function operatorFigures(now: Scrape, previous?: Scrape): OperatorFigures {
  const seconds = previous ? (now.atMs - previous.atMs) / 1000 : undefined;
  const rate = (name: string, where: Record<string, string>) =>
    previous && seconds !== undefined
      ? ratePerSecond(total(previous.exp, name, where), total(now.exp, name, where), seconds)
      : undefined;
  const pools = POOLS.map((pool): PoolFigures => {
    const where = { pool };
    return {
      pool,
      requestsRun: total(now.exp, SERIES.requestsRun, where),
      requestsFailed: total(now.exp, SERIES.requestsFailed, where),
      chunksCompleted: total(now.exp, SERIES.chunksCompleted, where),
      tokensGenerated: total(now.exp, SERIES.tokensGenerated, where),
      requestsPerSecond: rate(SERIES.requestsRun, where),
      tokensPerSecond: rate(SERIES.tokensGenerated, where),
      latencyP50: quantile(now.exp, pool, '0.5'),
      latencyP99: quantile(now.exp, pool, '0.99'),
      latencyMeanRecent: previous
        ? meanBetween(summaryTotals(previous.exp, pool), summaryTotals(now.exp, pool))
        : undefined,
      engineWaiting: total(now.exp, SERIES.engineWaiting, where),
      engineRunning: total(now.exp, SERIES.engineRunning, where),
      desiredTasks: total(now.exp, SERIES.desiredTasks, where),
    };
  });
  const apiErrors = [...sumBy(now.exp, SERIES.apiRequests, 'status')].filter(([s]) => s.startsWith('5'));
  return {
    pools,
    slaStates: sumBy(now.exp, SERIES.batchesBySlaState, 'sla_state'),
    activeByStatus: sumBy(now.exp, SERIES.activeBatches, 'status'),
    queueDepths: sumBy(now.exp, SERIES.queueDepth, 'queue'),
    api: {
      requests: total(now.exp, SERIES.apiRequests),
      perSecond: rate(SERIES.apiRequests, {}),
      serverErrors: samplesOf(now.exp, SERIES.apiRequests).length
        ? apiErrors.reduce((n, [, v]) => n + v, 0)
        : undefined,
    },
    intervalSeconds: seconds,
  };
}
