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
  /** How each pool's figure is written. @default formatNumber (request counts) */
  format?: (n: number) => string;
  /** What the shares are of, for screen readers. @default 'requests run' */
  of?: string;
  /** Prefix of each legend's test id, where two splits share a page. @default 'pool' */
  testIdPrefix?: string;
}) {
  const { spot, dedicated } = props;
  const format = props.format ?? formatNumber;
  const total = spot + dedicated;
  return (
    <div>
      <div
        className="flex h-2.5 overflow-hidden rounded-full bg-surface-2"
        role="img"
        aria-label={`Spot ${formatPercent(spot, total)}, dedicated ${formatPercent(dedicated, total)} of ${props.of ?? 'requests run'}`}
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
          format={format}
          testId={`${props.testIdPrefix ?? 'pool'}-spot`}
        />
        <PoolLegend
          swatch="bg-dedicated"
          label="Dedicated"
          value={dedicated}
          total={total}
          failed={props.failed?.dedicated}
          format={format}
          testId={`${props.testIdPrefix ?? 'pool'}-dedicated`}
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
  format: (n: number) => string;
  testId: string;
}) {
  return (
    <span className="inline-flex flex-wrap items-center gap-1.5" data-testid={props.testId}>
      <span aria-hidden className={`size-2.5 rounded-sm ${props.swatch}`} />
      {props.label} <span className="font-medium text-ink tabular-nums">{props.format(props.value)}</span>
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
