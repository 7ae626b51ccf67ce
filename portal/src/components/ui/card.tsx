import { clsx } from 'clsx';
import type { ReactNode } from 'react';

export function Card(props: { children: ReactNode; className?: string; 'aria-labelledby'?: string }) {
  return (
    <section
      aria-labelledby={props['aria-labelledby']}
      className={clsx('rounded-xl border border-line bg-surface shadow-xs', props.className)}
    >
      {props.children}
    </section>
  );
}

export function CardHeader(props: {
  title: ReactNode;
  id?: string;
  description?: ReactNode;
  actions?: ReactNode;
}) {
  return (
    <header className="flex flex-wrap items-start justify-between gap-3 border-b border-line px-5 py-3.5">
      <div className="min-w-0">
        <h2 id={props.id} className="text-[15px] font-semibold text-ink">
          {props.title}
        </h2>
        {props.description ? <p className="mt-0.5 text-[13px] text-muted">{props.description}</p> : null}
      </div>
      {props.actions ? <div className="flex flex-wrap items-center gap-2">{props.actions}</div> : null}
    </header>
  );
}

export function CardBody(props: { children: ReactNode; className?: string; 'data-testid'?: string }) {
  return (
    <div className={clsx('px-5 py-4', props.className)} data-testid={props['data-testid']}>
      {props.children}
    </div>
  );
}
