import { type InfiniteData, infiniteQueryOptions, useInfiniteQuery } from '@tanstack/react-query';
import { useMemo } from 'react';
import type { ApiClient } from '../../../lib/api-client';
import { useApiClient } from '../../../lib/api-context';
import { useAutoRefresh } from '../../../lib/auto-refresh';
import { isActive } from '../../../lib/batch-status';
import type { Batch, ListPage } from '../../../types/api';

/** The API's largest page; the list loads newest first, one page per "load more". */
export const BATCH_PAGE_SIZE = 100;

export const fetchBatchesPage = (client: ApiClient, after?: string, limit = BATCH_PAGE_SIZE) =>
  client.get<ListPage<Batch>>('/batches', { after, limit });

export const batchesQueryOptions = (client: ApiClient) =>
  infiniteQueryOptions({
    queryKey: ['batches', 'list'],
    queryFn: ({ pageParam, signal }) =>
      client.get<ListPage<Batch>>('/batches', { after: pageParam, limit: BATCH_PAGE_SIZE }, signal),
    initialPageParam: undefined as string | undefined,
    getNextPageParam: (last) => (last.has_more && last.last_id ? last.last_id : undefined),
  });

export const flattenBatches = (data: InfiniteData<ListPage<Batch>> | undefined): Batch[] =>
  data?.pages.flatMap((p) => p.data) ?? [];

/**
 * Batches, newest first, a server page at a time. Polls while any loaded batch is still active
 * and auto-refresh is on.
 */
export function useBatches() {
  const client = useApiClient();
  const { enabled, intervalMs } = useAutoRefresh();
  const query = useInfiniteQuery({
    ...batchesQueryOptions(client),
    refetchInterval: (q) => (enabled && flattenBatches(q.state.data).some(isActive) ? intervalMs : false),
  });
  const batches = useMemo(() => flattenBatches(query.data), [query.data]);
  return { ...query, batches };
}
