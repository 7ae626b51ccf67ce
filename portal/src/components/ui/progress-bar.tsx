import { formatNumber } from '../../lib/format';

/**
 * Request progress split by outcome. The bar is decorative for screen readers; the label
 * says the same in words.
 */
export function RequestProgress(props: {
  total: number;
  completed: number;
  failed: number;
  /** Requests that will never run (a cancelled or expired batch); the rest of the total is pending. */
  notRun?: number;
  size?: 'sm' | 'md';
  showLegend?: boolean;
}) {
  const { total, completed, failed } = props;
  const done = completed + failed;
  const notRun = Math.min(props.notRun ?? 0, Math.max(0, total - done));
  const pending = Math.max(0, total - done - notRun);
  const pct = (n: number) => (total > 0 ? `${(n / total) * 100}%` : '0%');
  const label =
    total > 0
      ? `${formatNumber(done)} of ${formatNumber(total)} requests done: ${formatNumber(completed)} succeeded, ${formatNumber(failed)} failed`
      : 'No requests counted yet';
  return (
    <div className="w-full">
      <div
        role="progressbar"
        aria-label={label}
        aria-valuemin={0}
        aria-valuemax={Math.max(total, 1)}
        aria-valuenow={done}
        className={`flex w-full overflow-hidden rounded-full bg-surface-2 ${props.size === 'md' ? 'h-2.5' : 'h-1.5'}`}
      >
        <div className="bg-ok transition-[width] duration-500" style={{ width: pct(completed) }} />
        <div className="bg-bad transition-[width] duration-500" style={{ width: pct(failed) }} />
        <div className="bg-idle/35 transition-[width] duration-500" style={{ width: pct(notRun) }} />
      </div>
      {props.showLegend ? (
        <div className="mt-2 flex flex-wrap gap-x-4 gap-y-1 text-xs text-muted">
          <Legend swatch="bg-ok" label="Succeeded" value={completed} />
          <Legend swatch="bg-bad" label="Failed" value={failed} />
          {/* Pending while the batch can still run requests; "not run" only when some never will. */}
          {pending > 0 || props.notRun === undefined ? (
            <Legend swatch="bg-surface-2 ring-1 ring-line" label="Pending" value={pending} />
          ) : null}
          {notRun > 0 ? <Legend swatch="bg-idle/35" label="Not run" value={notRun} /> : null}
        </div>
      ) : null}
    </div>
  );
}

function Legend(props: { swatch: string; label: string; value: number }) {
  return (
    <span className="inline-flex items-center gap-1.5">
      <span aria-hidden className={`size-2.5 rounded-sm ${props.swatch}`} />
      {props.label} <span className="font-medium text-ink tabular-nums">{formatNumber(props.value)}</span>
    </span>
  );
}

/** A plain determinate bar (uploads). `valueText` says the value in words for screen readers. */
export function ProgressBar(props: {
  value: number;
  max: number;
  label: string;
  valueText?: string;
  tone?: 'accent' | 'ok' | 'bad' | 'idle';
  size?: 'sm' | 'md';
}) {
  const pct = props.max > 0 ? Math.min(100, (props.value / props.max) * 100) : 0;
  const tone = { accent: 'bg-accent', ok: 'bg-ok', bad: 'bg-bad', idle: 'bg-idle/60' }[
    props.tone ?? 'accent'
  ];
  return (
    <div
      role="progressbar"
      aria-label={props.label}
      aria-valuemin={0}
      aria-valuemax={100}
      aria-valuenow={Math.round(pct)}
      aria-valuetext={props.valueText}
      className={`w-full overflow-hidden rounded-full bg-surface-2 ${props.size === 'sm' ? 'h-1.5' : 'h-2'}`}
    >
      <div className={`h-full ${tone} transition-[width] duration-200`} style={{ width: `${pct}%` }} />
    </div>
  );
}
