import { Recycle, X } from 'lucide-react';
import { type ReactNode, useEffect, useId, useRef } from 'react';
import { Badge } from '../../../components/ui/badge';
import { ErrorState } from '../../../components/ui/error-state';
import { JsonView } from '../../../components/ui/json-view';
import { ScrollArea } from '../../../components/ui/scroll-area';
import { Spinner } from '../../../components/ui/spinner';
import type { BatchRequestDetail } from '../types';
import { RequestStatusBadge } from './request-status-badge';

/**
 * One request in a side drawer (a modal native <dialog>: focus moves in, Escape closes it): its
 * facts, its input body and, once done, its output or error line. `customId` opens it; the
 * detail arrives as `request` (or `loading` / `error` meanwhile).
 */
export function RequestDrawer(props: {
  customId: string | null;
  request: BatchRequestDetail | null;
  loading?: boolean;
  error?: unknown;
  onClose(): void;
}) {
  const ref = useRef<HTMLDialogElement>(null);
  const titleId = useId();
  const open = props.customId !== null;
  useEffect(() => {
    const d = ref.current;
    if (!d) return;
    if (open && !d.open) {
      if (typeof d.showModal === 'function') d.showModal();
      else d.setAttribute('open', '');
    }
    if (!open && d.open) {
      if (typeof d.close === 'function') d.close();
      else d.removeAttribute('open');
    }
  }, [open]);
  const r = props.request?.custom_id === props.customId ? props.request : null;

  return (
    <dialog
      ref={ref}
      aria-labelledby={titleId}
      onClose={props.onClose}
      onCancel={props.onClose}
      className="m-0 ml-auto h-dvh max-h-none w-[min(36rem,100vw)] max-w-none border-l border-line bg-surface p-0 text-ink shadow-2xl"
    >
      <div className="flex h-full flex-col">
        <div className="flex items-start justify-between gap-3 border-b border-line px-5 py-4">
          <div className="min-w-0">
            <p className="text-xs text-muted">Request</p>
            <h2 id={titleId} className="font-mono text-base font-semibold break-all">
              {props.customId}
            </h2>
          </div>
          <button
            type="button"
            onClick={props.onClose}
            aria-label="Close request"
            className="rounded-md p-1.5 text-muted hover:bg-surface-2 hover:text-ink"
          >
            <X aria-hidden className="size-4" />
          </button>
        </div>
        {/* Focusable, so a keyboard can scroll a long input or result. */}
        <ScrollArea label="Request details" className="flex-1 space-y-5 overflow-y-auto px-5 py-4">
          {props.error ? (
            <ErrorState error={props.error} title="Could not load the request" />
          ) : !r ? (
            props.loading !== false ? (
              <Spinner label="Loading the request…" />
            ) : null
          ) : (
            <>
              <dl className="grid grid-cols-2 gap-x-4 gap-y-2 text-[13px]">
                <Fact label="Status">
                  <RequestStatusBadge status={r.status} />
                </Fact>
                <Fact label="Line">{r.line}</Fact>
                <Fact label="Pool">{r.pool ?? '—'}</Fact>
                <Fact label="Attempts">{r.attempts}</Fact>
                <Fact label="HTTP status">{r.http_status ?? '—'}</Fact>
                <Fact label="Error code">{r.error_code ?? '—'}</Fact>
                {r.reused ? (
                  <Fact label="Deduplicated">
                    <Badge tone="accent">
                      <Recycle aria-hidden className="size-3" />
                      reused an earlier answer
                    </Badge>
                  </Fact>
                ) : null}
              </dl>
              <section aria-label="Input">
                <h3 className="mb-1.5 text-xs font-medium text-muted">
                  Input body ·{' '}
                  <span className="font-mono">
                    {r.method} {r.url}
                  </span>
                </h3>
                <div className="rounded-lg border border-line bg-surface-2/40 p-3">
                  <JsonView text={JSON.stringify(r.body)} pretty />
                </div>
              </section>
              <section aria-label="Result">
                <h3 className="mb-1.5 text-xs font-medium text-muted">
                  {r.status === 'succeeded' ? 'Output line' : 'Result line'}
                </h3>
                {r.result ? (
                  <div className="rounded-lg border border-line bg-surface-2/40 p-3">
                    <JsonView text={JSON.stringify(r.result)} pretty />
                  </div>
                ) : (
                  <p className="text-[13px] text-muted">
                    {r.status === 'pending' || r.status === 'running'
                      ? 'No result yet: the request has not finished.'
                      : 'No result line: the request never ran.'}
                  </p>
                )}
              </section>
            </>
          )}
        </ScrollArea>
      </div>
    </dialog>
  );
}

function Fact(props: { label: string; children: ReactNode }) {
  return (
    <div>
      <dt className="text-xs text-muted">{props.label}</dt>
      <dd className="mt-0.5 text-ink">{props.children}</dd>
    </div>
  );
}
