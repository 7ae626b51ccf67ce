import {
  columnFilteringFeature,
  createColumnHelper,
  createFilteredRowModel,
  createPaginatedRowModel,
  type FilterFn,
  globalFilteringFeature,
  rowPaginationFeature,
  tableFeatures,
  useTable,
} from '@tanstack/react-table';
import { clsx } from 'clsx';
import { ChevronLeft, ChevronRight, RotateCcw, Search } from 'lucide-react';
import { type ReactNode, useMemo, useState } from 'react';
import { Badge } from '../../../components/ui/badge';
import { Button } from '../../../components/ui/button';
import { ErrorState } from '../../../components/ui/error-state';
import { JsonView } from '../../../components/ui/json-view';
import { ScrollArea } from '../../../components/ui/scroll-area';
import { Spinner } from '../../../components/ui/spinner';
import { Unavailable } from '../../../components/ui/unavailable';
import { formatNumber } from '../../../lib/format';
import { useFileHead } from '../api/file-content';
import { type RequestOutcome, toOutcome } from '../utils/result-lines';

/** How much of each result file the per-request view reads. */
export const REQUEST_VIEW_LIMIT = { lines: 2_000, bytes: 4 * 1024 * 1024 };

const features = tableFeatures({
  columnFilteringFeature,
  globalFilteringFeature,
  rowPaginationFeature,
  filteredRowModel: createFilteredRowModel(),
  paginatedRowModel: createPaginatedRowModel(),
});
type Outcome = 'all' | 'succeeded' | 'failed';
const byOutcome: FilterFn<typeof features, RequestOutcome> = (row, _id, value: Outcome) =>
  value === 'all' || (value === 'succeeded') === row.original.ok;
const helper = createColumnHelper<typeof features, RequestOutcome>();
const columns = helper.columns([
  helper.accessor('customId', {
    header: 'custom_id',
    cell: ({ getValue }) => <span className="font-mono text-xs text-ink">{getValue()}</span>,
  }),
  helper.accessor((r) => (r.ok ? 'succeeded' : 'failed'), {
    id: 'outcome',
    header: 'Status',
    filterFn: byOutcome,
    cell: ({ row }) => (
      <Badge tone={row.original.ok ? 'ok' : 'bad'}>
        {row.original.ok ? 'succeeded' : 'failed'}
        {row.original.statusCode ? ` · ${row.original.statusCode}` : ''}
      </Badge>
    ),
  }),
  helper.accessor('error', {
    header: 'Error',
    cell: ({ getValue }) => <span className="text-xs text-bad">{getValue() ?? ''}</span>,
  }),
  helper.display({
    id: 'retry',
    header: () => <span className="sr-only">Retry</span>,
    cell: ({ row }) =>
      row.original.ok ? null : (
        <Button
          size="sm"
          variant="ghost"
          disabled
          title="Retry needs a per-request retry API, which openbatch does not offer yet"
        >
          <RotateCcw aria-hidden className="size-3.5" />
          Retry
        </Button>
      ),
  }),
]);

/**
 * Requests and their outcomes, read from the batch's output and error files (the API has no
 * per-request endpoint yet): filter by outcome, search by custom_id, page through, and open a
 * request to see its full result line.
 */
export function RequestResults(props: { outputFileId: string | null; errorFileId: string | null }) {
  const out = useFileHead(props.outputFileId, REQUEST_VIEW_LIMIT.lines, REQUEST_VIEW_LIMIT.bytes);
  const err = useFileHead(props.errorFileId, REQUEST_VIEW_LIMIT.lines, REQUEST_VIEW_LIMIT.bytes);
  const [outcome, setOutcome] = useState<Outcome>('all');
  const [search, setSearch] = useState('');
  const [openRow, setOpenRow] = useState<string | null>(null);

  const data = useMemo(() => {
    const rows: RequestOutcome[] = [];
    for (const l of out.data?.lines ?? []) {
      const o = toOutcome(l.text, l.number, 'output');
      if (o) rows.push(o);
    }
    for (const l of err.data?.lines ?? []) {
      const o = toOutcome(l.text, l.number, 'error');
      if (o) rows.push(o);
    }
    return rows;
  }, [out.data, err.data]);

  const table = useTable({
    features,
    columns,
    data,
    getRowId: (r) => `${r.source}:${r.line}`,
    state: { columnFilters: [{ id: 'outcome', value: outcome }], globalFilter: search },
    onColumnFiltersChange: () => {},
    onGlobalFilterChange: (u) =>
      setSearch(typeof u === 'function' ? String(u(search) ?? '') : String(u ?? '')),
    globalFilterFn: (row, _c, value) =>
      row.original.customId.toLowerCase().includes(String(value).toLowerCase()),
    getColumnCanGlobalFilter: (c) => c.id === 'customId',
    initialState: { pagination: { pageIndex: 0, pageSize: 20 } },
  });

  if (out.isPending && props.outputFileId) return <Spinner label="Reading results…" />;
  if (out.isError) return <ErrorState error={out.error} title="Could not read the output file" />;
  if (err.isError) return <ErrorState error={err.error} title="Could not read the error file" />;

  const succeeded = data.filter((r) => r.ok).length;
  const failed = data.length - succeeded;
  const partial = Boolean(out.data?.more || err.data?.more);
  const filtered = table.getFilteredRowModel().rows.length;
  const { pageIndex } = table.state.pagination;

  return (
    <div>
      <div className="flex flex-wrap items-center gap-2 px-5 pb-3">
        <fieldset className="flex gap-1.5">
          <legend className="sr-only">Request status</legend>
          {(
            [
              ['all', 'All', data.length],
              ['succeeded', 'Succeeded', succeeded],
              ['failed', 'Failed', failed],
            ] as const
          ).map(([value, label, count]) => (
            <button
              key={value}
              type="button"
              aria-pressed={outcome === value}
              onClick={() => {
                setOutcome(value);
                table.setPageIndex(0);
              }}
              className={clsx(
                'inline-flex h-7 items-center gap-1.5 rounded-full border px-2.5 text-xs font-medium',
                outcome === value
                  ? 'border-accent bg-accent-soft text-accent'
                  : 'border-line text-muted hover:text-ink',
              )}
            >
              {label} <span className="tabular-nums">{formatNumber(count)}</span>
            </button>
          ))}
        </fieldset>
        <div className="relative ml-auto w-64 max-w-full">
          <Search aria-hidden className="pointer-events-none absolute top-2 left-2.5 size-4 text-muted" />
          <input
            type="search"
            aria-label="Search requests by custom_id"
            placeholder="Search custom_id…"
            value={search}
            onChange={(e) => table.setGlobalFilter(e.target.value)}
            className="h-8 w-full rounded-lg border border-line bg-surface pr-3 pl-8 text-[13px] text-ink"
          />
        </div>
      </div>
      <ScrollArea label="Requests" className="overflow-x-auto border-y border-line">
        <table className="w-full min-w-[640px] text-left text-[13px]">
          <thead className="bg-surface-2/60 text-xs text-muted">
            {table.getHeaderGroups().map((g) => (
              <tr key={g.id}>
                <th scope="col" className="w-8 pl-3">
                  <span className="sr-only">Details</span>
                </th>
                {g.headers.map((h) => (
                  <th key={h.id} scope="col" className="px-5 py-2 font-medium">
                    <table.FlexRender header={h} />
                  </th>
                ))}
              </tr>
            ))}
          </thead>
          <tbody className="divide-y divide-line">
            {table.getRowModel().rows.map((r) => (
              <RequestRow
                key={r.id}
                open={openRow === r.id}
                onToggle={() => setOpenRow((o) => (o === r.id ? null : r.id))}
                raw={r.original.raw}
                customId={r.original.customId}
                cells={r.getAllCells().map((c) => (
                  <td key={c.id} className="px-5 py-2">
                    <table.FlexRender cell={c} />
                  </td>
                ))}
              />
            ))}
          </tbody>
        </table>
        {filtered === 0 ? (
          <p className="px-5 py-6 text-center text-[13px] text-muted">No request matches.</p>
        ) : null}
      </ScrollArea>
      <div className="flex flex-wrap items-center justify-between gap-3 px-5 pt-3 text-xs text-muted">
        <span>
          {partial
            ? `Showing the first ${formatNumber(REQUEST_VIEW_LIMIT.lines)} lines of each result file.`
            : `All ${formatNumber(data.length)} results.`}
        </span>
        {table.getPageCount() > 1 ? (
          <div className="flex items-center gap-2">
            <Button size="sm" onClick={() => table.previousPage()} disabled={!table.getCanPreviousPage()}>
              <ChevronLeft aria-hidden className="size-4" />
              <span className="sr-only">Previous requests</span>
            </Button>
            <span className="tabular-nums">
              Page {pageIndex + 1} of {table.getPageCount()}
            </span>
            <Button size="sm" onClick={() => table.nextPage()} disabled={!table.getCanNextPage()}>
              <ChevronRight aria-hidden className="size-4" />
              <span className="sr-only">Next requests</span>
            </Button>
          </div>
        ) : null}
      </div>
      {failed > 0 ? (
        <div className="px-5 pt-3">
          <Unavailable title="Retry failed requests" compact>
            Retrying single requests needs a per-request retry API, which openbatch does not offer yet. To run
            them again, clone the batch with a file of the failed lines.
          </Unavailable>
        </div>
      ) : null}
    </div>
  );
}

function RequestRow(props: {
  open: boolean;
  onToggle(): void;
  raw: string;
  customId: string;
  cells: ReactNode[];
}) {
  return (
    <>
      <tr className="cursor-pointer hover:bg-surface-2/60" onClick={props.onToggle}>
        <td className="w-8 py-2 pl-3">
          <button
            type="button"
            aria-expanded={props.open}
            aria-label={`${props.open ? 'Hide' : 'Show'} the result line of ${props.customId}`}
            onClick={(e) => {
              e.stopPropagation();
              props.onToggle();
            }}
            className="rounded p-1 text-muted hover:bg-surface-2 hover:text-ink"
          >
            <ChevronRight
              aria-hidden
              className={clsx('size-3.5 transition-transform', props.open && 'rotate-90')}
            />
          </button>
        </td>
        {props.cells}
      </tr>
      {props.open ? (
        <tr>
          <td colSpan={5} className="bg-surface-2/40 px-5 py-3">
            <JsonView text={props.raw} pretty />
          </td>
        </tr>
      ) : null}
    </>
  );
}
