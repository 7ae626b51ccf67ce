const nf = new Intl.NumberFormat('en-US');

export const formatNumber = (n: number): string => nf.format(n);

const compact = new Intl.NumberFormat('en-US', { notation: 'compact', maximumFractionDigits: 1 });

/** A token count in a narrow cell: `950`, `12.3K`, `4.5M`. */
export const formatTokens = (n: number): string => compact.format(n);

const usd = new Intl.NumberFormat('en-US', { style: 'currency', currency: 'USD', maximumFractionDigits: 2 });
const smallUsd = new Intl.NumberFormat('en-US', {
  style: 'currency',
  currency: 'USD',
  maximumSignificantDigits: 2,
});

/** Dollars, with cents; amounts under a cent keep two significant digits rather than read "$0.00". */
export function formatUsd(amount: number): string {
  if (amount !== 0 && Math.abs(amount) < 0.01) return smallUsd.format(amount);
  return usd.format(amount);
}

export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let v = bytes / 1024;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i += 1;
  }
  return `${v < 10 ? v.toFixed(1) : Math.round(v)} ${units[i]}`;
}

export function formatPercent(part: number, whole: number): string {
  if (whole <= 0) return '0%';
  const p = (part / whole) * 100;
  return `${p > 0 && p < 1 ? p.toFixed(1) : Math.round(p)}%`;
}

const dtf = new Intl.DateTimeFormat('en-US', {
  year: 'numeric',
  month: 'short',
  day: 'numeric',
  hour: '2-digit',
  minute: '2-digit',
  second: '2-digit',
});
const tf = new Intl.DateTimeFormat('en-US', { hour: '2-digit', minute: '2-digit', second: '2-digit' });

/** Unix seconds → a local date and time. */
export const formatDateTime = (unixSeconds: number): string => dtf.format(new Date(unixSeconds * 1000));
export const formatTime = (ms: number): string => tf.format(new Date(ms));

/** A duration in seconds, e.g. `42s`, `3m 05s`, `2h 10m`, `3d 4h`. */
export function formatDuration(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m ${String(s % 60).padStart(2, '0')}s`;
  const h = Math.floor(m / 60);
  if (h < 48) return `${h}h ${String(m % 60).padStart(2, '0')}m`;
  return `${Math.floor(h / 24)}d ${h % 24}h`;
}

/** `5m ago`, `in 3h`, relative to `nowMs`. */
export function formatRelative(unixSeconds: number, nowMs: number): string {
  const delta = unixSeconds - nowMs / 1000;
  if (Math.abs(delta) < 5) return 'just now';
  const d = formatDuration(Math.abs(delta)).split(' ')[0];
  return delta < 0 ? `${d} ago` : `in ${d}`;
}
