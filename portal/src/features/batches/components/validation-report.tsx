import { CircleCheck, CircleX, LoaderCircle } from 'lucide-react';
import { ScrollArea } from '../../../components/ui/scroll-area';
import { formatNumber } from '../../../lib/format';
import type { ValidationReport } from '../utils/validate-jsonl';

/** The browser-side check of an input file: a summary, or the problems with their line numbers. */
export function ValidationReportView(props: {
  report: ValidationReport | null;
  checking: boolean;
  lines?: number;
}) {
  const { report } = props;
  if (props.checking || !report) {
    return (
      <p role="status" className="flex items-center gap-2 text-[13px] text-muted">
        <LoaderCircle aria-hidden className="size-4 animate-spin" />
        Checking the file{props.lines ? ` (${formatNumber(props.lines)} lines so far)` : ''}…
      </p>
    );
  }
  if (report.errors.length === 0) {
    return (
      <p
        role="status"
        data-testid="validation-ok"
        className="flex items-start gap-2 rounded-lg bg-ok-soft px-3 py-2 text-[13px] text-ok"
      >
        <CircleCheck aria-hidden className="mt-0.5 size-4 shrink-0" />
        <span>
          {formatNumber(report.requests)} request{report.requests === 1 ? '' : 's'} look valid: one JSON
          object per line, unique custom_ids, the chosen endpoint
          {report.models.length > 0 ? (
            <>
              , model{report.models.length > 1 ? 's' : ''}{' '}
              <span className="font-medium">{report.models.join(', ')}</span>
            </>
          ) : null}
          .
        </span>
      </p>
    );
  }
  return (
    <div role="alert" data-testid="validation-errors" className="rounded-lg border border-bad/30 bg-bad-soft">
      <p className="flex items-center gap-2 px-3 py-2 text-[13px] font-medium text-bad">
        <CircleX aria-hidden className="size-4" />
        {report.truncated ? `More than ${report.errors.length}` : report.errors.length} problem
        {report.errors.length === 1 ? '' : 's'} found in {formatNumber(report.requests)} requests. Fix the
        file and pick it again.
      </p>
      <ScrollArea
        label="Problems in the file"
        className="max-h-72 overflow-auto border-t border-bad/20 bg-surface"
      >
        <table className="w-full text-left text-[13px]">
          <thead className="sticky top-0 bg-surface text-xs text-muted">
            <tr>
              <th scope="col" className="px-3 py-1.5 font-medium">
                Line
              </th>
              <th scope="col" className="px-3 py-1.5 font-medium">
                Code
              </th>
              <th scope="col" className="px-3 py-1.5 font-medium">
                Problem
              </th>
            </tr>
          </thead>
          <tbody className="divide-y divide-line">
            {report.errors.map((e) => (
              <tr key={`${e.line}-${e.code}-${e.param}`} data-testid="validation-error">
                <td className="px-3 py-1.5 font-mono text-xs whitespace-nowrap text-ink tabular-nums">
                  {e.line > 0 ? `Line ${e.line}` : 'File'}
                </td>
                <td className="px-3 py-1.5 font-mono text-xs text-muted">{e.code}</td>
                <td className="px-3 py-1.5 text-ink">{e.message}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </ScrollArea>
    </div>
  );
}
