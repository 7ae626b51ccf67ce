import { CopyButton } from '../../../components/ui/copy-button';
import { ErrorState } from '../../../components/ui/error-state';
import { highlightJson, JsonView } from '../../../components/ui/json-view';
import { ScrollArea } from '../../../components/ui/scroll-area';
import { Skeleton } from '../../../components/ui/spinner';
import { useFileHead } from '../api/file-content';

export const PREVIEW_LINES = 10;

/** The first lines of a file, each pretty-printed with JSON colours and its own copy button. */
export function FilePreview({ fileId }: { fileId: string }) {
  const q = useFileHead(fileId, PREVIEW_LINES, 1024 * 1024);
  if (q.isPending) {
    return (
      <div className="space-y-2 p-4">
        <Skeleton className="h-16" />
        <Skeleton className="h-16" />
      </div>
    );
  }
  if (q.isError)
    return <ErrorState error={q.error} title="Could not read the file" onRetry={() => void q.refetch()} />;
  const { lines, more } = q.data;
  if (lines.length === 0) return <p className="px-4 py-3 text-[13px] text-muted">The file is empty.</p>;
  return (
    <div data-testid="file-preview">
      <div className="flex items-center justify-between gap-3 px-4 py-2 text-xs text-muted">
        <span>
          First {lines.length} line{lines.length === 1 ? '' : 's'}
          {more ? ' (the file has more)' : ''} · click a line to expand it
        </span>
        <CopyButton value={lines.map((l) => l.text).join('\n')} label="Copy lines" />
      </div>
      <ScrollArea label="File lines" className="max-h-[28rem] overflow-auto border-t border-line">
        <ol className="divide-y divide-line">
          {lines.map((l) => (
            <li key={l.number} className="group flex items-start gap-3 px-4 py-2">
              <span
                aria-hidden
                className="w-6 shrink-0 pt-0.5 text-right font-mono text-xs text-muted/70 select-none"
              >
                {l.number}
              </span>
              <details className="min-w-0 flex-1">
                <summary className="cursor-pointer list-none truncate font-mono text-xs leading-5 text-ink marker:hidden [&::-webkit-details-marker]:hidden">
                  {highlightJson(l.text)}
                </summary>
                <div className="mt-2 rounded-md bg-surface px-3 py-2 ring-1 ring-line">
                  <JsonView text={l.text} pretty />
                </div>
              </details>
              <div className="shrink-0 opacity-60 group-hover:opacity-100 focus-within:opacity-100">
                <CopyButton value={l.text} label={`Copy line ${l.number}`} iconOnly />
              </div>
            </li>
          ))}
        </ol>
      </ScrollArea>
    </div>
  );
}
