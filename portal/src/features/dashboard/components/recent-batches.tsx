import { CircleX } from 'lucide-react';
import { Link } from 'react-router';
import { RequestProgress } from '../../../components/ui/progress-bar';
import { StatusBadge } from '../../../components/ui/status-badge';
import { formatNumber, formatRelative } from '../../../lib/format';
import type { Batch } from '../../../types/api';

export function RecentBatches({ batches, nowMs }: { batches: Batch[]; nowMs: number }) {
  return (
    <ul className="divide-y divide-line">
      {batches.map((b) => {
        const c = b.request_counts;
        return (
          <li key={b.id}>
            <Link
              to={`/batches/${b.id}`}
              className="grid grid-cols-[minmax(0,1fr)_auto] items-center gap-x-4 gap-y-2 px-5 py-3 hover:bg-surface-2/60 sm:grid-cols-[minmax(0,1.2fr)_8rem_minmax(0,1fr)_5rem]"
            >
              <div className="min-w-0">
                <p className="truncate font-mono text-[13px] font-medium text-ink">{b.id}</p>
                <p className="truncate text-xs text-muted">
                  {b.endpoint}
                  {b.model ? ` · ${b.model}` : ''}
                </p>
              </div>
              <div>
                <StatusBadge status={b.status} />
              </div>
              <div className="col-span-2 sm:col-span-1">
                <RequestProgress total={c.total} completed={c.completed} failed={c.failed} />
                <p className="mt-1 flex flex-wrap items-center gap-x-2 text-xs text-muted tabular-nums">
                  <span>
                    {formatNumber(c.completed + c.failed)} / {formatNumber(c.total)} requests
                  </span>
                  {c.failed > 0 ? (
                    // Told in words and with an icon, not by the bar's colour alone.
                    <span className="inline-flex items-center gap-1 text-bad" data-testid="recent-failed">
                      <CircleX aria-hidden className="size-3" />
                      {formatNumber(c.failed)} failed
                    </span>
                  ) : null}
                </p>
              </div>
              <p className="hidden text-right text-xs text-muted sm:block">
                {formatRelative(b.created_at, nowMs)}
              </p>
            </Link>
          </li>
        );
      })}
    </ul>
  );
}
