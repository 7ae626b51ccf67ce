import { formatNumber, formatPercent } from '../../lib/format';

/** Spot vs dedicated share of completed requests. */
export function PoolSplit({ spot, dedicated }: { spot: number; dedicated: number }) {
  const total = spot + dedicated;
  return (
    <div>
      <div
        className="flex h-2.5 overflow-hidden rounded-full bg-surface-2"
        role="img"
        aria-label={`Spot ${formatPercent(spot, total)}, dedicated ${formatPercent(dedicated, total)} of requests`}
      >
        <div className="bg-spot" style={{ width: total ? `${(spot / total) * 100}%` : 0 }} />
        <div className="bg-dedicated" style={{ width: total ? `${(dedicated / total) * 100}%` : 0 }} />
      </div>
      <div className="mt-2 flex flex-wrap gap-x-4 gap-y-1 text-xs text-muted">
        <span className="inline-flex items-center gap-1.5">
          <span aria-hidden className="size-2.5 rounded-sm bg-spot" />
          Spot <span className="font-medium text-ink tabular-nums">{formatNumber(spot)}</span>
          {total ? ` (${formatPercent(spot, total)})` : ''}
        </span>
        <span className="inline-flex items-center gap-1.5">
          <span aria-hidden className="size-2.5 rounded-sm bg-dedicated" />
          Dedicated <span className="font-medium text-ink tabular-nums">{formatNumber(dedicated)}</span>
          {total ? ` (${formatPercent(dedicated, total)})` : ''}
        </span>
      </div>
    </div>
  );
}
