import type { LucideIcon } from 'lucide-react';
import type { ReactNode } from 'react';

export function Stat(props: {
  label: string;
  value: ReactNode;
  hint?: ReactNode;
  icon?: LucideIcon;
  tone?: string;
}) {
  const Icon = props.icon;
  return (
    <div className="rounded-xl border border-line bg-surface px-4 py-3.5 shadow-xs">
      <div className="flex items-center justify-between gap-2">
        <p className="text-[13px] font-medium text-muted">{props.label}</p>
        {Icon ? <Icon aria-hidden className={`size-4 ${props.tone ?? 'text-muted'}`} /> : null}
      </div>
      <p className="mt-1.5 text-2xl font-semibold tracking-tight text-ink tabular-nums">{props.value}</p>
      {props.hint ? <p className="mt-0.5 text-xs text-muted">{props.hint}</p> : null}
    </div>
  );
}
