import { queryOptions, useQuery } from '@tanstack/react-query';
import { type ApiClient, ApiError } from '../../../lib/api-client';
import { useApiClient } from '../../../lib/api-context';
import { useAutoRefresh } from '../../../lib/auto-refresh';
import { isActive } from '../../../lib/batch-status';
import type { Batch, ChunkView, ListPage } from '../../../types/api';

const retryUnlessMissing = (count: number, err: unknown) =>
  !(err instanceof ApiError && err.status === 404) && count < 2;

export const batchQueryOptions = (client: ApiClient, id: string) =>
  queryOptions({
    queryKey: ['batches', 'detail', id],
    queryFn: ({ signal }) => client.get<Batch>(`/batches/${encodeURIComponent(id)}`, undefined, signal),
    retry: retryUnlessMissing,
  });

/** One batch (the clone form); polls while it is active and auto-refresh is on. */
export function useBatch(id: string) {
  const client = useApiClient();
  const { enabled, intervalMs } = useAutoRefresh();
  return useQuery({
    ...batchQueryOptions(client, id),
    refetchInterval: (q) => (enabled && q.state.data && isActive(q.state.data) ? intervalMs : false),
  });
}

/** The chunks extension (`GET /v1/openbatch/batches/{id}/chunks`); `null` where the API lacks it. */
export async function fetchChunks(
  client: ApiClient,
  id: string,
  signal?: AbortSignal,
): Promise<ChunkView[] | null> {
  try {
    const page = await client.get<ListPage<ChunkView>>(
      `/openbatch/batches/${encodeURIComponent(id)}/chunks`,
      undefined,
      signal,
    );
    return page.data;
  } catch (err) {
    if (err instanceof ApiError && (err.status === 404 || err.status === 405)) return null;
    throw err;
  }
}

/**
 * Everything the batch page shows, read as one snapshot: the batch, then its chunks. The page
 * renders every figure (progress card, pools, chunk map and table) from the same snapshot, so
 * they never disagree; two queries refreshing apart showed a completed batch beside chunks still
 * pending for a moment. The chunks are read after the batch, so a finished batch always comes
 * with its finished chunks (the finalizer ends a batch only once every chunk is done).
 */
export interface BatchView {
  batch: Batch;
  /** `null` where the API lacks the chunks extension. */
  chunks: ChunkView[] | null;
  /** Why the chunks could not be read, when only they failed; the batch still shows. */
  chunksError: unknown;
}

export async function fetchBatchView(
  client: ApiClient,
  id: string,
  signal?: AbortSignal,
): Promise<BatchView> {
  const batch = await client.get<Batch>(`/batches/${encodeURIComponent(id)}`, undefined, signal);
  try {
    return { batch, chunks: await fetchChunks(client, id, signal), chunksError: null };
  } catch (err) {
    if (signal?.aborted) throw err;
    return { batch, chunks: null, chunksError: err };
  }
}

export const batchViewQueryOptions = (client: ApiClient, id: string) =>
  queryOptions({
    queryKey: ['batches', 'detail', id, 'view'],
    queryFn: ({ signal }) => fetchBatchView(client, id, signal),
    retry: retryUnlessMissing,
  });

/** The batch page's snapshot; polls while the batch is active and auto-refresh is on. */
export function useBatchView(id: string) {
  const client = useApiClient();
  const { enabled, intervalMs } = useAutoRefresh();
  return useQuery({
    ...batchViewQueryOptions(client, id),
    refetchInterval: (q) => (enabled && q.state.data && isActive(q.state.data.batch) ? intervalMs : false),
  });
}
