import { TriangleAlert } from 'lucide-react';
import { ApiError, errorMessage } from '../../lib/api-client';
import { Button } from './button';

export function ErrorState(props: { error: unknown; onRetry?: () => void; title?: string }) {
  const code =
    props.error instanceof ApiError && props.error.status > 0 ? `HTTP ${props.error.status}` : null;
  return (
    <div
      role="alert"
      className="flex items-start gap-3 rounded-lg border border-bad/30 bg-bad-soft px-4 py-3"
    >
      <TriangleAlert aria-hidden className="mt-0.5 size-4 shrink-0 text-bad" />
      <div className="min-w-0 flex-1">
        <p className="text-sm font-medium text-bad">
          {props.title ?? 'Something went wrong'}
          {code ? <span className="ml-2 font-normal opacity-80">{code}</span> : null}
        </p>
        <p className="mt-0.5 text-[13px] break-words text-ink">{errorMessage(props.error)}</p>
      </div>
      {props.onRetry ? (
        <Button size="sm" onClick={props.onRetry}>
          Retry
        </Button>
      ) : null}
    </div>
  );
}
