import { BarChart3 } from 'lucide-react';
import { Card, CardBody } from '../../components/ui/card';
import { PageHeader } from '../../components/ui/page-header';
import { Skeleton } from '../../components/ui/spinner';
import { METRICS_REFRESH_MS, metricsUrl, useMetrics } from '../../features/operator/api/metrics';
import {
  AllSeries,
  OperatorStats,
  PolicyDecisions,
  PoolThroughput,
  Queues,
} from '../../features/operator/components/operator-panels';
import { operatorFigures } from '../../features/operator/utils/operator-figures';
import { useDocumentTitle } from '../../hooks/use-document-title';
import { useRuntimeConfig } from '../../lib/api-context';

/**
 * The operator page: the local runtime's `GET /metrics` (the same metrics CloudWatch gets as EMF
 * on AWS) as throughput, engine latency, queues and the scheduling policy's decisions. Where no
 * `/metrics` answers (an AWS deployment), it says so and points to the dashboards there.
 */
function OperatorRoute() {
  const config = useRuntimeConfig();
  const url = metricsUrl(config.apiBaseUrl);
  const q = useMetrics(url);
  useDocumentTitle('Operations');
  const header = (
    <PageHeader
      crumbs={[{ label: 'Dashboard', to: '/' }, { label: 'Operations' }]}
      title="Operations"
      description={
        <span>
          The runtime&apos;s metrics from <span className="font-mono text-[13px] break-all">{url}</span>, read
          every {METRICS_REFRESH_MS / 1000} s while auto-refresh is on.
        </span>
      }
    />
  );
  if (q.isPending)
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
  if (q.isError || !q.data.available) {
    const reason = q.isError ? String(q.error) : q.data.available ? '' : q.data.reason;
    return (
      <>
        {header}
        <NoMetrics reason={reason} />
      </>
    );
  }
  const { scrape, previous } = q.data;
  const f = operatorFigures(scrape, previous);
  return (
    <>
      {header}
      <div className="space-y-6">
        {scrape.exp.size === 0 ? (
          <p className="text-[13px] text-muted" data-testid="op-empty">
            No metrics reported yet: they appear as the API, the functions and the workers run.
          </p>
        ) : null}
        <OperatorStats f={f} />
        <PoolThroughput f={f} />
        <div className="grid gap-6 lg:grid-cols-2">
          <Queues f={f} />
          <PolicyDecisions f={f} />
        </div>
        <AllSeries exp={scrape.exp} />
      </div>
    </>
  );
}

/** No `/metrics` here: what that means, and where the same figures are on AWS. */
function NoMetrics({ reason }: { reason: string }) {
  return (
    <Card>
      <CardBody className="flex items-start gap-3">
        <BarChart3 aria-hidden className="mt-0.5 size-5 shrink-0 text-muted" />
        <div className="min-w-0 space-y-2 text-[13px] text-muted" data-testid="no-metrics">
          <p className="text-sm font-medium text-ink">This deployment serves no /metrics</p>
          <p className="break-words">{reason}</p>
          <p>
            The local runtime (<span className="font-mono">npm start</span>) serves its metrics at{' '}
            <span className="font-mono">GET /metrics</span>. On AWS the same metrics go to CloudWatch: open
            the CloudWatch dashboard named after the environment&apos;s prefix (the stack output{' '}
            <span className="font-mono">DashboardName</span>), or the Grafana dashboard (
            <span className="font-mono">GrafanaDashboardUrl</span> where Amazon Managed Grafana is on).{' '}
            <span className="font-mono">docs/observability.md</span> describes both.
          </p>
        </div>
      </CardBody>
    </Card>
  );
}

export { OperatorRoute as Component };
