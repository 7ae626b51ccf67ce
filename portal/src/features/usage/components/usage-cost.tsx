import { Calculator } from 'lucide-react';
import { Badge } from '../../../components/ui/badge';
import { PoolSplit } from '../../../components/ui/pool-split';
import { formatNumber } from '../../../lib/format';
import type { BatchUsage, CostEstimate } from '../types';
import { type CostTotals, costSaving, formatUsd, type UsageTotals } from '../utils/cost';

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
 * what the same work would have cost all on dedicated capacity. `basis` (the throughput and
 * prices it was computed from) is shown when given.
 */
export function CostEstimateSummary({
  cost,
}: {
  cost: Pick<CostEstimate, 'total' | 'by_pool' | 'all_dedicated' | 'saving' | 'saved_by_reuse'> & {
    basis?: string;
  };
}) {
  const saving = costSaving(cost);
  return (
    <div className="space-y-4" data-testid="cost-estimate">
      <div className="flex flex-wrap items-baseline gap-x-3 gap-y-1">
        <p className="text-2xl font-semibold tracking-tight text-ink tabular-nums">{formatUsd(cost.total)}</p>
        <Badge
          tone="warn"
          title="Computed from the deployment's prices and throughput figure, not from an invoice"
        >
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
          testIdPrefix="cost-pool"
        />
      </div>
      <p className="text-[13px] text-muted" data-testid="cost-saving">
        All on dedicated, an estimated{' '}
        <span className="font-medium text-ink">{formatUsd(cost.all_dedicated)}</span>
        {saving
          ? saving.usd >= 0
            ? `: spot saved an estimated ${formatUsd(saving.usd)} (${saving.percent}%).`
            : `: spot cost an estimated ${formatUsd(-saving.usd)} more (${-saving.percent}%).`
          : '.'}
      </p>
      {cost.saved_by_reuse ? (
        <p className="text-[13px] text-muted" data-testid="cost-reuse">
          Answers reused from earlier requests saved an estimated{' '}
          <span className="font-medium text-ink">{formatUsd(cost.saved_by_reuse)}</span> more.
        </p>
      ) : null}
      {cost.basis ? (
        <p className="text-xs break-words text-muted" data-testid="cost-basis">
          GPU time only (no start-up, idle time or storage), at {cost.basis}.
        </p>
      ) : null}
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

/**
 * Tokens and estimated cost over the batches loaded (the dashboard): the totals, the cost per
 * pool and the saving against all-dedicated, or a plain note where the API reports none.
 */
export function UsageCostTotals(props: { usage: UsageTotals; cost: CostTotals | null; batches: number }) {
  const u = props.usage;
  return (
    <div className="space-y-5" data-testid="usage-cost-totals">
      {u.batches > 0 ? (
        <UsageSummary
          usage={{
            input_tokens: u.input,
            input_tokens_details: { cached_tokens: u.cached },
            output_tokens: u.output,
            output_tokens_details: { reasoning_tokens: u.reasoning },
            total_tokens: u.total,
          }}
        />
      ) : (
        <p className="text-[13px] text-muted">This API reports no token usage on its batches.</p>
      )}
      {props.cost ? (
        <CostEstimateSummary cost={props.cost} />
      ) : (
        <p className="text-[13px] text-muted">
          This API reports no cost estimate (openbatch.cost) on its batches.
        </p>
      )}
      {props.cost && props.cost.batches < props.batches ? (
        <p className="text-xs text-muted">
          {formatNumber(props.cost.batches)} of {formatNumber(props.batches)} batches carry an estimate.
        </p>
      ) : null}
    </div>
  );
}
