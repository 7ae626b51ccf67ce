import {
  type ColumnFiltersState,
  columnFacetingFeature,
  columnFilteringFeature,
  createColumnHelper,
  createFacetedRowModel,
  createFacetedUniqueValues,
  createFilteredRowModel,
  createPaginatedRowModel,
  createSortedRowModel,
  type FilterFn,
  functionalUpdate,
  globalFilteringFeature,
  rowPaginationFeature,
  rowSortingFeature,
  type SortingState,
  sortFn_alphanumeric,
  sortFn_basic,
  tableFeatures,
  useTable,
} from '@tanstack/react-table';
import { clsx } from 'clsx';
import { ArrowDown, ArrowUp, ArrowUpDown, ChevronLeft, ChevronRight, Search, X } from 'lucide-react';
import { useMemo } from 'react';
import { Link, useNavigate, useSearchParams } from 'react-router';
import { Badge } from '../../../components/ui/badge';
import { Button } from '../../../components/ui/button';
import { RequestProgress } from '../../../components/ui/progress-bar';
import { ScrollArea } from '../../../components/ui/scroll-area';
import { SlaBadge, StatusBadge } from '../../../components/ui/status-badge';
import { BATCH_STATUSES, isCancellable, statusLabel } from '../../../lib/batch-status';
import { formatDateTime, formatNumber, formatRelative, formatTokens, formatUsd } from '../../../lib/format';
import type { Batch, Priority } from '../../../types/api';
import {
  createdWithin,
  DATE_RANGES,
  type DateRange,
  matchesSearch,
  type PoolUse,
  poolUse,
  progressRatio,
} from '../utils/batch-fields';
import { CancelBatchButton } from './cancel-batch-button';

const features = tableFeatures({
  rowSortingFeature,
  columnFilteringFeature,
  globalFilteringFeature,
  columnFacetingFeature,
  rowPaginationFeature,
  filteredRowModel: createFilteredRowModel(),
  facetedRowModel: createFacetedRowModel(),
  facetedUniqueValues: createFacetedUniqueValues(),
  sortedRowModel: createSortedRowModel(),
  paginatedRowModel: createPaginatedRowModel(),
  sortFns: { alphanumeric: sortFn_alphanumeric, basic: sortFn_basic },
});

const equals: FilterFn<typeof features, Batch> = (row, columnId, value) =>
  value === undefined || row.getValue(columnId) === value;

const helper = createColumnHelper<typeof features, Batch>();

function columnsFor(nowMs: number) {
  const within: FilterFn<typeof features, Batch> = (row, _id, value) =>
    createdWithin(row.original, value as DateRange, nowMs);
  return helper.columns([
    helper.accessor('id', {
      header: 'Batch',
      sortFn: 'alphanumeric',
      cell: ({ row }) => {
        const b = row.original;
        const meta = Object.entries(b.metadata ?? {});
        return (
          <div className="min-w-0">
            <Link
              to={`/batches/${b.id}`}
              className="font-mono text-[13px] font-medium text-ink hover:text-accent hover:underline"
              onClick={(e) => e.stopPropagation()}
            >
              {b.id}
            </Link>
            {meta.length > 0 ? (
              <div className="mt-1 flex flex-wrap gap-1">
                {meta.slice(0, 3).map(([k, v]) => (
                  <span key={k} className="rounded bg-surface-2 px-1.5 py-0.5 text-[11px] text-muted">
                    {k}: <span className="text-ink">{v}</span>
                  </span>
                ))}
                {meta.length > 3 ? <span className="text-[11px] text-muted">+{meta.length - 3}</span> : null}
              </div>
            ) : null}
          </div>
        );
      },
    }),
    helper.accessor('status', {
      header: 'Status',
      filterFn: equals,
      sortFn: 'alphanumeric',
      cell: ({ getValue }) => <StatusBadge status={getValue()} />,
    }),
    helper.accessor('endpoint', {
      header: 'Endpoint',
      filterFn: equals,
      sortFn: 'alphanumeric',
      cell: ({ row }) => (
        <div>
          <span className="font-mono text-xs text-ink">{row.original.endpoint}</span>
          {row.original.model ? <div className="mt-0.5 text-xs text-muted">{row.original.model}</div> : null}
        </div>
      ),
    }),
    helper.accessor((b) => progressRatio(b), {
      id: 'progress',
      header: 'Progress',
      sortFn: 'basic',
      cell: ({ row }) => {
        const c = row.original.request_counts;
        return (
          <div className="w-36">
            <RequestProgress total={c.total} completed={c.completed} failed={c.failed} />
            <div className="mt-1 text-xs text-muted tabular-nums">
              {formatNumber(c.completed + c.failed)} / {formatNumber(c.total)}
              {c.failed > 0 ? <span className="ml-1.5 text-bad">{formatNumber(c.failed)} failed</span> : null}
            </div>
            {row.original.openbatch?.reused ? (
              <div className="mt-0.5 text-xs text-muted tabular-nums" data-testid="batch-reused">
                {formatNumber(row.original.openbatch.reused)} reused
              </div>
            ) : null}
          </div>
        );
      },
    }),
    helper.accessor((b) => poolUse(b), {
      id: 'pool',
      header: 'Pool',
      filterFn: equals,
      sortFn: 'alphanumeric',
      cell: ({ getValue, row }) => <PoolCell use={getValue()} priority={row.original.openbatch?.priority} />,
    }),
    helper.accessor((b) => b.usage?.total_tokens ?? -1, {
      id: 'usage',
      header: 'Tokens',
      sortFn: 'basic',
      sortDescFirst: true,
      cell: ({ row }) => <UsageCell batch={row.original} />,
    }),
    helper.accessor((b) => b.openbatch?.sla?.state ?? 'none', {
      id: 'sla',
      header: 'SLA',
      sortFn: 'alphanumeric',
      cell: ({ row }) => <SlaBadge state={row.original.openbatch?.sla?.state} />,
    }),
    helper.accessor('created_at', {
      header: 'Created',
      filterFn: within,
      sortFn: 'basic',
      sortDescFirst: true,
      cell: ({ getValue }) => (
        <span title={formatDateTime(getValue())} className="text-[13px] whitespace-nowrap text-muted">
          {formatRelative(getValue(), nowMs)}
        </span>
      ),
    }),
    helper.display({
      id: 'actions',
      header: () => <span className="sr-only">Actions</span>,
      cell: ({ row }) =>
        isCancellable(row.original) ? <CancelBatchButton batch={row.original} size="sm" compact /> : null,
    }),
  ]);
}

/**
 * Tokens used (OpenAI's `usage`) and the estimated cost (`openbatch.cost`), each only where the
 * API reports it; the cost is marked an estimate.
 */
function UsageCell({ batch: b }: { batch: Batch }) {
  const usage = b.usage;
  const cost = b.openbatch?.cost;
  if (!usage && !cost) return <span className="text-xs text-muted">—</span>;
  return (
    <div className="text-[13px] whitespace-nowrap tabular-nums" data-testid="batch-usage">
      {usage ? (
        <div className="text-ink" title={`${formatNumber(usage.total_tokens)} tokens`}>
          {formatTokens(usage.total_tokens)} tokens
        </div>
      ) : null}
      {cost ? (
        <div className="text-xs text-muted" title="Estimated GPU cost, from the deployment's prices">
          {formatUsd(cost.total)} <span className="italic">est.</span>
        </div>
      ) : null}
    </div>
  );
}

/** Pools used, and the priority when it is not the default (the API's priorities, whatever they are). */
function PoolCell({ use, priority }: { use: PoolUse; priority: Priority | undefined }) {
  return (
    <div className="flex flex-wrap items-center gap-1">
      {use === 'not started' ? (
        <span className="text-xs text-muted">—</span>
      ) : (
        use.split(' + ').map((p) => (
          <Badge key={p} tone={p === 'spot' ? 'spot' : 'dedicated'}>
            {p}
          </Badge>
        ))
      )}
      {priority && priority !== 'normal' ? (
        <Badge tone={priority === 'high' ? 'accent' : 'idle'}>{priority}</Badge>
      ) : null}
    </div>
  );
}

const FILTER_PARAMS = ['status', 'pool', 'endpoint', 'created'] as const;
const COLUMN_OF: Record<(typeof FILTER_PARAMS)[number], string> = {
  status: 'status',
  pool: 'pool',
  endpoint: 'endpoint',
  created: 'created_at',
};

/**
 * The batches the portal has loaded, with filters, search, sorting, counts per filter value
 * and paging, all done in the browser over the loaded pages (the API has no server-side
 * filtering yet). Filter state lives in the URL, so a filtered view can be shared.
 */
export function BatchesTable(props: { batches: Batch[]; nowMs: number }) {
  const [params, setParams] = useSearchParams();
  const navigate = useNavigate();
  const columns = useMemo(() => columnsFor(props.nowMs), [props.nowMs]);

  const columnFilters = useMemo<ColumnFiltersState>(
    () =>
      FILTER_PARAMS.flatMap((p) => {
        const v = params.get(p);
        return v ? [{ id: COLUMN_OF[p], value: v }] : [];
      }),
    [params],
  );
  const globalFilter = params.get('q') ?? '';
  const sorting = useMemo<SortingState>(() => {
    const s = params.get('sort');
    if (!s) return [{ id: 'created_at', desc: true }];
    const [id = 'created_at', dir] = s.split('.');
    return [{ id, desc: dir !== 'asc' }];
  }, [params]);

  const update = (changes: Record<string, string | null>) =>
    setParams(
      (prev) => {
        const next = new URLSearchParams(prev);
        for (const [k, v] of Object.entries(changes)) {
          if (v === null || v === '') next.delete(k);
          else next.set(k, v);
        }
        return next;
      },
      { replace: true },
    );

  const table = useTable({
    features,
    columns,
    data: props.batches,
    getRowId: (b) => b.id,
    state: { columnFilters, globalFilter, sorting },
    onColumnFiltersChange: (u) => {
      const next = functionalUpdate(u, columnFilters);
      const changes: Record<string, string | null> = {};
      for (const p of FILTER_PARAMS) {
        const f = next.find((c) => c.id === COLUMN_OF[p]);
        changes[p] = f ? String(f.value) : null;
      }
      update(changes);
    },
    onGlobalFilterChange: (u) => update({ q: String(functionalUpdate(u, globalFilter) ?? '') }),
    onSortingChange: (u) => {
      const next = functionalUpdate(u, sorting)[0];
      update({ sort: next ? `${next.id}.${next.desc ? 'desc' : 'asc'}` : null });
    },
    globalFilterFn: (row, _columnId, value) => matchesSearch(row.original, String(value ?? '')),
    getColumnCanGlobalFilter: (column) => column.id === 'id',
    enableSortingRemoval: false,
    initialState: { pagination: { pageIndex: 0, pageSize: 25 } },
  });

  const facet = (id: string) => table.getColumn(id)?.getFacetedUniqueValues() ?? new Map<unknown, number>();
  const statusCounts = facet('status');
  const filtered = table.getFilteredRowModel().rows.length;
  const activeFilters = columnFilters.length + (globalFilter ? 1 : 0);
  const { pageIndex, pageSize } = table.state.pagination;
  const rows = table.getRowModel().rows;

  return (
    <div>
      <div className="space-y-3 border-b border-line px-4 py-3">
        <div className="flex flex-wrap items-center gap-2">
          <div className="relative min-w-56 flex-1">
            <Search aria-hidden className="pointer-events-none absolute top-2.5 left-2.5 size-4 text-muted" />
            <input
              type="search"
              aria-label="Search batches by id, model, metadata or tag"
              placeholder="Search id, model, metadata (key:value)…"
              value={globalFilter}
              onChange={(e) => table.setGlobalFilter(e.target.value)}
              className="h-9 w-full rounded-lg border border-line bg-surface pr-3 pl-8 text-sm text-ink placeholder:text-muted/80 focus:border-accent focus:outline-none"
            />
          </div>
          <FacetSelect
            label="Pool"
            value={params.get('pool')}
            counts={facet('pool')}
            options={['spot', 'dedicated', 'spot + dedicated', 'not started']}
            onChange={(v) => table.getColumn('pool')?.setFilterValue(v ?? undefined)}
          />
          <FacetSelect
            label="Endpoint"
            value={params.get('endpoint')}
            counts={facet('endpoint')}
            options={[...new Set(props.batches.map((b) => b.endpoint))].sort()}
            onChange={(v) => table.getColumn('endpoint')?.setFilterValue(v ?? undefined)}
          />
          <select
            aria-label="Created"
            value={params.get('created') ?? ''}
            onChange={(e) => table.getColumn('created_at')?.setFilterValue(e.target.value || undefined)}
            className="h-9 rounded-lg border border-line bg-surface px-2.5 text-sm text-ink"
          >
            <option value="">Any time</option>
            {DATE_RANGES.map((r) => (
              <option key={r.value} value={r.value}>
                {r.label} ({props.batches.filter((b) => createdWithin(b, r.value, props.nowMs)).length})
              </option>
            ))}
          </select>
          {activeFilters > 0 ? (
            <Button
              size="sm"
              variant="ghost"
              onClick={() => update({ q: null, status: null, pool: null, endpoint: null, created: null })}
            >
              <X aria-hidden className="size-3.5" />
              Clear filters
            </Button>
          ) : null}
        </div>
        <fieldset className="flex flex-wrap items-center gap-1.5">
          <legend className="sr-only">Status</legend>
          <StatusChip
            label="All"
            count={[...statusCounts.values()].reduce((a, b) => a + b, 0)}
            active={!params.get('status')}
            onClick={() => table.getColumn('status')?.setFilterValue(undefined)}
          />
          {BATCH_STATUSES.map((s) => (
            <StatusChip
              key={s}
              label={statusLabel(s)}
              count={statusCounts.get(s) ?? 0}
              active={params.get('status') === s}
              onClick={() =>
                table.getColumn('status')?.setFilterValue(params.get('status') === s ? undefined : s)
              }
            />
          ))}
        </fieldset>
      </div>

      <ScrollArea label="Batches" className="overflow-x-auto">
        <table className="w-full min-w-[960px] text-left text-sm">
          <thead className="border-b border-line bg-surface-2/60 text-xs font-medium text-muted">
            {table.getHeaderGroups().map((group) => (
              <tr key={group.id}>
                {group.headers.map((header) => {
                  const sorted = header.column.getIsSorted();
                  const canSort = header.column.getCanSort() && header.column.id !== 'actions';
                  return (
                    <th
                      key={header.id}
                      scope="col"
                      aria-sort={sorted ? (sorted === 'asc' ? 'ascending' : 'descending') : undefined}
                      className="px-3 py-2.5 font-medium whitespace-nowrap first:pl-4"
                    >
                      {canSort ? (
                        <button
                          type="button"
                          onClick={header.column.getToggleSortingHandler()}
                          className="-mx-1 inline-flex items-center gap-1 rounded px-1 hover:text-ink"
                        >
                          <table.FlexRender header={header} />
                          {sorted === 'asc' ? (
                            <ArrowUp aria-hidden className="size-3.5" />
                          ) : sorted === 'desc' ? (
                            <ArrowDown aria-hidden className="size-3.5" />
                          ) : (
                            <ArrowUpDown aria-hidden className="size-3.5 opacity-40" />
                          )}
                        </button>
                      ) : (
                        <table.FlexRender header={header} />
                      )}
                    </th>
                  );
                })}
              </tr>
            ))}
          </thead>
          <tbody className="divide-y divide-line">
            {rows.map((row) => (
              <tr
                key={row.id}
                data-testid="batch-row"
                onClick={() => navigate(`/batches/${row.original.id}`)}
                className="cursor-pointer align-top transition-colors hover:bg-surface-2/60"
              >
                {row.getAllCells().map((cell) => (
                  <td key={cell.id} className="px-3 py-3 first:pl-4">
                    <table.FlexRender cell={cell} />
                  </td>
                ))}
              </tr>
            ))}
          </tbody>
        </table>
        {rows.length === 0 ? (
          <p className="px-4 py-10 text-center text-sm text-muted">No loaded batch matches these filters.</p>
        ) : null}
      </ScrollArea>

      <div className="flex flex-wrap items-center justify-between gap-3 border-t border-line px-4 py-3 text-[13px] text-muted">
        <span aria-live="polite">
          {filtered === 0
            ? 'No matches'
            : `${formatNumber(pageIndex * pageSize + 1)}–${formatNumber(Math.min(filtered, (pageIndex + 1) * pageSize))} of ${formatNumber(filtered)}`}
          {activeFilters > 0 ? ` (filtered from ${formatNumber(props.batches.length)} loaded)` : ''}
        </span>
        <div className="flex items-center gap-2">
          <select
            aria-label="Rows per page"
            value={pageSize}
            onChange={(e) => table.setPageSize(Number(e.target.value))}
            className="h-8 rounded-md border border-line bg-surface px-2 text-[13px] text-ink"
          >
            {[10, 25, 50, 100].map((n) => (
              <option key={n} value={n}>
                {n} / page
              </option>
            ))}
          </select>
          <Button size="sm" onClick={() => table.previousPage()} disabled={!table.getCanPreviousPage()}>
            <ChevronLeft aria-hidden className="size-4" />
            <span className="sr-only sm:not-sr-only">Previous</span>
          </Button>
          <span className="tabular-nums">
            Page {pageIndex + 1} of {Math.max(1, table.getPageCount())}
          </span>
          <Button size="sm" onClick={() => table.nextPage()} disabled={!table.getCanNextPage()}>
            <span className="sr-only sm:not-sr-only">Next</span>
            <ChevronRight aria-hidden className="size-4" />
          </Button>
        </div>
      </div>
    </div>
  );
}

function StatusChip(props: { label: string; count: number; active: boolean; onClick(): void }) {
  return (
    <button
      type="button"
      aria-pressed={props.active}
      onClick={props.onClick}
      className={clsx(
        'inline-flex h-7 items-center gap-1.5 rounded-full border px-2.5 text-xs font-medium transition-colors',
        props.active
          ? 'border-accent bg-accent-soft text-accent'
          : 'border-line bg-surface text-muted hover:border-muted/40 hover:text-ink',
      )}
    >
      {props.label}
      <span className={clsx('tabular-nums', props.active ? 'text-accent' : 'text-muted/80')}>
        {props.count}
      </span>
    </button>
  );
}

function FacetSelect(props: {
  label: string;
  value: string | null;
  options: string[];
  counts: Map<unknown, number>;
  onChange(value: string | null): void;
}) {
  return (
    <select
      aria-label={props.label}
      value={props.value ?? ''}
      onChange={(e) => props.onChange(e.target.value || null)}
      className="h-9 rounded-lg border border-line bg-surface px-2.5 text-sm text-ink"
    >
      <option value="">Any {props.label.toLowerCase()}</option>
      {props.options.map((o) => (
        <option key={o} value={o}>
          {o} ({props.counts.get(o) ?? 0})
        </option>
      ))}
    </select>
  );
}
