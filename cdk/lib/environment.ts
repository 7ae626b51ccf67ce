import { queues } from '../../core/app/declaration.js';
import { dispatchWindow } from '../../core/chunks/dispatch.js';
import type { Catalog } from '../../core/models/catalog.js';
import { expiryLookaheadSeconds, slaMonitorPeriodSeconds } from '../../core/sla/schedule.js';
import { type EnvironmentConfig, type EnvironmentName, engineStartup, modelsOf } from '../config.js';

/**
 * The environment's model catalog (core/models/catalog.ts): each configured model on its pool
 * group, in the configured order, and each group's pools' bounds (their minWorkers and
 * maxWorkers), which core/policy decides within. The CDK app makes the queues and workers of
 * exactly these groups, so the catalog never names a group without them.
 */
export function modelCatalog(config: EnvironmentConfig): Catalog {
  const models = modelsOf(config);
  const bounds = (p: { minWorkers: number; maxWorkers: number }) => ({
    min_tasks: p.minWorkers,
    max_tasks: p.maxWorkers,
  });
  const pools: Catalog['pools'] = {};
  for (const m of models)
    pools[m.group] ??= { spot: bounds(m.pools.spot), dedicated: bounds(m.pools.dedicated) };
  return {
    pools,
    models: models.map((m) => ({ id: m.id, pool: m.group, owned_by: 'openbatch', created: 0 })),
  };
}

/**
 * Settings every function and worker receives (names from core/config.ts): the log level,
 * the file retention that the S3 lifecycle also enforces, the model catalog, and the
 * environment's limit and SLA overrides.
 */
export function sharedEnvironment(config: EnvironmentConfig): Record<string, string> {
  return {
    LOG_LEVEL: config.logLevel,
    FILE_RETENTION_DAYS: String(config.fileRetentionDays),
    MODEL_CATALOG: JSON.stringify(modelCatalog(config)),
    ...policyEnvironment(config),
    ...config.settings,
  };
}

/** Seconds to launch a GPU instance and place a task on it (an estimate; docs/policy.md). */
export const launchSeconds = 90;

/**
 * What core/policy is told about the pools (core/config.ts SLA_*): their bounds, and the time a
 * new task takes to serve (launch and placement, copying the model files to the volume, reading
 * them, the engine's start-up); and how far ahead the SLA monitor expires batches on time (its
 * period), and the chunks a batch keeps queued. Prices keep their defaults unless `settings` sets them.
 *
 * Each pool group's own bounds travel in the model catalog (`modelCatalog`); SLA_*_TASKS are the
 * fallback for a group the catalog gives none, the loosest that holds for all groups: the
 * smallest minimum (no group is assumed to keep more workers than it does), the largest maximum.
 * The start-up is the largest of the groups'. A group's scaling stops at its own pools'
 * maxWorkers (BacklogScaling's target) in any case.
 */
export function policyEnvironment(config: EnvironmentConfig): Record<string, string> {
  const models = modelsOf(config);
  const bound = (pick: (n: number[]) => number, pool: 'spot' | 'dedicated', k: 'minWorkers' | 'maxWorkers') =>
    String(pick(models.map((m) => m.pools[pool][k])));
  const startupSeconds = Math.max(
    ...models.map((m) => {
      const startup = engineStartup(config, m.engine);
      return launchSeconds + startup.copySeconds + startup.requiredSeconds;
    }),
  );
  const largestPool = Math.max(
    1,
    ...models.flatMap((m) => [m.pools.spot.maxWorkers, m.pools.dedicated.maxWorkers]),
  );
  return {
    SLA_SPOT_MIN_TASKS: bound((n) => Math.min(...n), 'spot', 'minWorkers'),
    SLA_SPOT_MAX_TASKS: bound((n) => Math.max(...n), 'spot', 'maxWorkers'),
    SLA_DEDICATED_MIN_TASKS: bound((n) => Math.min(...n), 'dedicated', 'minWorkers'),
    SLA_DEDICATED_MAX_TASKS: bound((n) => Math.max(...n), 'dedicated', 'maxWorkers'),
    SLA_TASK_STARTUP_SECONDS: String(startupSeconds),
    SLA_EXPIRY_LOOKAHEAD_SECONDS: String(expiryLookaheadSeconds(slaMonitorPeriodSeconds())),
    // A batch keeps queued half of what the larger pool's workers hold at once (core/chunks/dispatch.ts):
    // enough to keep every worker busy, and a batch created later finds a free slot at once.
    // A batch runs on its model's group only; the largest group's pools set the one window.
    DISPATCH_WINDOW_CHUNKS: String(dispatchWindow(largestPool, config.worker.chunksInParallel)),
  };
}

/** Browser origins the API answers CORS for: the configured ones, plus the custom domain. */
export function allowedOrigins(config: EnvironmentConfig): string[] {
  return [
    ...new Set([...config.allowedOrigins, ...(config.domain ? [`https://${config.domain.name}`] : [])]),
  ];
}

/**
 * Alarm thresholds and the Amazon Managed Grafana workspace of an environment, beside the
 * `alarms` block of cdk/config.ts (queue ages, function errors, API 5XX count, email), which
 * they extend. `monitoringProblems` checks them; the monitoring stack refuses bad settings.
 */
export interface MonitoringConfig {
  /**
   * A message older than this in a dead-letter queue (seconds since it moved there) means
   * nobody redrove it. SQS drops it at the source queue's retention counted from its first
   * enqueue, so keep this well below that.
   */
  readonly deadLetterMaxAgeSeconds: number;
  /** Requests that ended in the error file, as a percentage of requests run, over 15 minutes. */
  readonly workerErrorRatePercent: number;
  /**
   * Throughput floor: fewer requests than this per minute (all pools) while chunks wait in the
   * pool queues, for `sustainedMinutes` in a row, raises an alarm.
   */
  readonly throughputFloor: { readonly requestsPerMinute: number; readonly sustainedMinutes: number };
  /** Minutes a pool may run fewer workers than it wants, or an engine fail its probe, before an alarm. */
  readonly engineUnhealthyMinutes: number;
  /** Batches at deadline risk (SLA state at_risk) for 15 minutes that raise an alarm. */
  readonly atRiskBatches: number;
  readonly api: {
    /** API Gateway 5XX responses as a percentage of requests, over 5 minutes (3 in a row). */
    readonly serverErrorRatePercent: number;
    /** API Gateway p95 latency (ms) over 5 minutes (3 in a row). */
    readonly latencyP95Ms: number;
  };
  readonly grafana: GrafanaConfig;
}

export interface GrafanaConfig {
  /**
   * Create an Amazon Managed Grafana workspace with a CloudWatch data source and provision the
   * openbatch dashboard into it (docs/deploy.md, "Grafana"). AMG bills per active user.
   * @default false in dev, true in staging and prod
   */
  readonly enabled: boolean;
  /**
   * How people sign in: IAM Identity Center (it must be enabled in the account or organization)
   * or SAML (configured on the workspace after the deploy).
   * @default ['AWS_SSO']
   */
  readonly authenticationProviders: readonly ('AWS_SSO' | 'SAML')[];
  /** The workspace's Grafana version. @default '10.4' */
  readonly version: string;
}

const grafanaDefaults = { authenticationProviders: ['AWS_SSO'], version: '10.4' } as const;

const monitoringDefaults = {
  deadLetterMaxAgeSeconds: 12 * 3600,
  workerErrorRatePercent: 5,
  engineUnhealthyMinutes: 20,
  atRiskBatches: 1,
} as const;

/** The monitoring settings of each environment. */
export const monitoringSettings: Readonly<Record<EnvironmentName, MonitoringConfig>> = {
  dev: {
    ...monitoringDefaults,
    deadLetterMaxAgeSeconds: 24 * 3600,
    workerErrorRatePercent: 20,
    // Dev runs small, bursty batches: a floor of one request a minute only catches a stall.
    throughputFloor: { requestsPerMinute: 1, sustainedMinutes: 30 },
    api: { serverErrorRatePercent: 10, latencyP95Ms: 5000 },
    grafana: { ...grafanaDefaults, enabled: false },
  },
  staging: {
    ...monitoringDefaults,
    throughputFloor: { requestsPerMinute: 10, sustainedMinutes: 30 },
    api: { serverErrorRatePercent: 5, latencyP95Ms: 3000 },
    grafana: { ...grafanaDefaults, enabled: true },
  },
  prod: {
    ...monitoringDefaults,
    deadLetterMaxAgeSeconds: 6 * 3600,
    workerErrorRatePercent: 2,
    // A GPU worker starts in about 10 minutes from zero (instance, model files, engine): a
    // backlog without throughput for longer than that is capacity missing or workers stuck.
    throughputFloor: { requestsPerMinute: 60, sustainedMinutes: 20 },
    api: { serverErrorRatePercent: 1, latencyP95Ms: 2000 },
    grafana: { ...grafanaDefaults, enabled: true },
  },
};

/** The monitoring settings of a configured environment. */
export const monitoringFor = (config: EnvironmentConfig): MonitoringConfig => monitoringSettings[config.name];

/** Every problem with monitoring settings, so that all are reported at once. */
export function monitoringProblems(m: MonitoringConfig): string[] {
  const p: string[] = [];
  const whole = (n: number, min: number) => Number.isInteger(n) && n >= min;
  // A standard queue's message leaves its DLQ at the source queue's retention from its first enqueue.
  const retention = Math.min(...Object.values(queues).map((q) => q.retentionSeconds));
  if (!whole(m.deadLetterMaxAgeSeconds, 60) || m.deadLetterMaxAgeSeconds >= retention)
    p.push(
      `deadLetterMaxAgeSeconds: whole seconds, at least 60 and below ${retention} (the source queues' retention)`,
    );
  if (!(m.workerErrorRatePercent > 0 && m.workerErrorRatePercent <= 100))
    p.push('workerErrorRatePercent: above 0 and at most 100');
  if (!(m.throughputFloor.requestsPerMinute > 0)) p.push('throughputFloor.requestsPerMinute: above 0');
  if (
    !whole(m.throughputFloor.sustainedMinutes, 5) ||
    m.throughputFloor.sustainedMinutes % 5 !== 0 ||
    m.throughputFloor.sustainedMinutes > 24 * 60
  )
    p.push('throughputFloor.sustainedMinutes: a multiple of 5 (the alarm period) up to one day');
  if (!whole(m.engineUnhealthyMinutes, 1) || m.engineUnhealthyMinutes > 24 * 60)
    p.push('engineUnhealthyMinutes: whole minutes, 1 to one day');
  if (!whole(m.atRiskBatches, 1)) p.push('atRiskBatches: a whole number, at least 1');
  if (!(m.api.serverErrorRatePercent > 0 && m.api.serverErrorRatePercent <= 100))
    p.push('api.serverErrorRatePercent: above 0 and at most 100');
  if (!whole(m.api.latencyP95Ms, 1) || m.api.latencyP95Ms > 29_000)
    p.push('api.latencyP95Ms: whole milliseconds, at most 29,000 (the API Gateway timeout)');
  if (m.grafana.authenticationProviders.length === 0)
    p.push('grafana.authenticationProviders: at least one of AWS_SSO, SAML');
  for (const a of m.grafana.authenticationProviders)
    if (a !== 'AWS_SSO' && a !== 'SAML')
      p.push(`grafana.authenticationProviders: '${a}' is not AWS_SSO or SAML`);
  if (!/^\d+\.\d+$/.test(m.grafana.version))
    p.push(`grafana.version: '${m.grafana.version}' is not a major.minor version`);
  return p;
}
