import { useQuery, useQueryClient } from '@tanstack/react-query';
import type { ApiClient } from '../../../lib/api-client';
import { useApiClient } from '../../../lib/api-context';
import { useAutoRefresh } from '../../../lib/auto-refresh';
import type { Scrape } from '../utils/operator-figures';
import { parsePrometheus } from '../utils/prometheus';

/** How often the operator page reads `/metrics` while auto-refresh is on. */
export const METRICS_REFRESH_MS = 5_000;

/**
 * Where the local runtime serves its metrics: `GET /metrics` at the root of the server that
 * serves the API (`apiBaseUrl` without its `/v1`). On AWS nothing answers there in this format.
 */
export const metricsUrl = (apiBaseUrl: string): string => `${apiBaseUrl.replace(/\/v1\/?$/, '')}/metrics`;

/** One read of `/metrics`. */
export type MetricsRead =
  | { available: true; url: string; scrape: Scrape }
  | { available: false; url: string; reason: string };

/** The latest read, with the scrape before it when there was one (rates need two). */
export type MetricsReading =
  | { available: true; url: string; scrape: Scrape; previous: Scrape | undefined }
  | { available: false; url: string; reason: string };

/**
 * One read of `/metrics`. Whatever is not Prometheus text (no server, an error status, a web
 * page, CORS refusing the read) reads as "not available here" with the reason, not as a failure:
 * that is what an AWS deployment, which has no `/metrics`, answers.
 */
export async function readMetrics(
  client: ApiClient,
  url: string,
  nowMs: () => number,
  signal?: AbortSignal,
): Promise<MetricsRead> {
  let res: Response;
  try {
    res = await client.fetchOutside(url, { cache: 'no-store', ...(signal ? { signal } : {}) });
  } catch (err) {
    if ((err as Error)?.name === 'AbortError') throw err;
    return {
      available: false,
      url,
      reason: `${url} could not be read (no server there, or it refused the request).`,
    };
  }
  if (!res.ok) return { available: false, url, reason: `${url} answered HTTP ${res.status}.` };
  const type = res.headers.get('content-type') ?? '';
  if (!type.startsWith('text/plain'))
    return { available: false, url, reason: `${url} answered ${type || 'something'} rather than metrics.` };
  try {
    return { available: true, url, scrape: { exp: parsePrometheus(await res.text()), atMs: nowMs() } };
  } catch (err) {
    return {
      available: false,
      url,
      reason: `${url} is not in Prometheus' text format: ${(err as Error).message}.`,
    };
  }
}

/**
 * The latest `/metrics` reading with the one before it (rates need two), every 5 s while
 * auto-refresh is on.
 */
export function useMetrics(url: string) {
  const client = useApiClient();
  const queryClient = useQueryClient();
  const { enabled } = useAutoRefresh();
  const queryKey = ['operator', 'metrics', url];
  return useQuery({
    queryKey,
    queryFn: async ({ signal }): Promise<MetricsReading> => {
      const before = queryClient.getQueryData<MetricsReading>(queryKey);
      const now = await readMetrics(client, url, Date.now, signal);
      if (!now.available) return now;
      return { ...now, previous: before?.available ? before.scrape : undefined };
    },
    refetchInterval: enabled ? METRICS_REFRESH_MS : false,
    retry: false,
  });
}
