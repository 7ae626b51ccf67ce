import { createBrowserRouter, createMemoryRouter, type RouteObject } from 'react-router';
import { AppShell } from './layout/app-shell';
import { RouteError } from './layout/route-error';

/** Routes; each page is its own chunk, loaded on first visit. */
export const routes: RouteObject[] = [
  {
    path: '/',
    Component: AppShell,
    ErrorBoundary: RouteError,
    children: [
      { index: true, lazy: () => import('./routes/dashboard') },
      { path: 'batches', lazy: () => import('./routes/batches') },
      { path: 'batches/new', lazy: () => import('./routes/new-batch') },
      { path: 'batches/:batchId', lazy: () => import('./routes/batch') },
      { path: '*', lazy: () => import('./routes/not-found') },
    ],
  },
];

export function createAppRouter(opts: { initialEntries?: string[] } = {}) {
  return opts.initialEntries
    ? createMemoryRouter(routes, { initialEntries: opts.initialEntries })
    : createBrowserRouter(routes);
}
