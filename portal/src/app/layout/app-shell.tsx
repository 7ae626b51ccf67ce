import { useQueryClient } from '@tanstack/react-query';
import { clsx } from 'clsx';
import { Activity, LayoutDashboard, ListChecks, LogOut, Menu, PlusCircle, RefreshCw, X } from 'lucide-react';
import { Suspense, useEffect, useId, useState } from 'react';
import { NavLink, Outlet, useLocation, useNavigation } from 'react-router';
import { Spinner } from '../../components/ui/spinner';
import { ThemeToggle } from '../../components/ui/theme-toggle';
import { useRuntimeConfig } from '../../lib/api-context';
import { useAutoRefresh } from '../../lib/auto-refresh';
import { formatTime } from '../../lib/format';
import { useSession } from '../session';
import { useLastUpdated } from './use-last-updated';

const nav = [
  { to: '/', label: 'Dashboard', icon: LayoutDashboard, end: true },
  { to: '/batches', label: 'Batches', icon: ListChecks, end: true },
  { to: '/batches/new', label: 'New batch', icon: PlusCircle, end: true },
  { to: '/operator', label: 'Operations', icon: Activity, end: true },
];

export function AppShell() {
  const [menuOpen, setMenuOpen] = useState(false);
  const location = useLocation();
  const navigation = useNavigation();
  // biome-ignore lint/correctness/useExhaustiveDependencies: close the mobile menu on navigation
  useEffect(() => setMenuOpen(false), [location.pathname]);

  return (
    <div className="min-h-screen bg-canvas text-ink lg:grid lg:grid-cols-[15rem_1fr]">
      <a
        href="#main"
        className="sr-only z-50 rounded bg-accent px-3 py-2 text-accent-ink focus:not-sr-only focus:fixed focus:top-2 focus:left-2"
      >
        Skip to content
      </a>
      <Sidebar open={menuOpen} onClose={() => setMenuOpen(false)} />
      <div className="flex min-w-0 flex-col">
        <TopBar onMenu={() => setMenuOpen(true)} />
        <main id="main" tabIndex={-1} className="mx-auto w-full max-w-7xl flex-1 px-4 py-6 sm:px-6 lg:px-8">
          {navigation.state === 'loading' ? (
            <div className="fixed inset-x-0 top-0 z-50 h-0.5 animate-pulse bg-accent" aria-hidden />
          ) : null}
          <Suspense fallback={<Spinner />}>
            <Outlet />
          </Suspense>
        </main>
      </div>
    </div>
  );
}

function Sidebar(props: { open: boolean; onClose(): void }) {
  const config = useRuntimeConfig();
  const { signOut } = useSession();
  return (
    <>
      {props.open ? (
        <button
          type="button"
          aria-label="Close menu"
          className="fixed inset-0 z-30 bg-black/40 lg:hidden"
          onClick={props.onClose}
        />
      ) : null}
      <aside
        className={clsx(
          'fixed inset-y-0 left-0 z-40 w-60 border-r border-line bg-surface transition-transform lg:static lg:translate-x-0',
          props.open ? 'translate-x-0' : '-translate-x-full',
        )}
      >
        <div className="flex h-full flex-col lg:sticky lg:top-0 lg:h-screen">
          <div className="flex h-14 items-center justify-between gap-2 px-4">
            <NavLink to="/" className="flex items-center gap-2 rounded-md">
              <img src="/favicon.svg" alt="" className="size-7" />
              <span className="text-[15px] font-semibold tracking-tight">openbatch</span>
            </NavLink>
            <button
              type="button"
              onClick={props.onClose}
              aria-label="Close menu"
              className="rounded-md p-1.5 text-muted hover:bg-surface-2 lg:hidden"
            >
              <X aria-hidden className="size-4" />
            </button>
          </div>
          <nav aria-label="Main" className="flex-1 px-3 py-2">
            <ul className="space-y-0.5">
              {nav.map((item) => (
                <li key={item.to}>
                  <NavLink
                    to={item.to}
                    end={item.end}
                    className={({ isActive }) =>
                      clsx(
                        'flex items-center gap-2.5 rounded-lg px-2.5 py-2 text-sm font-medium transition-colors',
                        isActive
                          ? 'bg-accent-soft text-accent'
                          : 'text-muted hover:bg-surface-2 hover:text-ink',
                      )
                    }
                  >
                    <item.icon aria-hidden className="size-4" />
                    {item.label}
                  </NavLink>
                </li>
              ))}
            </ul>
          </nav>
          <div className="border-t border-line px-4 py-3 text-xs text-muted">
            <p className="flex items-center gap-1.5">
              <span aria-hidden className="size-1.5 rounded-full bg-ok" />
              Environment <span className="font-medium text-ink">{config.environment}</span>
            </p>
            <p className="mt-1 truncate font-mono text-[11px]" title={config.apiBaseUrl}>
              {config.apiBaseUrl}
            </p>
            <button
              type="button"
              onClick={signOut}
              className="mt-3 inline-flex items-center gap-1.5 rounded-md px-1.5 py-1 -ml-1.5 font-medium text-muted hover:bg-surface-2 hover:text-ink"
            >
              <LogOut aria-hidden className="size-3.5" />
              Change API key
            </button>
          </div>
        </div>
      </aside>
    </>
  );
}

function TopBar(props: { onMenu(): void }) {
  const { enabled, setEnabled, intervalMs } = useAutoRefresh();
  const { updatedAt, fetching } = useLastUpdated();
  const qc = useQueryClient();
  const switchId = useId();
  return (
    <header className="sticky top-0 z-20 flex h-14 items-center justify-between gap-3 border-b border-line bg-surface/85 px-4 backdrop-blur sm:px-6 lg:px-8">
      <div className="flex items-center gap-2 lg:invisible">
        <button
          type="button"
          onClick={props.onMenu}
          aria-label="Open menu"
          className="rounded-md p-1.5 text-muted hover:bg-surface-2 lg:hidden"
        >
          <Menu aria-hidden className="size-5" />
        </button>
        <span className="font-semibold tracking-tight lg:hidden">openbatch</span>
      </div>
      <div className="flex items-center gap-2 text-[13px] text-muted sm:gap-3">
        <span aria-live="polite" className="hidden sm:inline" data-testid="last-updated">
          {updatedAt > 0 ? `Updated ${formatTime(updatedAt)}` : 'Not loaded yet'}
        </span>
        <button
          type="button"
          onClick={() => void qc.invalidateQueries()}
          className="rounded-md p-1.5 hover:bg-surface-2 hover:text-ink"
          aria-label="Refresh now"
          title="Refresh now"
        >
          <RefreshCw aria-hidden className={clsx('size-4', fetching && 'animate-spin')} />
        </button>
        <ThemeToggle />
        <label htmlFor={switchId} className="flex cursor-pointer items-center gap-2 select-none">
          <span>Auto-refresh</span>
          <button
            id={switchId}
            type="button"
            role="switch"
            aria-checked={enabled}
            title={`Refresh every ${intervalMs / 1000}s while batches are active`}
            onClick={() => setEnabled(!enabled)}
            className={clsx(
              'relative inline-flex h-5 w-9 shrink-0 items-center rounded-full transition-colors',
              enabled ? 'bg-accent' : 'bg-line',
            )}
          >
            <span
              aria-hidden
              className={clsx(
                'inline-block size-4 rounded-full bg-white shadow transition-transform',
                enabled ? 'translate-x-4.5' : 'translate-x-0.5',
              )}
            />
          </button>
        </label>
      </div>
    </header>
  );
}
