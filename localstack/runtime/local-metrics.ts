/**
 * `GET /metrics` of the local runtime: the EMF flushes of every function and worker process,
 * sent to this process over their IPC channels and added up in one registry (Prometheus' text
 * format, core/observability/prometheus.ts). On AWS the same flushes are EMF log lines that
 * CloudWatch turns into metrics.
 */
import { forwardMetrics, type MetricFlush } from '../../core/observability/metrics.js';
import { MetricsRegistry } from '../../core/observability/prometheus.js';

/** The runtime's registry: one per process, as `npm start` runs one runtime. */
export const localMetrics = new MetricsRegistry();

export interface MetricsMessage {
  openbatchMetrics: MetricFlush;
}

export const isMetricsMessage = (msg: unknown): msg is MetricsMessage =>
  typeof msg === 'object' && msg !== null && 'openbatchMetrics' in msg;

/** In a function or worker process: send every metrics flush to the runtime too. */
export function forwardMetricsOverIpc(): void {
  if (!process.send) return;
  forwardMetrics((flush) => {
    if (!process.connected) return;
    // A closed channel (the runtime going away) reports to the callback instead of throwing.
    process.send?.({ openbatchMetrics: flush } satisfies MetricsMessage, undefined, {}, () => {});
  });
}
