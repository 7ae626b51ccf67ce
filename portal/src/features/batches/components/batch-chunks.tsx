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
import {
  Ban,
  ChevronLeft,
  ChevronRight,
  CircleCheck,
  CircleDashed,
  type LucideIcon,
  Zap,
} from 'lucide-react';
import { useMemo } from 'react';
import { Badge, type Tone } from '../../../components/ui/badge';
import { Button } from '../../../components/ui/button';
import { PoolSplit } from '../../../components/ui/pool-split';
import { ScrollArea } from '../../../components/ui/scroll-area';
import { Unavailable } from '../../../components/ui/unavailable';
import { formatNumber } from '../../../lib/format';
import type { Batch, ChunkView } from '../../../types/api';
import { type ChunkState, chunkFacts, chunkState, poolOutcomes } from '../utils/progress';

const features = tableFeatures({
  rowSortingFeature,
  rowPaginationFeature,
  sortedRowModel: createSortedRowModel(),
  paginatedRowModel: createPaginatedRowModel(),
  sortFns: { basic: sortFn_basic },
});
const helper = createColumnHelper<typeof features, ChunkView>();
/** The columns; a chunk's status reads against its batch's (pending once stopped is "not run"). */
const columnsFor = (batch: Pick<Batch, 'status'>) =>
  helper.columns([
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
    helper.accessor((c) => chunkState(c, batch), {
      id: 'status',
      header: 'Status',
      cell: ({ getValue }) => <ChunkStateBadge state={getValue()} />,
    }),
    helper.accessor('requests', { header: 'Requests', cell: ({ getValue }) => formatNumber(getValue()) }),
    helper.accessor('completed', {
      header: 'Succeeded',
      cell: ({ getValue }) => (
        <span className={getValue() > 0 ? 'text-ok' : 'text-muted'}>{formatNumber(getValue())}</span>
      ),
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
export function BatchChunks(props: { batch: Batch; chunks: ChunkView[] | null | undefined }) {
  const ext = props.batch.openbatch;
  const data = props.chunks ?? EMPTY;
  const status = props.batch.status;
  const columns = useMemo(() => columnsFor({ status }), [status]);
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
  const facts = chunkFacts(ext, props.chunks);
  return (
    <div className="space-y-5">
      <dl className="grid grid-cols-2 gap-3 sm:grid-cols-4">
        <Fact label="Chunks done" value={`${formatNumber(facts.done)} / ${formatNumber(facts.total)}`} />
        <Fact
          label="Escalated to dedicated"
          value={formatNumber(facts.escalated)}
          warn={facts.escalated > 0}
        />
        <Fact
          label="Interruptions"
          value={formatNumber(facts.interruptions)}
          warn={facts.interruptions > 0}
        />
        <Fact label="Priority" value={ext.priority} />
      </dl>
      <PoolFigures pools={ext.pools} chunks={props.chunks} />
      {props.chunks === null ? (
        <Unavailable title="Per-chunk view" compact>
          This API does not offer GET /v1/openbatch/batches/{'{id}'}/chunks.
        </Unavailable>
      ) : data.length === 0 ? (
        <p className="text-[13px] text-muted">
          No chunks yet: the input is cut into chunks once it is validated.
        </p>
      ) : (
        <>
          <div>
            <p className="mb-2 text-xs font-medium text-muted">Chunk map</p>
            <ul className="flex flex-wrap gap-1" aria-label="Chunk map">
              {data.slice(0, 500).map((c) => {
                const state = chunkState(c, props.batch);
                return (
                  <li
                    key={c.chunk}
                    title={`Chunk #${c.chunk}, lines ${c.line_start}–${c.line_end}: ${state}${c.pool ? ` on ${c.pool}` : ''}${c.escalated ? ', escalated' : ''}${c.interruptions ? `, ${c.interruptions} interruption(s)` : ''}`}
                    data-state={state}
                    className={clsx(
                      'size-3.5 rounded-[3px]',
                      state === 'pending'
                        ? 'bg-surface-2 ring-1 ring-line ring-inset'
                        : state === 'not run'
                          ? 'bg-idle/35'
                          : c.pool === 'dedicated'
                            ? 'bg-dedicated'
                            : 'bg-spot',
                      c.interruptions > 0 && 'outline-2 outline-offset-1 outline-warn',
                    )}
                  />
                );
              })}
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

const stateLook: Record<ChunkState, { tone: Tone; icon: LucideIcon }> = {
  done: { tone: 'ok', icon: CircleCheck },
  pending: { tone: 'info', icon: CircleDashed },
  'not run': { tone: 'idle', icon: Ban },
};

function ChunkStateBadge({ state }: { state: ChunkState }) {
  const { tone, icon: Icon } = stateLook[state];
  return (
    <Badge tone={tone}>
      <Icon aria-hidden className="size-3" />
      {state}
    </Badge>
  );
}

/**
 * Requests per pool. From the chunks (each done chunk ran on one pool) succeeded and failed are
 * told apart; without them only the batch's per-pool totals are known, which count every request
 * that ran, failed ones included, and are named so.
 */
function PoolFigures(props: {
  pools: { spot: number; dedicated: number };
  chunks: ChunkView[] | null | undefined;
}) {
  if (props.chunks && props.chunks.length > 0) {
    const p = poolOutcomes(props.chunks);
    return (
      <div>
        <p className="mb-2 text-xs font-medium text-muted">Requests run per pool</p>
        <PoolSplit
          spot={p.spot.succeeded + p.spot.failed}
          dedicated={p.dedicated.succeeded + p.dedicated.failed}
          failed={{ spot: p.spot.failed, dedicated: p.dedicated.failed }}
        />
      </div>
    );
  }
  return (
    <div>
      <p className="mb-2 text-xs font-medium text-muted">Requests run per pool (succeeded or failed)</p>
      <PoolSplit spot={props.pools.spot} dedicated={props.pools.dedicated} />
    </div>
  );
}

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
