import {
  createColumnHelper,
  createPaginatedRowModel,
  createSortedRowModel,
  rowPaginationFeature,
  rowSortingFeature,
  sortFn_basic,
  tableFeatures,
  useTable,
} from '@tanstack/react-table';
import { clsx } from 'clsx';
import { ChevronLeft, ChevronRight, Zap } from 'lucide-react';
import { Badge } from '../../../components/ui/badge';
import { Button } from '../../../components/ui/button';
import { PoolSplit } from '../../../components/ui/pool-split';
import { ScrollArea } from '../../../components/ui/scroll-area';
import { Unavailable } from '../../../components/ui/unavailable';
import { formatNumber } from '../../../lib/format';
import type { Batch, ChunkView } from '../../../types/api';

const features = tableFeatures({
  rowSortingFeature,
  rowPaginationFeature,
  sortedRowModel: createSortedRowModel(),
  paginatedRowModel: createPaginatedRowModel(),
  sortFns: { basic: sortFn_basic },
});
const helper = createColumnHelper<typeof features, ChunkView>();
const columns = helper.columns([
  helper.accessor('chunk', {
    header: 'Chunk',
    cell: ({ getValue }) => <span className="font-mono">#{getValue()}</span>,
  }),
  helper.accessor('line_start', {
    header: 'Lines',
    cell: ({ row }) => (
      <span className="font-mono text-xs tabular-nums">
        {row.original.line_start}–{row.original.line_end}
      </span>
    ),
  }),
  helper.accessor('status', {
    header: 'Status',
    cell: ({ getValue }) => (
      <Badge tone={getValue() === 'done' ? 'ok' : 'info'}>{getValue() === 'done' ? 'done' : 'pending'}</Badge>
    ),
  }),
  helper.accessor('requests', { header: 'Requests', cell: ({ getValue }) => formatNumber(getValue()) }),
  helper.accessor('completed', {
    header: 'Succeeded',
    cell: ({ getValue }) => <span className="text-ok">{formatNumber(getValue())}</span>,
  }),
  helper.accessor('failed', {
    header: 'Failed',
    cell: ({ getValue }) => (
      <span className={getValue() > 0 ? 'text-bad' : 'text-muted'}>{formatNumber(getValue())}</span>
    ),
  }),
  helper.accessor((c) => c.pool ?? '', {
    id: 'pool',
    header: 'Pool',
    cell: ({ row }) =>
      row.original.pool ? (
        <Badge tone={row.original.pool}>{row.original.pool}</Badge>
      ) : (
        <span className="text-muted">—</span>
      ),
  }),
  helper.accessor('escalated', {
    header: 'Escalated',
    cell: ({ getValue }) =>
      getValue() ? (
        <Badge tone="warn">
          <Zap aria-hidden className="size-3" />
          yes
        </Badge>
      ) : (
        <span className="text-muted">no</span>
      ),
  }),
  helper.accessor('interruptions', {
    header: 'Interruptions',
    cell: ({ getValue }) => (
      <span className={getValue() > 0 ? 'font-medium text-warn' : 'text-muted'}>{getValue()}</span>
    ),
  }),
]);

/** Chunks and pools: where the batch's work ran, escalations and interruptions. */
export function BatchChunks(props: {
  batch: Batch;
  chunks: ChunkView[] | null | undefined;
  loading: boolean;
}) {
  const ext = props.batch.openbatch;
  const data = props.chunks ?? EMPTY;
  const table = useTable({
    features,
    columns,
    data,
    getRowId: (c) => String(c.chunk),
    initialState: { pagination: { pageIndex: 0, pageSize: 20 }, sorting: [{ id: 'chunk', desc: false }] },
  });
  if (!ext) {
    return (
      <Unavailable title="Chunks and pools">
        This API does not report the openbatch extension fields (chunks, pools, SLA) for batches.
      </Unavailable>
    );
  }
  const { pageIndex } = table.state.pagination;
  return (
    <div className="space-y-5">
      <dl className="grid grid-cols-2 gap-3 sm:grid-cols-4">
        <Fact
          label="Chunks done"
          value={`${formatNumber(ext.chunks.done)} / ${formatNumber(ext.chunks.total)}`}
        />
        <Fact
          label="Escalated to dedicated"
          value={formatNumber(ext.chunks.escalated)}
          warn={ext.chunks.escalated > 0}
        />
        <Fact
          label="Interruptions"
          value={formatNumber(ext.chunks.interruptions)}
          warn={ext.chunks.interruptions > 0}
        />
        <Fact label="Priority" value={ext.priority} />
      </dl>
      <div>
        <p className="mb-2 text-xs font-medium text-muted">Requests completed per pool</p>
        <PoolSplit spot={ext.pools.spot} dedicated={ext.pools.dedicated} />
      </div>
      {props.chunks === null ? (
        <Unavailable title="Per-chunk view" compact>
          This API does not offer GET /v1/openbatch/batches/{'{id}'}/chunks.
        </Unavailable>
      ) : data.length === 0 ? (
        <p className="text-[13px] text-muted">
          {props.loading
            ? 'Loading chunks…'
            : 'No chunks yet: the input is cut into chunks once it is validated.'}
        </p>
      ) : (
        <>
          <div>
            <p className="mb-2 text-xs font-medium text-muted">Chunk map</p>
            <ul className="flex flex-wrap gap-1" aria-label="Chunk map">
              {data.slice(0, 500).map((c) => (
                <li
                  key={c.chunk}
                  title={`Chunk #${c.chunk}, lines ${c.line_start}–${c.line_end}: ${c.status}${c.pool ? ` on ${c.pool}` : ''}${c.escalated ? ', escalated' : ''}${c.interruptions ? `, ${c.interruptions} interruption(s)` : ''}`}
                  className={clsx(
                    'size-3.5 rounded-[3px]',
                    c.status !== 'done'
                      ? 'bg-surface-2 ring-1 ring-line ring-inset'
                      : c.pool === 'dedicated'
                        ? 'bg-dedicated'
                        : 'bg-spot',
                    c.interruptions > 0 && 'outline-2 outline-offset-1 outline-warn',
                  )}
                />
              ))}
            </ul>
            {data.length > 500 ? (
              <p className="mt-1 text-xs text-muted">
                First 500 of {formatNumber(data.length)} chunks shown.
              </p>
            ) : null}
          </div>
          <ScrollArea label="Chunks" className="overflow-x-auto rounded-lg border border-line">
            <table className="w-full min-w-[720px] text-left text-[13px]">
              <thead className="border-b border-line bg-surface-2/60 text-xs text-muted">
                {table.getHeaderGroups().map((g) => (
                  <tr key={g.id}>
                    {g.headers.map((h) => (
                      <th key={h.id} scope="col" className="px-3 py-2 font-medium">
                        <table.FlexRender header={h} />
                      </th>
                    ))}
                  </tr>
                ))}
              </thead>
              <tbody className="divide-y divide-line">
                {table.getRowModel().rows.map((r) => (
                  <tr key={r.id} data-testid="chunk-row">
                    {r.getAllCells().map((c) => (
                      <td key={c.id} className="px-3 py-2 text-ink">
                        <table.FlexRender cell={c} />
                      </td>
                    ))}
                  </tr>
                ))}
              </tbody>
            </table>
          </ScrollArea>
          {table.getPageCount() > 1 ? (
            <div className="flex items-center justify-end gap-2 text-[13px] text-muted">
              <Button size="sm" onClick={() => table.previousPage()} disabled={!table.getCanPreviousPage()}>
                <ChevronLeft aria-hidden className="size-4" />
                <span className="sr-only">Previous chunks</span>
              </Button>
              <span className="tabular-nums">
                Page {pageIndex + 1} of {table.getPageCount()}
              </span>
              <Button size="sm" onClick={() => table.nextPage()} disabled={!table.getCanNextPage()}>
                <ChevronRight aria-hidden className="size-4" />
                <span className="sr-only">Next chunks</span>
              </Button>
            </div>
          ) : null}
        </>
      )}
    </div>
  );
}

const EMPTY: ChunkView[] = [];

function Fact(props: { label: string; value: string; warn?: boolean }) {
  return (
    <div className="rounded-lg bg-surface-2/60 px-3 py-2">
      <dt className="text-xs text-muted">{props.label}</dt>
      <dd
        className={clsx('mt-0.5 text-base font-semibold tabular-nums', props.warn ? 'text-warn' : 'text-ink')}
      >
        {props.value}
      </dd>
    </div>
  );
}
