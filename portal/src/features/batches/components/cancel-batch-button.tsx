import { Ban } from 'lucide-react';
import { useState } from 'react';
import { Button } from '../../../components/ui/button';
import { ConfirmDialog } from '../../../components/ui/confirm-dialog';
import { formatNumber } from '../../../lib/format';
import type { Batch } from '../../../types/api';
import { useCancelBatch } from '../api/cancel-batch';

/** Cancel, after a confirmation that says what cancelling does. */
export function CancelBatchButton(props: { batch: Batch; size?: 'sm' | 'md'; compact?: boolean }) {
  const [open, setOpen] = useState(false);
  const cancel = useCancelBatch();
  const b = props.batch;
  const pending = Math.max(0, b.request_counts.total - b.request_counts.completed - b.request_counts.failed);
  return (
    <>
      <Button
        size={props.size ?? 'md'}
        variant={props.compact ? 'ghost' : 'secondary'}
        onClick={(e) => {
          e.stopPropagation();
          setOpen(true);
        }}
        aria-label={props.compact ? `Cancel ${b.id}` : undefined}
        title={`Cancel ${b.id}`}
        className={props.compact ? 'text-bad hover:text-bad' : 'text-bad'}
      >
        <Ban aria-hidden className="size-3.5" />
        {props.compact ? null : 'Cancel batch'}
      </Button>
      <ConfirmDialog
        open={open}
        danger
        busy={cancel.isPending}
        title="Cancel this batch?"
        confirmLabel={cancel.isPending ? 'Cancelling…' : 'Cancel batch'}
        onClose={() => setOpen(false)}
        onConfirm={() => cancel.mutate(b.id, { onSettled: () => setOpen(false) })}
      >
        <p>
          <span className="font-mono text-ink">{b.id}</span> stops taking new work.
          {b.request_counts.total > 0
            ? ` ${formatNumber(pending)} of ${formatNumber(b.request_counts.total)} requests have not finished and will not run.`
            : ''}{' '}
          Requests already finished stay in its output file. This cannot be undone.
        </p>
      </ConfirmDialog>
    </>
  );
}
