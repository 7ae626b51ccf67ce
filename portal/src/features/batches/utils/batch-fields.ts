import type { Batch } from '../../../types/api';

/** Which pools ran a batch's requests, as one filterable value. */
export type PoolUse = 'spot' | 'dedicated' | 'spot + dedicated' | 'not started';

export function poolUse(b: Batch): PoolUse {
  const p = b.openbatch?.pools ?? { spot: 0, dedicated: 0 };
  if (p.spot > 0 && p.dedicated > 0) return 'spot + dedicated';
  if (p.spot > 0) return 'spot';
  if (p.dedicated > 0) return 'dedicated';
  return 'not started';
}

/** Everything the free-text search looks at: ids, model, endpoint, metadata keys and values. */
export function searchText(b: Batch): string {
  const meta = Object.entries(b.metadata ?? {}).flatMap(([k, v]) => [k, v, `${k}:${v}`, `${k}=${v}`]);
  return [b.id, b.input_file_id, b.output_file_id, b.error_file_id, b.model, b.endpoint, ...meta]
    .filter(Boolean)
    .join(' ')
    .toLowerCase();
}

export const matchesSearch = (b: Batch, query: string): boolean => {
  const terms = query.toLowerCase().split(/\s+/).filter(Boolean);
  const text = searchText(b);
  return terms.every((t) => text.includes(t));
};

export const DATE_RANGES = [
  { value: '1h', label: 'Last hour', seconds: 3_600 },
  { value: '24h', label: 'Last 24 hours', seconds: 86_400 },
  { value: '7d', label: 'Last 7 days', seconds: 7 * 86_400 },
  { value: '30d', label: 'Last 30 days', seconds: 30 * 86_400 },
] as const;
export type DateRange = (typeof DATE_RANGES)[number]['value'];

export const createdWithin = (b: Batch, range: DateRange, nowMs: number): boolean => {
  const r = DATE_RANGES.find((d) => d.value === range);
  return r ? b.created_at >= nowMs / 1000 - r.seconds : true;
};

/** Completed + failed as a share of the total, for sorting by progress. */
export const progressRatio = (b: Batch): number =>
  b.request_counts.total > 0
    ? (b.request_counts.completed + b.request_counts.failed) / b.request_counts.total
    : 0;
