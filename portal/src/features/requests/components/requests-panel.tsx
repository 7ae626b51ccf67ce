import type { ReactNode } from 'react';
import { useState } from 'react';
import { useNavigate } from 'react-router';
import { ErrorState } from '../../../components/ui/error-state';
import { Spinner } from '../../../components/ui/spinner';
import type { Batch } from '../../../types/api';
import { useBatchRequest, useBatchRequests, useRetryBatch } from '../api/requests';
import { retryState } from '../utils/request-filters';
import { RequestDrawer } from './request-drawer';
import { RequestTable } from './request-table';
import { RetryButton } from './retry-button';

/**
 * A batch's requests from the per-request API: the table (filters, search, load more), a drawer
 * per request, and retry of the failed ones or of a chosen set, which opens the new batch. Where
 * the API lacks the endpoints it shows `fallback` instead.
 */
export function RequestsPanel(props: { batch: Batch; fallback: ReactNode }) {
  const b = props.batch;
  const q = useBatchRequests(b);
  const [openId, setOpenId] = useState<string | null>(null);
  const [chosen, setChosen] = useState<Set<string>>(() => new Set());
  const detail = useBatchRequest(b.id, openId);
  const retry = useRetryBatch(b.id);
  const navigate = useNavigate();
  const { retryable, disabledReason } = retryState(b);

  if (q.isPending) return <Spinner label="Loading requests…" className="px-5" />;
  if (q.isError) return <ErrorState error={q.error} title="Could not load the requests" />;
  if (q.supported === false) return <>{props.fallback}</>;
  return (
    <div>
      <div className="flex flex-wrap items-center justify-end gap-2 px-5 pb-3">
        <RetryButton
          retryable={retryable}
          chosen={[...chosen]}
          busy={retry.isPending}
          disabledReason={disabledReason}
          onRetry={(filter) =>
            retry.mutate(filter, {
              onSuccess: (created) => {
                setChosen(new Set());
                navigate(`/batches/${created.id}`);
              },
            })
          }
        />
      </div>
      <RequestTable
        requests={q.requests}
        hasMore={q.hasNextPage}
        loadingMore={q.isFetchingNextPage}
        onLoadMore={() => void q.fetchNextPage()}
        onOpen={setOpenId}
        {...(disabledReason === null ? { selection: { selected: chosen, onChange: setChosen } } : {})}
      />
      <RequestDrawer
        customId={openId}
        request={detail.data ?? null}
        loading={detail.isPending}
        error={detail.error}
        onClose={() => setOpenId(null)}
      />
    </div>
  );
}
