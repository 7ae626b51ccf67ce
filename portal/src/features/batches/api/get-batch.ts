import { queryOptions, useQuery } from '@tanstack/react-query';
import { type ApiClient, ApiError } from '../../../lib/api-client';
import { useApiClient } from '../../../lib/api-context';
import { useAutoRefresh } from '../../../lib/auto-refresh';
import { isActive } from '../../../lib/batch-status';
import type { Batch, ChunkView, ListPage } from '../../../types/api';

export const batchQueryOptions = (client: ApiClient, id: string) =>
  queryOptions({
    queryKey: ['batches', 'detail', id],
    queryFn: ({ signal }) => client.get<Batch>(`/batches/${encodeURIComponent(id)}`, undefined, signal),
    retry: (count, err) => !(err instanceof ApiError && err.status === 404) && count < 2,
  });

/** One batch; polls while it is active and auto-refresh is on. */
export function useBatch(id: string) {
  const client = useApiClient();
  const { enabled, intervalMs } = useAutoRefresh();
  return useQuery({
    ...batchQueryOptions(client, id),
    refetchInterval: (q) => (enabled && q.state.data && isActive(q.state.data) ? intervalMs : false),
  });
}

/** The chunks extension (`GET /v1/openbatch/batches/{id}/chunks`); `null` where the API lacks it. */
export const chunksQueryOptions = (client: ApiClient, id: string) =>
  queryOptions({
    queryKey: ['batches', 'detail', id, 'chunks'],
    queryFn: async ({ signal }) => {
      try {
        return await client.get<ListPage<ChunkView>>(
          `/openbatch/batches/${encodeURIComponent(id)}/chunks`,
          undefined,
          signal,
        );
      } catch (err) {
        if (err instanceof ApiError && (err.status === 404 || err.status === 405)) return null;
        throw err;
      }
    },
  });

/**
 * Chunks of a batch; polls while it is active, and fetches once more whenever the batch's status
 * or chunk progress moves, so the view ends on the final state rather than the last poll's.
 */
export function useChunks(batch: Batch) {
  const client = useApiClient();
  const { enabled, intervalMs } = useAutoRefresh();
  const options = chunksQueryOptions(client, batch.id);
  const progress = `${batch.status}:${batch.openbatch?.chunks.done ?? 0}:${batch.openbatch?.chunks.interruptions ?? 0}`;
  return useQuery({
    ...options,
    queryKey: [...options.queryKey, progress],
    placeholderData: (previous) => previous,
    refetchInterval: enabled && isActive(batch) ? intervalMs : false,
  });
}
