import { QueryClient, QueryClientProvider } from '@tanstack/react-query';
import { render } from '@testing-library/react';
import type { ReactNode } from 'react';
import { MemoryRouter } from 'react-router';
import { parseRuntimeConfig, type RuntimeConfig } from '../../../portal/src/config/runtime-config.js';
import { ApiClient } from '../../../portal/src/lib/api-client.js';
import { ApiProvider } from '../../../portal/src/lib/api-context.js';
import { AutoRefreshProvider } from '../../../portal/src/lib/auto-refresh.js';

export const testConfig = parseRuntimeConfig({ apiBaseUrl: 'http://api.test/v1', environment: 'test' });

export type Route = (method: string, path: string, body: unknown) => unknown | Response;

/**
 * A tiny in-memory API for component tests: `route` answers each request (a value becomes a
 * JSON 200, a Response is sent as is, a thrown error becomes a 500); a promise of either answers
 * when it settles, for a slow endpoint.
 */
export function fakeFetch(route: Route) {
  const calls: { method: string; path: string; body: unknown }[] = [];
  const fetch = async (input: string | URL | Request, init?: RequestInit) => {
    const url = new URL(String(input));
    const method = init?.method ?? 'GET';
    const path = `${url.pathname.replace(/^\/v1/, '')}${url.search}`;
    const body = typeof init?.body === 'string' ? JSON.parse(init.body) : init?.body;
    calls.push({ method, path, body });
    const answer = await route(method, path, body);
    return answer instanceof Response ? answer : Response.json(answer);
  };
  return { fetch: fetch as typeof globalThis.fetch, calls };
}

/** Renders UI inside the providers the app gives it: query cache, API client, auto-refresh, router. */
export function renderWithApp(
  ui: ReactNode,
  opts: { route: Route; path?: string; config?: Partial<RuntimeConfig> },
) {
  const { fetch, calls } = fakeFetch(opts.route);
  const client = new ApiClient({ baseUrl: testConfig.apiBaseUrl, apiKey: 'sk-test', fetch });
  const queryClient = new QueryClient({ defaultOptions: { queries: { retry: false } } });
  const result = render(
    <QueryClientProvider client={queryClient}>
      <ApiProvider client={client} config={{ ...testConfig, ...opts.config }}>
        <AutoRefreshProvider>
          <MemoryRouter initialEntries={[opts.path ?? '/']}>{ui}</MemoryRouter>
        </AutoRefreshProvider>
      </ApiProvider>
    </QueryClientProvider>,
  );
  return { ...result, calls, client, queryClient };
}
