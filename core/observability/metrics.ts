import { createMetricsLogger, Unit } from 'aws-embedded-metrics';
import { log } from './log.js';

/** The units openbatch's metrics use (cdk/lib/monitoring/catalog.ts, `EmfUnit`). */
export type MetricUnit = 'Count' | 'Milliseconds' | 'Bytes' | 'Percent';

/**
 * A metric's value in one flush: a number (a count), or values with their unit. Several values
 * (the latencies of an interval) go out as one EMF array, from which CloudWatch computes
 * percentiles. `gauge` marks a level (batches by state, engine queue) rather than a count of
 * events: CloudWatch reads it with Maximum, and the local `/metrics` keeps its last value.
 */
export type MetricValue = number | { value: number | readonly number[]; unit?: MetricUnit; gauge?: boolean };

export const metricsNamespace = 'openbatch';

/** One flush, as the local runtime's `/metrics` receives it. */
export interface MetricFlush {
  namespace: string;
  dimensions: Record<string, string>;
  metrics: { name: string; unit: MetricUnit; values: number[]; gauge: boolean }[];
}

const units: Record<MetricUnit, Unit> = {
  Count: Unit.Count,
  Milliseconds: Unit.Milliseconds,
  Bytes: Unit.Bytes,
  Percent: Unit.Percent,
};

/** The flush `emitMetrics` writes for these arguments; metrics without a value are left out. */
export function toFlush(
  dimensions: Record<string, string>,
  values: Record<string, MetricValue>,
): MetricFlush {
  const metrics: MetricFlush['metrics'] = [];
  for (const [name, v] of Object.entries(values)) {
    const spec = typeof v === 'number' ? { value: v } : v;
    const list = (typeof spec.value === 'number' ? [spec.value] : [...spec.value]).filter(Number.isFinite);
    if (list.length === 0) continue;
    metrics.push({ name, unit: spec.unit ?? 'Count', values: list, gauge: spec.gauge === true });
  }
  return { namespace: metricsNamespace, dimensions, metrics };
}

let forward: ((flush: MetricFlush) => void) | undefined;

/**
 * Also hands every flush to `to` (the local runtime sends them to its `/metrics` over the
 * process's IPC channel); `undefined` stops it. Nothing on AWS sets it.
 */
export function forwardMetrics(to: ((flush: MetricFlush) => void) | undefined): void {
  forward = to;
}

/**
 * Emits metrics in CloudWatch Embedded Metric Format: one log line per flush (per 100 values of
 * a metric), turned into metrics by CloudWatch with no PutMetricData calls. Locally the lines go
 * to the log, and to the runtime's `/metrics` when it forwards them. Call it once per invocation
 * or interval with everything measured, not once per event. `OPENBATCH_METRICS=off` turns it
 * off. A failure to emit is logged, never thrown: metrics never fail the work they measure.
 *
 * Keep both arguments object literals: test/cdk/monitoring-catalog.test.ts reads every call to
 * check the metric names and dimensions against the catalog.
 */
export async function emitMetrics(
  dimensions: Record<string, string>,
  values: Record<string, MetricValue>,
): Promise<void> {
  if (process.env.OPENBATCH_METRICS === 'off') return;
  const flush = toFlush(dimensions, values);
  if (flush.metrics.length === 0) return;
  try {
    forward?.(flush);
  } catch (err) {
    log.warn('metrics not forwarded', { err, metrics: flush.metrics.map((m) => m.name) });
  }
  try {
    const metrics = createMetricsLogger();
    metrics.setNamespace(metricsNamespace);
    metrics.setDimensions(dimensions);
    for (const m of flush.metrics) for (const v of m.values) metrics.putMetric(m.name, v, units[m.unit]);
    await metrics.flush();
  } catch (err) {
    log.warn('metrics not emitted', { err, metrics: flush.metrics.map((m) => m.name) });
  }
}
