import { RotateCcw } from 'lucide-react';
import { useState } from 'react';
import { Button } from '../../../components/ui/button';
import { ConfirmDialog } from '../../../components/ui/confirm-dialog';
import { formatNumber } from '../../../lib/format';
import type { RetryFilter } from '../types';

/**
 * Retry, after a confirmation that says what runs again: the chosen requests when some are
 * chosen, else every failed and expired one. `onRetry` gets the API's filter; the page creates
 * the retry batch and opens it. Disabled, with the reason as its title, while nothing can be
 * retried (a running batch, nothing failed).
 */
export function RetryButton(props: {
  /** Failed and expired requests of the batch. */
  retryable: number;
  /** custom_ids chosen in the request table. */
  chosen: readonly string[];
  busy?: boolean;
  disabledReason?: string | null;
  onRetry(filter: RetryFilter): void;
}) {
  const [open, setOpen] = useState(false);
  const some = props.chosen.length > 0;
  const count = some ? props.chosen.length : props.retryable;
  const what = some
    ? `${formatNumber(count)} chosen ${count === 1 ? 'request' : 'requests'}`
    : `${formatNumber(count)} failed and expired ${count === 1 ? 'request' : 'requests'}`;
  const reason = props.disabledReason ?? (count === 0 ? 'No failed or expired request to retry.' : null);
  return (
    <>
      <Button onClick={() => setOpen(true)} disabled={reason !== null} title={reason ?? `Retry ${what}`}>
        <RotateCcw aria-hidden className="size-4" />
        {some ? `Retry ${formatNumber(count)} chosen` : 'Retry failed'}
      </Button>
      <ConfirmDialog
        open={open}
        busy={props.busy}
        title="Retry in a new batch?"
        confirmLabel={props.busy ? 'Creating…' : 'Create retry batch'}
        cancelLabel="Not now"
        onClose={() => setOpen(false)}
        onConfirm={() => {
          props.onRetry(some ? { custom_ids: [...props.chosen] } : {});
          setOpen(false);
        }}
      >
        <p>
          A new batch runs the {what} again, with this batch&apos;s endpoint and settings. This batch stays as
          it is and links to the new one.
        </p>
      </ConfirmDialog>
    </>
  );
}
