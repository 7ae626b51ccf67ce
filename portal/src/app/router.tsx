import { createBrowserRouter, createMemoryRouter, type RouteObject } from 'react-router';
import { Spinner } from '../components/ui/spinner';
import { AppShell } from './layout/app-shell';
import { RouteError } from './layout/route-error';

/**
 * Shown while the first page's chunk loads: the router is not ready until the lazy route it
 * starts on is, and React Router warns when a route tree gives it nothing to show meanwhile.
 */
function FirstLoad() {
  return (
    <div className="flex min-h-screen items-center justify-center">
      <Spinner label="Loading…" />
    </div>
  );
}

/** Routes; each page is its own chunk, loaded on first visit. */
export const routes: RouteObject[] = [
  {
    path: '/',
    Component: AppShell,
    ErrorBoundary: RouteError,
    HydrateFallback: FirstLoad,
    children: [
      { index: true, lazy: () => import('./routes/dashboard') },
      { path: 'batches', lazy: () => import('./routes/batches') },
      { path: 'batches/new', lazy: () => import('./routes/new-batch') },
      { path: 'batches/:batchId', lazy: () => import('./routes/batch') },
      { path: 'operator', lazy: () => import('./routes/operator') },
      { path: '*', lazy: () => import('./routes/not-found') },
    ],
  },
];

export function createAppRouter(opts: { initialEntries?: string[] } = {}) {
  return opts.initialEntries
    ? createMemoryRouter(routes, { initialEntries: opts.initialEntries })
    : createBrowserRouter(routes);
}
