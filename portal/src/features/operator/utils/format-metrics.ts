/** Figures of the operator page in words; a missing series reads "—", never 0. */

const nf1 = new Intl.NumberFormat('en-US', { maximumFractionDigits: 1 });
const nf0 = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });

export const NONE = '—';

/** A per-second rate: one decimal under 10, whole numbers above. */
export function formatRate(perSecond: number | undefined, unit: string): string {
  if (perSecond === undefined || !Number.isFinite(perSecond)) return NONE;
  return `${(perSecond < 10 ? nf1 : nf0).format(perSecond)} ${unit}/s`;
}

/** Seconds as a latency: milliseconds under a second, seconds with two decimals above. */
export function formatLatency(seconds: number | undefined): string {
  if (seconds === undefined || !Number.isFinite(seconds)) return NONE;
  if (seconds < 1) return `${nf0.format(seconds * 1000)} ms`;
  return `${seconds.toFixed(2)} s`;
}

/** A count or level. */
export function formatCount(n: number | undefined): string {
  return n === undefined || !Number.isFinite(n) ? NONE : nf0.format(n);
}
