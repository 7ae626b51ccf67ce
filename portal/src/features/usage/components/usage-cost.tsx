import { Calculator } from 'lucide-react';
import { Badge } from '../../../components/ui/badge';
import { PoolSplit } from '../../../components/ui/pool-split';
import { formatNumber } from '../../../lib/format';
import type { BatchUsage, CostEstimate } from '../types';
import { costSaving, formatUsd } from '../utils/cost';

/** Tokens of a batch (OpenAI's `usage`): input with its cached part, output with its reasoning part. */
export function UsageSummary({ usage }: { usage: BatchUsage }) {
  return (
    <dl className="grid grid-cols-3 gap-3" data-testid="usage">
      <Figure
        label="Input tokens"
        value={formatNumber(usage.input_tokens)}
        hint={`${formatNumber(usage.input_tokens_details.cached_tokens)} cached`}
      />
      <Figure
        label="Output tokens"
        value={formatNumber(usage.output_tokens)}
        hint={`${formatNumber(usage.output_tokens_details.reasoning_tokens)} reasoning`}
      />
      <Figure label="Total tokens" value={formatNumber(usage.total_tokens)} />
    </dl>
  );
}

/**
 * openbatch's cost estimate: named an estimate wherever it shows, split by pool, and set against
 * what the same work would have cost all on dedicated capacity.
 */
export function CostEstimateSummary({ cost }: { cost: CostEstimate }) {
  const saving = costSaving(cost);
  return (
    <div className="space-y-4" data-testid="cost-estimate">
      <div className="flex flex-wrap items-baseline gap-x-3 gap-y-1">
        <p className="text-2xl font-semibold tracking-tight text-ink tabular-nums">
          {formatUsd(cost.estimated_usd)}
        </p>
        <Badge tone="warn" title="Computed from the environment's price table, not from an invoice">
          <Calculator aria-hidden className="size-3" />
          estimate
        </Badge>
      </div>
      <div>
        <p className="mb-2 text-xs font-medium text-muted">Estimated cost per pool</p>
        <PoolSplit
          spot={cost.by_pool.spot}
          dedicated={cost.by_pool.dedicated}
          format={formatUsd}
          of="the estimated cost"
        />
      </div>
      <p className="text-[13px] text-muted">
        All on dedicated, an estimated{' '}
        <span className="font-medium text-ink">{formatUsd(cost.all_dedicated_usd)}</span>
        {saving
          ? saving.usd >= 0
            ? `: spot saved an estimated ${formatUsd(saving.usd)} (${saving.percent}%).`
            : `: spot cost an estimated ${formatUsd(-saving.usd)} more (${-saving.percent}%).`
          : '.'}
      </p>
    </div>
  );
}

function Figure(props: { label: string; value: string; hint?: string }) {
  return (
    <div className="rounded-lg bg-surface-2/60 px-3 py-2">
      <dt className="text-xs text-muted">{props.label}</dt>
      <dd className="mt-0.5 text-base font-semibold text-ink tabular-nums">{props.value}</dd>
      {props.hint ? <dd className="text-xs text-muted">{props.hint}</dd> : null}
    </div>
  );
}
