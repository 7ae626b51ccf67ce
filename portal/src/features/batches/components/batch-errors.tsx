import { ScrollArea } from '../../../components/ui/scroll-area';
import type { BatchError } from '../../../types/api';

/** The batch's errors (validation problems with line numbers, or why it failed). */
export function BatchErrors({ errors }: { errors: BatchError[] }) {
  return (
    <ScrollArea label="Batch errors" className="max-h-96 overflow-auto">
      <table className="w-full text-left text-[13px]">
        <thead className="sticky top-0 border-b border-line bg-surface text-xs text-muted">
          <tr>
            <th scope="col" className="px-5 py-2 font-medium">
              Line
            </th>
            <th scope="col" className="px-3 py-2 font-medium">
              Code
            </th>
            <th scope="col" className="px-3 py-2 font-medium">
              Message
            </th>
            <th scope="col" className="px-5 py-2 font-medium">
              Param
            </th>
          </tr>
        </thead>
        <tbody className="divide-y divide-line">
          {errors.map((e, i) => (
            // biome-ignore lint/suspicious/noArrayIndexKey: errors have no id and keep their order
            <tr key={i} data-testid="batch-error">
              <td className="px-5 py-2 font-mono text-xs whitespace-nowrap text-ink tabular-nums">
                {e.line !== null ? `Line ${e.line}` : '—'}
              </td>
              <td className="px-3 py-2 font-mono text-xs text-bad">{e.code}</td>
              <td className="px-3 py-2 text-ink">{e.message}</td>
              <td className="px-5 py-2 font-mono text-xs text-muted">{e.param ?? '—'}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </ScrollArea>
  );
}
