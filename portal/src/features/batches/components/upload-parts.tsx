import { CircleAlert, CircleCheck, CircleDashed, CircleStop, LoaderCircle, RotateCw } from 'lucide-react';
import { ProgressBar } from '../../../components/ui/progress-bar';
import { formatBytes, formatNumber, formatPercent } from '../../../lib/format';
import type { PartProgress, PartStatus, PresignedUploadState } from '../api/presigned-upload';

/** Every part is listed up to this many; above it, only the parts in flight or failed. */
const LIST_ALL_UP_TO = 24;

function statusLabel(p: PartProgress, maxAttempts: number): string {
  switch (p.status) {
    case 'queued':
      return 'Queued';
    case 'uploading':
      return p.attempt > 1 ? `Uploading, try ${p.attempt} of ${maxAttempts}` : 'Uploading';
    case 'retrying':
      return `Failed, retrying (${p.attempt} of ${maxAttempts} tries made)`;
    case 'done':
      return 'Done';
    case 'failed':
      return `Failed after ${p.attempt} ${p.attempt === 1 ? 'try' : 'tries'}`;
    case 'stopped':
      return 'Stopped';
  }
}

const icons: Record<PartStatus, typeof CircleCheck> = {
  queued: CircleDashed,
  uploading: LoaderCircle,
  retrying: RotateCw,
  done: CircleCheck,
  failed: CircleAlert,
  stopped: CircleStop,
};
const iconTone: Record<PartStatus, string> = {
  queued: 'text-muted',
  uploading: 'text-accent animate-spin',
  retrying: 'text-warn',
  done: 'text-ok',
  failed: 'text-bad',
  stopped: 'text-muted',
};

const barTone: Record<PartStatus, 'accent' | 'ok' | 'bad' | 'idle'> = {
  queued: 'accent',
  uploading: 'accent',
  retrying: 'accent',
  done: 'ok',
  failed: 'bad',
  stopped: 'idle',
};

/**
 * The parts of a pre-signed upload: how many are done, in flight, retrying or queued, and a
 * bar per part with its state in words (colour and icon only repeat it).
 */
export function UploadParts(props: { state: PresignedUploadState }) {
  const { parts, maxAttempts } = props.state;
  const count = (s: PartStatus) => parts.filter((p) => p.status === s).length;
  const shown =
    parts.length <= LIST_ALL_UP_TO
      ? parts
      : parts.filter((p) => p.status === 'uploading' || p.status === 'retrying' || p.status === 'failed');
  const summary = [
    `${formatNumber(count('done'))} of ${formatNumber(parts.length)} parts done`,
    count('uploading') ? `${count('uploading')} uploading` : null,
    count('retrying') ? `${count('retrying')} retrying` : null,
    count('failed') ? `${count('failed')} failed` : null,
    count('stopped') ? `${formatNumber(count('stopped'))} stopped` : null,
    count('queued') && parts.length > LIST_ALL_UP_TO ? `${formatNumber(count('queued'))} queued` : null,
  ]
    .filter(Boolean)
    .join(' · ');
  return (
    <section
      aria-label="Upload parts"
      className="rounded-lg border border-line px-4 py-3"
      data-testid="upload-parts"
    >
      <p className="text-xs text-muted" data-testid="upload-parts-summary">
        {summary}
      </p>
      <ol className="mt-2 space-y-2.5">
        {shown.map((p) => {
          const Icon = icons[p.status];
          const label = statusLabel(p, maxAttempts);
          return (
            <li key={p.partNumber} data-testid="upload-part" data-status={p.status}>
              <div className="mb-1 flex items-center justify-between gap-3 text-xs">
                <span className="font-medium text-ink">
                  Part {formatNumber(p.partNumber)}
                  <span className="ml-1.5 font-normal text-muted">{formatBytes(p.bytes)}</span>
                </span>
                <span className="inline-flex items-center gap-1.5 text-muted">
                  <Icon aria-hidden className={`size-3.5 ${iconTone[p.status]}`} />
                  <span data-testid="upload-part-status">{label}</span>
                  <span className="w-9 text-right tabular-nums">{formatPercent(p.loaded, p.bytes)}</span>
                </span>
              </div>
              <ProgressBar
                size="sm"
                value={p.loaded}
                max={p.bytes}
                label={`Part ${p.partNumber} of ${parts.length}`}
                valueText={`${label}: ${formatBytes(p.loaded)} of ${formatBytes(p.bytes)}`}
                tone={barTone[p.status]}
              />
              {p.error && (p.status === 'retrying' || p.status === 'failed' || p.attempt > 1) ? (
                <p className="mt-1 text-xs text-muted">
                  {p.status === 'failed' ? 'Error' : 'Last error'}: {p.error}
                </p>
              ) : null}
            </li>
          );
        })}
      </ol>
    </section>
  );
}
