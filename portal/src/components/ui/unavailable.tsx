import { PlugZap } from 'lucide-react';
import type { ReactNode } from 'react';

/**
 * A feature the portal has a place for but the API does not offer yet. Says so plainly, never
 * shows invented figures.
 */
export function Unavailable(props: { title: string; children: ReactNode; compact?: boolean }) {
  return (
    <div
      data-testid="unavailable"
      className={`flex items-start gap-3 rounded-lg border border-dashed border-line bg-surface-2/60 ${props.compact ? 'px-3 py-2.5' : 'px-4 py-4'}`}
    >
      <PlugZap aria-hidden className="mt-0.5 size-4 shrink-0 text-muted" />
      <div className="min-w-0">
        <p className="text-[13px] font-medium text-ink">
          {props.title} <span className="font-normal text-muted">· not available yet</span>
        </p>
        <p className="mt-0.5 text-xs text-muted">{props.children}</p>
      </div>
    </div>
  );
}
