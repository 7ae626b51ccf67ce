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

export function useChunks(id: string, active: boolean) {
  const client = useApiClient();
  const { enabled, intervalMs } = useAutoRefresh();
  return useQuery({
    ...chunksQueryOptions(client, id),
    refetchInterval: enabled && active ? intervalMs : false,
  });
}
