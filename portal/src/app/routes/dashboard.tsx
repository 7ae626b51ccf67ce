import { ArrowRight, Info, Layers, Plus } from 'lucide-react';
import { ButtonLink } from '../../components/ui/button';
import { Card, CardBody, CardHeader } from '../../components/ui/card';
import { EmptyState } from '../../components/ui/empty-state';
import { ErrorState } from '../../components/ui/error-state';
import { PageHeader } from '../../components/ui/page-header';
import { PoolSplit } from '../../components/ui/pool-split';
import { RequestProgress } from '../../components/ui/progress-bar';
import { Skeleton } from '../../components/ui/spinner';
import { SlaBadge } from '../../components/ui/status-badge';
import { useBatches } from '../../features/batches/api/get-batches';
import {
  OutcomesChart,
  ProcessingTimeChart,
  StatusDistributionChart,
} from '../../features/dashboard/components/charts';
import { RecentBatches } from '../../features/dashboard/components/recent-batches';
import { SummaryStats } from '../../features/dashboard/components/summary-stats';
import { summarize } from '../../features/dashboard/utils/summarize';
import { UsageCostTotals } from '../../features/usage/components/usage-cost';
import { sumCost, sumUsage } from '../../features/usage/utils/cost';
import { useDocumentTitle } from '../../hooks/use-document-title';
import { useNow } from '../../hooks/use-now';
import { formatNumber } from '../../lib/format';
import type { SlaState } from '../../types/api';

function DashboardRoute() {
  const q = useBatches();
  const now = useNow();
  useDocumentTitle('Dashboard');
  const header = (
    <PageHeader
      crumbs={[{ label: 'Dashboard' }]}
      title="Dashboard"
      description="Batches, requests, capacity and deadlines at a glance."
      actions={
        <ButtonLink to="/batches/new" variant="primary">
          <Plus aria-hidden className="size-4" />
          New batch
        </ButtonLink>
      }
    />
  );
  if (q.isPending) {
    return (
      <>
        {header}
        <div className="grid grid-cols-2 gap-4 lg:grid-cols-4">
          {['a', 'b', 'c', 'd'].map((k) => (
            <Skeleton key={k} className="h-24" />
          ))}
        </div>
      </>
    );
  }
  if (q.isError) {
    return (
      <>
        {header}
        <ErrorState error={q.error} onRetry={() => void q.refetch()} title="Could not load batches" />
      </>
    );
  }
  if (q.batches.length === 0) {
    return (
      <>
        {header}
        <Card>
          <EmptyState
            icon={Layers}
            title="Welcome to openbatch"
            action={
              <ButtonLink to="/batches/new" variant="primary">
                <Plus aria-hidden className="size-4" />
                Create your first batch
              </ButtonLink>
            }
          >
            No batches yet. Upload a JSONL file of requests; it runs on your own GPU workers, mostly on spot
            capacity, and you download the results here.
          </EmptyState>
        </Card>
      </>
    );
  }

  const s = summarize(q.batches, now);
  return (
    <>
      {header}
      <div className="space-y-6">
        <SummaryStats s={s} />

        <div className="grid gap-6 lg:grid-cols-3">
          <Card aria-labelledby="req-status">
            <CardHeader id="req-status" title="Requests by status" />
            <CardBody>
              <RequestProgress
                total={s.requests.total}
                completed={s.requests.completed}
                failed={s.requests.failed}
                notRun={s.requests.notRun}
                size="md"
                showLegend
              />
              <p className="mt-3 text-xs text-muted">
                {formatNumber(s.requests.total)} requests in {formatNumber(s.batches)} batches
                {s.requests.notRun > 0 ? '; not run: cancelled or expired before they ran' : ''}.
              </p>
            </CardBody>
          </Card>
          <Card aria-labelledby="pools">
            <CardHeader
              id="pools"
              title="Spot vs dedicated"
              description="Requests run on each pool, succeeded or failed"
            />
            <CardBody>
              <PoolSplit spot={s.poolsRun.spot} dedicated={s.poolsRun.dedicated} />
            </CardBody>
          </Card>
          <Card aria-labelledby="sla">
            <CardHeader id="sla" title="SLA" description="Batches by deadline state" />
            <CardBody>
              <ul className="grid grid-cols-2 gap-2">
                {(['on_track', 'at_risk', 'met', 'breached'] as SlaState[]).map((state) => (
                  <li
                    key={state}
                    className="flex items-center justify-between rounded-lg bg-surface-2/60 px-3 py-2"
                  >
                    <SlaBadge state={state} />
                    <span
                      className="text-sm font-semibold text-ink tabular-nums"
                      data-testid={`sla-${state}`}
                    >
                      {formatNumber(s.sla[state])}
                    </span>
                  </li>
                ))}
              </ul>
            </CardBody>
          </Card>
        </div>

        <div className="grid gap-6 lg:grid-cols-2">
          <Card aria-labelledby="chart-outcomes">
            <CardHeader
              id="chart-outcomes"
              title="Success and failure"
              description="Requests of recent batches"
            />
            <CardBody>
              {s.recentOutcomes.length > 0 ? (
                <OutcomesChart data={s.recentOutcomes} />
              ) : (
                <p className="text-[13px] text-muted">No requests counted yet.</p>
              )}
            </CardBody>
          </Card>
          <Card aria-labelledby="chart-status">
            <CardHeader
              id="chart-status"
              title="Status distribution"
              description="Batches loaded, by status"
            />
            <CardBody>
              <StatusDistributionChart data={s.byStatus} />
            </CardBody>
          </Card>
          <Card aria-labelledby="chart-time">
            <CardHeader
              id="chart-time"
              title="Processing time"
              description="From in progress to completed, recent batches"
            />
            <CardBody>
              {s.processing.length > 0 ? (
                <ProcessingTimeChart data={s.processing} />
              ) : (
                <p className="text-[13px] text-muted">No completed batch yet.</p>
              )}
            </CardBody>
          </Card>
          <Card aria-labelledby="usage-cost">
            <CardHeader
              id="usage-cost"
              title="Tokens and cost"
              description="Batches loaded; the cost is an estimate from the deployment's prices"
            />
            <CardBody>
              <UsageCostTotals
                usage={sumUsage(q.batches)}
                cost={sumCost(q.batches)}
                batches={q.batches.length}
              />
            </CardBody>
          </Card>
        </div>

        <Card aria-labelledby="recent">
          <CardHeader
            id="recent"
            title="Recent batches"
            actions={
              <ButtonLink to="/batches" size="sm" variant="ghost">
                View all
                <ArrowRight aria-hidden className="size-3.5" />
              </ButtonLink>
            }
          />
          <RecentBatches batches={q.batches.slice(0, 8)} nowMs={now} />
        </Card>

        <p className="flex items-center gap-1.5 text-xs text-muted">
          <Info aria-hidden className="size-3.5" />
          Figures cover the {formatNumber(q.batches.length)} most recent batches loaded
          {q.hasNextPage ? ' (older batches exist; load them from the Batches page)' : ' (all of them)'}.
        </p>
      </div>
    </>
  );
}

export { DashboardRoute as Component };
