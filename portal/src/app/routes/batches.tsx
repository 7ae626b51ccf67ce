import { ChevronsDown, Info, Layers, Plus } from 'lucide-react';
import { Button, ButtonLink } from '../../components/ui/button';
import { Card } from '../../components/ui/card';
import { EmptyState } from '../../components/ui/empty-state';
import { ErrorState } from '../../components/ui/error-state';
import { PageHeader } from '../../components/ui/page-header';
import { Skeleton } from '../../components/ui/spinner';
import { BATCH_PAGE_SIZE, useBatches } from '../../features/batches/api/get-batches';
import { BatchesTable } from '../../features/batches/components/batches-table';
import { useDocumentTitle } from '../../hooks/use-document-title';
import { useNow } from '../../hooks/use-now';
import { formatNumber } from '../../lib/format';

function BatchesRoute() {
  const q = useBatches();
  const now = useNow();
  useDocumentTitle('Batches');
  return (
    <>
      <PageHeader
        crumbs={[{ label: 'Dashboard', to: '/' }, { label: 'Batches' }]}
        title="Batches"
        description="Every batch of this API key's tenant, newest first."
        actions={
          <ButtonLink to="/batches/new" variant="primary">
            <Plus aria-hidden className="size-4" />
            New batch
          </ButtonLink>
        }
      />
      {q.isError ? (
        <ErrorState error={q.error} onRetry={() => void q.refetch()} title="Could not load batches" />
      ) : null}
      <Card>
        {q.isPending ? (
          <div className="space-y-3 p-5">
            {Array.from({ length: 6 }, (_, i) => (
              // biome-ignore lint/suspicious/noArrayIndexKey: static placeholders
              <Skeleton key={i} className="h-10 w-full" />
            ))}
          </div>
        ) : q.batches.length === 0 && !q.isError ? (
          <EmptyState
            icon={Layers}
            title="No batches yet"
            action={
              <ButtonLink to="/batches/new" variant="primary">
                <Plus aria-hidden className="size-4" />
                Create your first batch
              </ButtonLink>
            }
          >
            Upload a JSONL file of requests and openbatch runs them on your own GPUs, mostly on spot capacity.
          </EmptyState>
        ) : (
          <BatchesTable batches={q.batches} nowMs={now} />
        )}
      </Card>
      {q.batches.length > 0 ? (
        <div className="mt-3 flex flex-wrap items-center justify-between gap-3 text-[13px] text-muted">
          <p className="flex items-center gap-1.5">
            <Info aria-hidden className="size-3.5 shrink-0" />
            Filters, search, sorting and counts apply to the {formatNumber(q.batches.length)} batches loaded
            so far; the API does not filter on the server yet.
          </p>
          {q.hasNextPage ? (
            <Button size="sm" onClick={() => void q.fetchNextPage()} disabled={q.isFetchingNextPage}>
              <ChevronsDown aria-hidden className="size-4" />
              {q.isFetchingNextPage ? 'Loading…' : `Load ${BATCH_PAGE_SIZE} older batches`}
            </Button>
          ) : (
            <span>All batches loaded.</span>
          )}
        </div>
      ) : null}
    </>
  );
}

export { BatchesRoute as Component };
