import { AlertTriangle, Copy, Recycle, SearchX } from 'lucide-react';
import type { ReactNode } from 'react';
import { Link, useParams } from 'react-router';
import { Badge } from '../../components/ui/badge';
import { ButtonLink } from '../../components/ui/button';
import { Card, CardBody, CardHeader } from '../../components/ui/card';
import { CopyButton } from '../../components/ui/copy-button';
import { EmptyState } from '../../components/ui/empty-state';
import { ErrorState } from '../../components/ui/error-state';
import { PageHeader } from '../../components/ui/page-header';
import { RequestProgress } from '../../components/ui/progress-bar';
import { Skeleton } from '../../components/ui/spinner';
import { SlaBadge, StatusBadge } from '../../components/ui/status-badge';
import { Unavailable } from '../../components/ui/unavailable';
import { type BatchView, useBatchView } from '../../features/batches/api/get-batch';
import { BatchChunks } from '../../features/batches/components/batch-chunks';
import { BatchErrors } from '../../features/batches/components/batch-errors';
import { BatchMetadata } from '../../features/batches/components/batch-metadata';
import { BatchTimeline } from '../../features/batches/components/batch-timeline';
import { CancelBatchButton } from '../../features/batches/components/cancel-batch-button';
import { processedLabel, successRateLabel } from '../../features/batches/utils/progress';
import { PartialOutputButton } from '../../features/files/components/partial-output-button';
import { RequestResults } from '../../features/files/components/request-results';
import { type BatchFileRef, ResultFiles } from '../../features/files/components/result-files';
import { RequestsPanel } from '../../features/requests/components/requests-panel';
import { CostEstimateSummary, UsageSummary } from '../../features/usage/components/usage-cost';
import { costOf, usageOf } from '../../features/usage/utils/cost';
import { useDocumentTitle } from '../../hooks/use-document-title';
import { useNow } from '../../hooks/use-now';
import { ApiError } from '../../lib/api-client';
import { isActive, isCancellable, pendingRequests, statusLabel } from '../../lib/batch-status';
import { formatDateTime, formatNumber } from '../../lib/format';
import type { Batch } from '../../types/api';

function BatchRoute() {
  const { batchId = '' } = useParams();
  const q = useBatchView(batchId);
  useDocumentTitle(
    batchId,
    q.data
      ? statusLabel(q.data.batch.status)
      : q.error instanceof ApiError && q.error.status === 404
        ? 'Not found'
        : null,
  );
  const crumbs = [{ label: 'Dashboard', to: '/' }, { label: 'Batches', to: '/batches' }, { label: batchId }];
  if (q.isPending) {
    return (
      <>
        <PageHeader crumbs={crumbs} title={<span className="font-mono">{batchId}</span>} />
        <div className="grid gap-6 lg:grid-cols-3">
          <Skeleton className="h-48 lg:col-span-2" />
          <Skeleton className="h-48" />
        </div>
      </>
    );
  }
  if (q.isError) {
    return (
      <>
        <PageHeader crumbs={crumbs} title={<span className="font-mono">{batchId}</span>} />
        {q.error instanceof ApiError && q.error.status === 404 ? (
          <Card>
            <EmptyState
              icon={SearchX}
              title="No such batch"
              action={<ButtonLink to="/batches">All batches</ButtonLink>}
            >
              This API key&apos;s tenant has no batch with this id.
            </EmptyState>
          </Card>
        ) : (
          <ErrorState error={q.error} onRetry={() => void q.refetch()} title="Could not load the batch" />
        )}
      </>
    );
  }
  return <BatchDetails key={q.data.batch.id} view={q.data} crumbs={crumbs} />;
}

/** The whole page renders from one snapshot (`view`): no figure can run ahead of another. */
function BatchDetails({ view, crumbs }: { view: BatchView; crumbs: { label: string; to?: string }[] }) {
  const now = useNow(5_000);
  const b = view.batch;
  const c = b.request_counts;
  const successRate = successRateLabel(b);
  const errors = b.errors?.data ?? [];
  const ended = !isActive(b);
  const usage = usageOf(b);
  const cost = costOf(b);
  const files: BatchFileRef[] = [
    { role: 'input', label: 'Input file', id: b.input_file_id, absentNote: '' },
    {
      role: 'output',
      label: 'Output file',
      id: b.output_file_id,
      absentNote: ended ? 'No output: no request succeeded.' : 'Written when the batch finishes.',
    },
    {
      role: 'error',
      label: 'Error file',
      id: b.error_file_id,
      absentNote: ended
        ? 'No error file: no request failed.'
        : 'Written when the batch finishes, if any request failed.',
    },
  ];

  return (
    <>
      <PageHeader
        crumbs={crumbs}
        title={
          <span className="flex flex-wrap items-center gap-3">
            <span className="min-w-0 font-mono text-xl break-all" data-testid="batch-id">
              {b.id}
            </span>
            <StatusBadge status={b.status} />
          </span>
        }
        description={
          <span>
            <span className="font-mono text-[13px]">{b.endpoint}</span>
            {b.model ? ` · ${b.model}` : ''} · created {formatDateTime(b.created_at)}
          </span>
        }
        actions={
          <>
            <CopyButton value={b.id} label="Copy id" size="md" />
            <ButtonLink to={`/batches/new?from=${encodeURIComponent(b.id)}`}>
              <Copy aria-hidden className="size-4" />
              Clone
            </ButtonLink>
            {isCancellable(b) ? <CancelBatchButton batch={b} /> : null}
          </>
        }
      />

      <div className="grid gap-6 lg:grid-cols-3">
        <div className="min-w-0 space-y-6 lg:col-span-2">
          {b.openbatch?.admission_warning ? (
            <div
              role="note"
              data-testid="admission-warning"
              className="flex items-start gap-3 rounded-xl border border-warn/40 bg-warn-soft px-4 py-3 text-[13px] text-ink"
            >
              <AlertTriangle aria-hidden className="mt-0.5 size-4 shrink-0 text-warn" />
              <p className="min-w-0 break-words">
                <span className="font-medium">Admitted with a warning: it may miss its window.</span>{' '}
                {b.openbatch.admission_warning}
              </p>
            </div>
          ) : null}
          <Card aria-labelledby="progress">
            <CardHeader
              id="progress"
              title="Progress"
              actions={<SlaBadge state={b.openbatch?.sla?.state} />}
              description={processedLabel(b) ?? undefined}
            />
            <CardBody>
              <RequestProgress
                total={c.total}
                completed={c.completed}
                failed={c.failed}
                {...(ended ? { notRun: pendingRequests(b) } : {})}
                size="md"
                showLegend
              />
              <dl className="mt-4 grid grid-cols-2 gap-3 sm:grid-cols-4">
                <Count label="Total" value={c.total} testId="count-total" />
                <Count label="Succeeded" value={c.completed} tone="text-ok" testId="count-completed" />
                <Count
                  label="Failed"
                  value={c.failed}
                  tone={c.failed ? 'text-bad' : undefined}
                  testId="count-failed"
                />
                <Count
                  label={ended ? 'Not run' : 'Pending'}
                  value={pendingRequests(b)}
                  testId="count-pending"
                />
              </dl>
              {successRate ? (
                <p className="mt-3 text-xs text-muted" data-testid="success-rate">
                  {successRate}
                </p>
              ) : null}
              {b.openbatch?.reused ? (
                <p
                  className="mt-2 flex flex-wrap items-center gap-1.5 text-xs text-muted"
                  data-testid="reused"
                >
                  <Badge tone="accent" title="Answered from an earlier identical request, without running">
                    <Recycle aria-hidden className="size-3" />
                    reused
                  </Badge>
                  {formatNumber(b.openbatch.reused)}{' '}
                  {b.openbatch.reused === 1 ? 'request was' : 'requests were'} answered with an earlier
                  identical request&apos;s answer (deduplication), without running.
                </p>
              ) : null}
            </CardBody>
          </Card>

          {usage ? (
            <Card aria-labelledby="usage">
              <CardHeader
                id="usage"
                title="Tokens"
                description={
                  ended
                    ? 'Used by the requests that ran (OpenAI usage).'
                    : 'Used so far by the chunks done (OpenAI usage); grows as chunks complete.'
                }
              />
              <CardBody>
                <UsageSummary usage={usage} />
              </CardBody>
            </Card>
          ) : null}

          {errors.length > 0 ? (
            <Card aria-labelledby="errors" className="border-bad/30">
              <CardHeader
                id="errors"
                title={`Errors (${errors.length})`}
                description={
                  b.status === 'failed'
                    ? 'The batch failed; fix these lines in the input file and create it again.'
                    : undefined
                }
              />
              <BatchErrors errors={errors} />
            </Card>
          ) : null}

          <Card aria-labelledby="chunks">
            <CardHeader
              id="chunks"
              title="Chunks and pools"
              description="The input runs in chunks of consecutive lines on spot or dedicated GPU workers."
            />
            <CardBody>
              {view.chunksError ? (
                <ErrorState error={view.chunksError} title="Could not load chunks" />
              ) : (
                <BatchChunks batch={b} chunks={view.chunks} />
              )}
            </CardBody>
          </Card>

          <Card aria-labelledby="files">
            <CardHeader
              id="files"
              title="Files"
              description={
                b.status === 'in_progress'
                  ? "Download results, or preview their first lines. While the batch runs, the output so far is the done chunks' lines (a partial file)."
                  : 'Download results, or preview their first lines.'
              }
              actions={b.status === 'in_progress' ? <PartialOutputButton batchId={b.id} /> : undefined}
            />
            <ResultFiles files={files} />
          </Card>

          <Card aria-labelledby="requests">
            <CardHeader id="requests" title="Requests" description="Each request's status and result." />
            <div className="py-4">
              {c.total > 0 ? (
                <RequestsPanel batch={b} fallback={<FileRequests batch={b} />} />
              ) : (
                <FileRequests batch={b} />
              )}
            </div>
          </Card>
        </div>

        <div className="min-w-0 space-y-6">
          <Card aria-labelledby="timeline">
            <CardHeader id="timeline" title="Timeline" />
            <CardBody>
              <BatchTimeline batch={b} nowMs={now} />
            </CardBody>
          </Card>
          <Card aria-labelledby="details">
            <CardHeader id="details" title="Details" />
            <CardBody>
              <dl className="space-y-2.5 text-[13px]">
                <Detail label="Endpoint">
                  <span className="font-mono text-xs">{b.endpoint}</span>
                </Detail>
                <Detail label="Model">{b.model ?? '—'}</Detail>
                <Detail label="Pools">
                  {b.openbatch?.pool_group ? (
                    <span data-testid="batch-pools">
                      {b.openbatch.pool_group}: spot and dedicated
                      {b.openbatch.route ? `, now sent to ${b.openbatch.route}` : ''}
                    </span>
                  ) : (
                    '—'
                  )}
                </Detail>
                <Detail label="Completion window">{b.completion_window}</Detail>
                <Detail label="Priority">{b.openbatch?.priority ?? 'normal'}</Detail>
                {b.openbatch?.dedup ? (
                  <Detail label="Deduplication">
                    {b.openbatch.dedup === 'include_sampling' ? 'on, sampling too' : b.openbatch.dedup}
                  </Detail>
                ) : null}
                <Detail label="SLA">
                  <SlaBadge state={b.openbatch?.sla?.state} />
                </Detail>
                <Detail label="Deadline">
                  {formatDateTime(b.openbatch?.sla?.deadline_at ?? b.expires_at)}
                </Detail>
                <Detail label="Input file">
                  <span className="font-mono text-xs">{b.input_file_id}</span>
                </Detail>
                {b.openbatch?.retry_of ? (
                  <Detail label="Retry of">
                    <BatchLink id={b.openbatch.retry_of} />
                  </Detail>
                ) : null}
                {b.openbatch?.retries?.length ? (
                  <Detail label="Retried in">
                    <span className="flex flex-col items-end gap-0.5">
                      {b.openbatch.retries.map((id) => (
                        <BatchLink key={id} id={id} />
                      ))}
                    </span>
                  </Detail>
                ) : null}
              </dl>
            </CardBody>
          </Card>
          <Card aria-labelledby="metadata">
            <CardHeader id="metadata" title="Metadata" />
            <CardBody>
              <BatchMetadata metadata={b.metadata} />
            </CardBody>
          </Card>
          <Card aria-labelledby="cost">
            <CardHeader
              id="cost"
              title="Cost"
              description={ended ? undefined : 'So far: it grows as chunks complete.'}
            />
            <CardBody>
              {cost ? (
                <CostEstimateSummary cost={cost} />
              ) : (
                <Unavailable title="Cost of this batch">
                  This API reports no cost estimate (openbatch.cost), so the portal shows none rather than a
                  figure it cannot back.
                </Unavailable>
              )}
            </CardBody>
          </Card>
        </div>
      </div>
    </>
  );
}

/**
 * Requests from the output and error files: where the API has no per-request endpoint, and for a
 * batch that ended before any request ran.
 */
function FileRequests({ batch: b }: { batch: Batch }) {
  if (b.output_file_id || b.error_file_id)
    return <RequestResults outputFileId={b.output_file_id} errorFileId={b.error_file_id} />;
  return (
    <div className="px-5">
      {!isActive(b) ? (
        <p className="text-[13px] text-muted">No request results: the batch ended before any request ran.</p>
      ) : b.request_counts.total === 0 ? (
        <p className="text-[13px] text-muted">Requests are listed here once the input file is validated.</p>
      ) : (
        <Unavailable title="Per-request status while the batch runs">
          The API reports requests only through the output and error files, written when the batch finishes. A
          live per-request view needs a per-request status API.
        </Unavailable>
      )}
    </div>
  );
}

function BatchLink({ id }: { id: string }) {
  return (
    <Link to={`/batches/${id}`} className="font-mono text-xs text-accent hover:underline">
      {id}
    </Link>
  );
}

function Count(props: { label: string; value: number; tone?: string | undefined; testId: string }) {
  return (
    <div className="rounded-lg bg-surface-2/60 px-3 py-2">
      <dt className="text-xs text-muted">{props.label}</dt>
      <dd
        data-testid={props.testId}
        className={`mt-0.5 text-lg font-semibold tabular-nums ${props.tone ?? 'text-ink'}`}
      >
        {formatNumber(props.value)}
      </dd>
    </div>
  );
}

function Detail(props: { label: string; children: ReactNode }) {
  return (
    <div className="flex justify-between gap-3">
      <dt className="text-muted">{props.label}</dt>
      <dd className="min-w-0 text-right break-all text-ink">{props.children}</dd>
    </div>
  );
}

export { BatchRoute as Component };
