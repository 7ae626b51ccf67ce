import { clsx } from 'clsx';
import { ChevronsDown, Recycle, Search } from 'lucide-react';
import { useId, useState } from 'react';
import { Badge } from '../../../components/ui/badge';
import { Button } from '../../../components/ui/button';
import { ScrollArea } from '../../../components/ui/scroll-area';
import { formatNumber } from '../../../lib/format';
import type { BatchRequest } from '../types';
import {
  countRequestsByStatus,
  filterRequests,
  isRetryable,
  REQUEST_STATUSES,
  type StatusFilter,
} from '../utils/request-filters';
import { RequestStatusBadge } from './request-status-badge';

/**
 * A batch's requests in input-line order (the per-request API's rows, loaded a page at a time):
 * status filter chips whose counts follow the search, a custom_id / error-code search, a dedup
 * badge, and a button per row that opens the request. With `selection`, failed and expired rows
 * can be chosen for a retry of just those.
 */
export function RequestTable(props: {
  requests: readonly BatchRequest[];
  /** More pages exist on the server. */
  hasMore: boolean;
  loadingMore?: boolean;
  onLoadMore?(): void;
  onOpen(customId: string): void;
  selection?: { selected: ReadonlySet<string>; onChange(next: Set<string>): void };
}) {
  const [status, setStatus] = useState<StatusFilter>('all');
  const [search, setSearch] = useState('');
  const searchId = useId();
  const counts = countRequestsByStatus(props.requests, search);
  const rows = filterRequests(props.requests, { status, search });
  const sel = props.selection;
  const toggle = (id: string, on: boolean) => {
    if (!sel) return;
    const next = new Set(sel.selected);
    if (on) next.add(id);
    else next.delete(id);
    sel.onChange(next);
  };

  return (
    <div>
      <div className="flex flex-wrap items-center gap-2 px-5 pb-3">
        <fieldset className="flex flex-wrap gap-1.5">
          <legend className="sr-only">Request status</legend>
          {(['all', ...REQUEST_STATUSES] as const).map((s) =>
            s === 'all' || counts[s] > 0 || status === s ? (
              <button
                key={s}
                type="button"
                aria-pressed={status === s}
                onClick={() => setStatus(status === s && s !== 'all' ? 'all' : s)}
                className={clsx(
                  'rounded-full border px-2.5 py-1 text-xs font-medium',
                  status === s
                    ? 'border-accent bg-accent-soft text-accent'
                    : 'border-line text-muted hover:text-ink',
                )}
              >
                {s === 'all' ? 'All' : s[0]?.toUpperCase() + s.slice(1)}{' '}
                <span className="tabular-nums">{formatNumber(counts[s])}</span>
              </button>
            ) : null,
          )}
        </fieldset>
        <div className="relative ml-auto w-64 max-w-full">
          <label htmlFor={searchId} className="sr-only">
            Search requests by custom_id or error code
          </label>
          <Search aria-hidden className="pointer-events-none absolute top-2 left-2.5 size-4 text-muted" />
          <input
            id={searchId}
            type="search"
            placeholder="Search custom_id or error…"
            value={search}
            onChange={(e) => setSearch(e.target.value)}
            className="h-8 w-full rounded-lg border border-line bg-surface pr-3 pl-8 text-[13px] text-ink"
          />
        </div>
      </div>
      <ScrollArea label="Requests" className="overflow-x-auto border-y border-line">
        <table className="w-full min-w-[760px] text-left text-[13px]">
          <thead className="bg-surface-2/60 text-xs text-muted">
            <tr>
              {sel ? (
                <th scope="col" className="w-8 pl-4">
                  <span className="sr-only">Choose for retry</span>
                </th>
              ) : null}
              <th scope="col" className="px-3 py-2 font-medium">
                Line
              </th>
              <th scope="col" className="px-3 py-2 font-medium">
                custom_id
              </th>
              <th scope="col" className="px-3 py-2 font-medium">
                Status
              </th>
              <th scope="col" className="px-3 py-2 font-medium">
                Pool
              </th>
              <th scope="col" className="px-3 py-2 font-medium">
                Attempts
              </th>
              <th scope="col" className="px-3 py-2 font-medium">
                HTTP
              </th>
              <th scope="col" className="px-3 py-2 font-medium">
                Error
              </th>
              <th scope="col" className="px-3 py-2">
                <span className="sr-only">Open</span>
              </th>
            </tr>
          </thead>
          <tbody className="divide-y divide-line">
            {rows.map((r) => (
              <tr key={r.custom_id} data-testid="request-row">
                {sel ? (
                  <td className="pl-4">
                    {isRetryable(r) ? (
                      <input
                        type="checkbox"
                        aria-label={`Choose ${r.custom_id} for retry`}
                        checked={sel.selected.has(r.custom_id)}
                        onChange={(e) => toggle(r.custom_id, e.target.checked)}
                        className="size-4 accent-[var(--accent)]"
                      />
                    ) : null}
                  </td>
                ) : null}
                <td className="px-3 py-2 font-mono text-xs text-muted tabular-nums">{r.line}</td>
                <td className="px-3 py-2 font-mono text-xs text-ink">
                  <span className="inline-flex items-center gap-1.5">
                    {r.custom_id}
                    {r.reused ? (
                      <Badge
                        tone="accent"
                        title="Answered from an earlier identical request, without running"
                      >
                        <Recycle aria-hidden className="size-3" />
                        reused
                      </Badge>
                    ) : null}
                  </span>
                </td>
                <td className="px-3 py-2">
                  <RequestStatusBadge status={r.status} />
                </td>
                <td className="px-3 py-2">
                  {r.pool ? <Badge tone={r.pool}>{r.pool}</Badge> : <span className="text-muted">—</span>}
                </td>
                <td className="px-3 py-2 tabular-nums text-ink">{r.attempts}</td>
                <td className="px-3 py-2 tabular-nums text-ink">{r.http_status ?? '—'}</td>
                <td className="px-3 py-2 font-mono text-xs text-bad">{r.error_code ?? ''}</td>
                <td className="px-3 py-2 text-right">
                  <Button size="sm" variant="ghost" onClick={() => props.onOpen(r.custom_id)}>
                    Open<span className="sr-only"> {r.custom_id}</span>
                  </Button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
        {rows.length === 0 ? (
          <p className="px-5 py-6 text-center text-[13px] text-muted">No request matches.</p>
        ) : null}
      </ScrollArea>
      <div className="flex flex-wrap items-center justify-between gap-3 px-5 pt-3 text-xs text-muted">
        <span aria-live="polite">
          {formatNumber(rows.length)} of {formatNumber(props.requests.length)} requests loaded
          {props.hasMore ? '; counts cover the loaded requests' : ''}
        </span>
        {props.hasMore && props.onLoadMore ? (
          <Button size="sm" onClick={props.onLoadMore} disabled={props.loadingMore}>
            <ChevronsDown aria-hidden className="size-4" />
            {props.loadingMore ? 'Loading…' : 'Load more requests'}
          </Button>
        ) : null}
      </div>
    </div>
  );
}
