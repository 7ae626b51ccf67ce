import type { MetricFlush, MetricUnit } from './metrics.js';

/**
 * The EMF flushes of many processes, added up and rendered in Prometheus' text format (0.0.4):
 * what the local runtime serves at `GET /metrics`. CloudWatch's view of the same metrics, for a
 * machine without CloudWatch:
 *
 * - a count (unit Count or Bytes) is a counter, summed over every process and flush:
 *   `openbatch_api_requests_total`, `openbatch_bytes_written_total`;
 * - a gauge (`gauge: true`, or unit Percent) keeps its last value:
 *   `openbatch_batches_by_sla_state`, `openbatch_engine_kv_cache_usage_percent`;
 * - a time (unit Milliseconds) is a summary in seconds: quantiles 0.5, 0.9, 0.95 and 0.99 over
 *   the latest `window` observations, `_sum` and `_count` over all of them:
 *   `openbatch_engine_latency_seconds`.
 *
 * Dimensions become labels in snake case (`SlaState` → `sla_state`).
 */

type Kind = 'counter' | 'gauge' | 'summary';

interface Series {
  labels: Record<string, string>;
  /** Counter total or gauge value. */
  value: number;
  /** Summary: the latest observations (a ring), their running sum and count. */
  window: number[];
  next: number;
  sum: number;
  count: number;
}

interface Family {
  emfName: string;
  kind: Kind;
  unit: MetricUnit;
  series: Map<string, Series>;
}

export const summaryQuantiles = [0.5, 0.9, 0.95, 0.99] as const;

const snake = (s: string) =>
  s
    .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
    .replace(/([A-Z]+)([A-Z][a-z])/g, '$1_$2')
    .replace(/[^A-Za-z0-9_]/g, '_')
    .toLowerCase();

const kindOf = (unit: MetricUnit, gauge: boolean): Kind =>
  unit === 'Milliseconds' ? 'summary' : gauge || unit === 'Percent' ? 'gauge' : 'counter';

/** The Prometheus name of an EMF metric of this kind and unit. */
export function prometheusName(namespace: string, emfName: string, kind: Kind, unit: MetricUnit): string {
  const base = `${snake(namespace)}_${snake(emfName)}`;
  if (kind === 'summary') return `${base}_seconds`;
  const withUnit =
    unit === 'Bytes' && !/(^|_)bytes(_|$)/.test(base)
      ? `${base}_bytes`
      : unit === 'Percent' && !base.endsWith('_percent')
        ? `${base}_percent`
        : base;
  return kind === 'counter' ? `${withUnit}_total` : withUnit;
}

const escapeLabel = (v: string) => v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
const renderLabels = (labels: Record<string, string>, extra?: [string, string]) => {
  const entries = Object.entries(labels);
  if (extra) entries.push(extra);
  return entries.length === 0 ? '' : `{${entries.map(([k, v]) => `${k}="${escapeLabel(v)}"`).join(',')}}`;
};
const num = (n: number) => (Number.isFinite(n) ? String(n) : n > 0 ? '+Inf' : n < 0 ? '-Inf' : 'NaN');

/** The q-quantile of sorted values (nearest rank). */
function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[rank] as number;
}

export class MetricsRegistry {
  private readonly families = new Map<string, Family>();

  /** @param window Observations a summary's quantiles are computed over (the latest ones). */
  constructor(private readonly window = 1024) {}

  /** Adds one flush: counters grow, gauges take the new value, summaries observe each value. */
  add(flush: MetricFlush): void {
    const labels = Object.fromEntries(
      Object.entries(flush.dimensions)
        .map(([k, v]) => [snake(k), v] as const)
        .sort(([a], [b]) => a.localeCompare(b)),
    );
    const key = JSON.stringify(labels);
    for (const m of flush.metrics) {
      const kind = kindOf(m.unit, m.gauge);
      const name = prometheusName(flush.namespace, m.name, kind, m.unit);
      let family = this.families.get(name);
      if (!family) {
        family = { emfName: m.name, kind, unit: m.unit, series: new Map() };
        this.families.set(name, family);
      }
      let series = family.series.get(key);
      if (!series) {
        series = { labels, value: 0, window: [], next: 0, sum: 0, count: 0 };
        family.series.set(key, series);
      }
      for (const raw of m.values) {
        if (family.kind === 'counter') series.value += raw;
        else if (family.kind === 'gauge') series.value = raw;
        else {
          const seconds = raw / 1000;
          series.sum += seconds;
          series.count += 1;
          if (series.window.length < this.window) series.window.push(seconds);
          else series.window[series.next] = seconds;
          series.next = (series.next + 1) % this.window;
        }
      }
    }
  }

  /** Everything added so far, in Prometheus' text exposition format. */
  render(): string {
    const out: string[] = [];
    for (const name of [...this.families.keys()].sort()) {
      const family = this.families.get(name) as Family;
      out.push(`# HELP ${name} openbatch metric ${family.emfName} (EMF, unit ${family.unit})`);
      out.push(`# TYPE ${name} ${family.kind}`);
      for (const s of family.series.values()) {
        if (family.kind !== 'summary') {
          out.push(`${name}${renderLabels(s.labels)} ${num(s.value)}`);
          continue;
        }
        const sorted = [...s.window].sort((a, b) => a - b);
        for (const q of summaryQuantiles)
          out.push(`${name}${renderLabels(s.labels, ['quantile', String(q)])} ${num(quantile(sorted, q))}`);
        out.push(`${name}_sum${renderLabels(s.labels)} ${num(s.sum)}`);
        out.push(`${name}_count${renderLabels(s.labels)} ${s.count}`);
      }
    }
    return out.length === 0 ? '' : `${out.join('\n')}\n`;
  }
}
