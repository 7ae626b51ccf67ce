import { clsx } from 'clsx';
import { formatDateTime, formatDuration, formatRelative } from '../../../lib/format';
import type { Batch } from '../../../types/api';

interface Step {
  key: string;
  label: string;
  at: number | null;
  tone: 'done' | 'bad' | 'warn' | 'idle' | 'future';
  note?: string;
}

function stepsOf(b: Batch): Step[] {
  const steps: Step[] = [
    { key: 'created', label: 'Created', at: b.created_at, tone: 'done' },
    {
      key: 'in_progress',
      label: 'In progress',
      at: b.in_progress_at,
      tone: b.in_progress_at ? 'done' : 'future',
    },
    {
      key: 'finalizing',
      label: 'Finalizing',
      at: b.finalizing_at,
      tone: b.finalizing_at ? 'done' : 'future',
    },
  ];
  if (b.cancelling_at)
    steps.push({ key: 'cancelling', label: 'Cancelling', at: b.cancelling_at, tone: 'idle' });
  if (b.failed_at) steps.push({ key: 'failed', label: 'Failed', at: b.failed_at, tone: 'bad' });
  else if (b.expired_at) steps.push({ key: 'expired', label: 'Expired', at: b.expired_at, tone: 'warn' });
  else if (b.cancelled_at)
    steps.push({ key: 'cancelled', label: 'Cancelled', at: b.cancelled_at, tone: 'idle' });
  else
    steps.push({
      key: 'completed',
      label: 'Completed',
      at: b.completed_at,
      tone: b.completed_at ? 'done' : 'future',
    });
  // A batch that failed validation or was cancelled early skips the middle steps.
  const ended = b.failed_at ?? b.cancelled_at ?? b.expired_at;
  return steps.filter((s) => !(ended && s.tone === 'future'));
}

const dot: Record<Step['tone'], string> = {
  done: 'bg-ok ring-ok-soft',
  bad: 'bg-bad ring-bad-soft',
  warn: 'bg-warn ring-warn-soft',
  idle: 'bg-idle ring-idle-soft',
  future: 'bg-surface ring-line border border-line',
};

/** Created → in progress → finalizing → end, with times, durations and the SLA deadline. */
export function BatchTimeline({ batch, nowMs }: { batch: Batch; nowMs: number }) {
  const steps = stepsOf(batch);
  const deadline = batch.openbatch?.sla?.deadline_at ?? batch.expires_at;
  const ended = batch.completed_at ?? batch.failed_at ?? batch.expired_at ?? batch.cancelled_at;
  return (
    <ol className="relative space-y-4">
      {steps.map((s, i) => {
        const prev = steps[i - 1];
        return (
          <li key={s.key} className="relative flex gap-3 pl-0.5" data-testid={`timeline-${s.key}`}>
            {i < steps.length - 1 ? (
              <span aria-hidden className="absolute top-4 left-[8.5px] h-[calc(100%+0.25rem)] w-px bg-line" />
            ) : null}
            <span
              aria-hidden
              className={clsx('relative mt-1 size-3 shrink-0 rounded-full ring-4', dot[s.tone])}
            />
            <div className="min-w-0 text-[13px]">
              <p className={clsx('font-medium', s.tone === 'future' ? 'text-muted' : 'text-ink')}>
                {s.label}
              </p>
              <p className="text-xs text-muted">
                {s.at ? (
                  <>
                    <time dateTime={new Date(s.at * 1000).toISOString()}>{formatDateTime(s.at)}</time>
                    {prev?.at ? <span> · +{formatDuration(s.at - prev.at)}</span> : null}
                  </>
                ) : (
                  'Pending'
                )}
              </p>
            </div>
          </li>
        );
      })}
      <li className="relative flex gap-3 border-t border-dashed border-line pt-3 pl-0.5">
        <span
          aria-hidden
          className={clsx(
            'relative mt-1 size-3 shrink-0 rotate-45 rounded-[2px] ring-4',
            batch.openbatch?.sla?.state === 'breached'
              ? 'bg-bad ring-bad-soft'
              : batch.openbatch?.sla?.state === 'at_risk'
                ? 'bg-warn ring-warn-soft'
                : 'bg-accent ring-accent-soft',
          )}
        />
        <div className="text-[13px]">
          <p className="font-medium text-ink">SLA deadline</p>
          <p className="text-xs text-muted">
            {formatDateTime(deadline)} ·{' '}
            {ended && !batch.openbatch?.sla?.state
              ? 'no longer applies'
              : ended
                ? ended <= deadline
                  ? `ended ${formatDuration(deadline - ended)} before it`
                  : `ended ${formatDuration(ended - deadline)} after it`
                : formatRelative(deadline, nowMs)}
          </p>
        </div>
      </li>
    </ol>
  );
}
