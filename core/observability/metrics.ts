import { createMetricsLogger, Unit } from 'aws-embedded-metrics';

/**
 * Emits metrics in CloudWatch Embedded Metric Format: one log line per flush, turned into
 * metrics by CloudWatch with no PutMetricData calls. Locally the lines go to the log.
 */
export async function emitMetrics(
  dimensions: Record<string, string>,
  values: Record<string, number | { value: number; unit: 'Milliseconds' | 'Count' }>,
): Promise<void> {
  if (process.env.OPENBATCH_METRICS === 'off') return;
  const metrics = createMetricsLogger();
  metrics.setNamespace('openbatch');
  metrics.setDimensions(dimensions);
  for (const [name, v] of Object.entries(values)) {
    if (typeof v === 'number') metrics.putMetric(name, v, Unit.Count);
    else metrics.putMetric(name, v.value, v.unit === 'Milliseconds' ? Unit.Milliseconds : Unit.Count);
  }
  await metrics.flush();
}
