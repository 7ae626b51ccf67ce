import {
  type InfiniteData,
  infiniteQueryOptions,
  queryOptions,
  useInfiniteQuery,
  useMutation,
  useQuery,
  useQueryClient,
} from '@tanstack/react-query';
import { useEffect, useMemo, useRef } from 'react';
import { toast } from 'sonner';
import { type ApiClient, ApiError, errorMessage } from '../../../lib/api-client';
import { useApiClient } from '../../../lib/api-context';
import type { Batch, ListPage } from '../../../types/api';
import type { BatchRequest, BatchRequestDetail, RetryFilter } from '../types';

/** The API's largest page of requests. */
export const REQUEST_PAGE_SIZE = 100;

const base = (batchId: string) => `/openbatch/batches/${encodeURIComponent(batchId)}`;

/** An API without the per-request endpoints answers 404 (or 405) for a batch that exists. */
const unsupported = (err: unknown) => err instanceof ApiError && (err.status === 404 || err.status === 405);

/**
 * `GET /v1/openbatch/batches/{id}/requests`, a page at a time in input-line order; the first page
 * is `null` where the API lacks the endpoint (the page then reads the result files instead).
 */
export const requestsQueryOptions = (client: ApiClient, batchId: string) =>
  infiniteQueryOptions({
    queryKey: ['batches', 'detail', batchId, 'requests'],
    queryFn: async ({ pageParam, signal }): Promise<ListPage<BatchRequest> | null> => {
      try {
        return await client.get<ListPage<BatchRequest>>(
          `${base(batchId)}/requests`,
          { after: pageParam, limit: REQUEST_PAGE_SIZE },
          signal,
        );
      } catch (err) {
        if (pageParam === undefined && unsupported(err)) return null;
        throw err;
      }
    },
    initialPageParam: undefined as string | undefined,
    getNextPageParam: (last) => (last?.has_more && last.last_id ? last.last_id : undefined),
    retry: (count, err) => !unsupported(err) && count < 2,
  });

export const flattenRequests = (data: InfiniteData<ListPage<BatchRequest> | null> | undefined) =>
  data?.pages.flatMap((p) => p?.data ?? []) ?? [];

/**
 * A batch's requests loaded so far. They follow the page's snapshot of the batch rather than a
 * clock of their own: whenever the batch's status or counts move (the batch page polls while
 * it runs), the loaded pages are read again, so the table never runs ahead of or lags behind
 * the progress card by more than one reading, and a batch whose counts stand still costs no
 * request reads.
 */
export function useBatchRequests(batch: Batch) {
  const client = useApiClient();
  const query = useInfiniteQuery(requestsQueryOptions(client, batch.id));
  const c = batch.request_counts;
  const moved = `${batch.status}:${c.total}:${c.completed}:${c.failed}:${batch.openbatch?.reused ?? 0}`;
  const seen = useRef(moved);
  const { refetch } = query;
  useEffect(() => {
    if (seen.current === moved) return;
    seen.current = moved;
    void refetch();
  }, [moved, refetch]);
  const requests = useMemo(() => flattenRequests(query.data), [query.data]);
  const supported = query.data ? query.data.pages[0] !== null : undefined;
  return { ...query, requests, supported };
}

/** `GET /v1/openbatch/batches/{id}/requests/{custom_id}`: one request, its input and its result line. */
export const requestQueryOptions = (client: ApiClient, batchId: string, customId: string) =>
  queryOptions({
    queryKey: ['batches', 'detail', batchId, 'requests', 'one', customId],
    queryFn: ({ signal }) =>
      client.get<BatchRequestDetail>(
        `${base(batchId)}/requests/${encodeURIComponent(customId)}`,
        undefined,
        signal,
      ),
  });

export function useBatchRequest(batchId: string, customId: string | null) {
  const client = useApiClient();
  return useQuery({ ...requestQueryOptions(client, batchId, customId ?? ''), enabled: customId !== null });
}

/** `POST /v1/openbatch/batches/{id}/retry`: a new batch of the chosen (or failed and expired) lines. */
export function useRetryBatch(batchId: string) {
  const client = useApiClient();
  const qc = useQueryClient();
  return useMutation({
    mutationFn: (filter: RetryFilter) => client.post<Batch>(`${base(batchId)}/retry`, filter),
    onSuccess: (retry) => {
      void qc.invalidateQueries({ queryKey: ['batches'] });
      toast.success('Retry batch created', { description: `${retry.id} runs the requests again.` });
    },
    onError: (err) => toast.error('Could not retry', { description: errorMessage(err) }),
  });
}
