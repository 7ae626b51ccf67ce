import { CircleX } from 'lucide-react';
import { formatNumber, formatPercent } from '../../lib/format';

/**
 * Spot vs dedicated share of the requests that ran (succeeded or failed). Where the failures
 * per pool are known, each pool also says how many of its requests failed, in words.
 */
export function PoolSplit(props: {
  spot: number;
  dedicated: number;
  failed?: { spot: number; dedicated: number };
}) {
  const { spot, dedicated } = props;
  const total = spot + dedicated;
  return (
    <div>
      <div
        className="flex h-2.5 overflow-hidden rounded-full bg-surface-2"
        role="img"
        aria-label={`Spot ${formatPercent(spot, total)}, dedicated ${formatPercent(dedicated, total)} of requests run`}
      >
        <div className="bg-spot" style={{ width: total ? `${(spot / total) * 100}%` : 0 }} />
        <div className="bg-dedicated" style={{ width: total ? `${(dedicated / total) * 100}%` : 0 }} />
      </div>
      <div className="mt-2 flex flex-wrap gap-x-4 gap-y-1 text-xs text-muted">
        <PoolLegend
          swatch="bg-spot"
          label="Spot"
          value={spot}
          total={total}
          failed={props.failed?.spot}
          testId="pool-spot"
        />
        <PoolLegend
          swatch="bg-dedicated"
          label="Dedicated"
          value={dedicated}
          total={total}
          failed={props.failed?.dedicated}
          testId="pool-dedicated"
        />
      </div>
    </div>
  );
}

function PoolLegend(props: {
  swatch: string;
  label: string;
  value: number;
  total: number;
  failed: number | undefined;
  testId: string;
}) {
  return (
    <span className="inline-flex flex-wrap items-center gap-1.5" data-testid={props.testId}>
      <span aria-hidden className={`size-2.5 rounded-sm ${props.swatch}`} />
      {props.label} <span className="font-medium text-ink tabular-nums">{formatNumber(props.value)}</span>
      {props.total ? ` (${formatPercent(props.value, props.total)})` : ''}
      {props.failed ? (
        <span className="inline-flex items-center gap-1 text-bad">
          <CircleX aria-hidden className="size-3" />
          {formatNumber(props.failed)} failed
        </span>
      ) : null}
    </span>
  );
}
