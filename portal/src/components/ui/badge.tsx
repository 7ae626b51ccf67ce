import { clsx } from 'clsx';
import type { ReactNode } from 'react';

export type Tone = 'ok' | 'bad' | 'warn' | 'info' | 'idle' | 'accent' | 'spot' | 'dedicated';

const tones: Record<Tone, string> = {
  ok: 'bg-ok-soft text-ok',
  bad: 'bg-bad-soft text-bad',
  warn: 'bg-warn-soft text-warn',
  info: 'bg-info-soft text-info',
  idle: 'bg-idle-soft text-idle',
  accent: 'bg-accent-soft text-accent',
  spot: 'bg-idle-soft text-spot',
  dedicated: 'bg-idle-soft text-dedicated',
};

export function Badge(props: { tone?: Tone; children: ReactNode; className?: string; title?: string }) {
  return (
    <span
      title={props.title}
      className={clsx(
        'inline-flex items-center gap-1 rounded-full px-2 py-0.5 text-xs font-medium whitespace-nowrap',
        tones[props.tone ?? 'idle'],
        props.className,
      )}
    >
      {props.children}
    </span>
  );
}
