import type { ReactNode } from 'react';
import { Breadcrumbs, type Crumb } from './breadcrumbs';

export function PageHeader(props: {
  crumbs: Crumb[];
  title: ReactNode;
  description?: ReactNode;
  actions?: ReactNode;
}) {
  return (
    <div className="mb-6">
      <Breadcrumbs items={props.crumbs} />
      <div className="mt-2 flex flex-wrap items-end justify-between gap-3">
        <div className="min-w-0">
          <h1 className="text-2xl font-semibold tracking-tight text-ink">{props.title}</h1>
          {props.description ? <div className="mt-1 text-sm text-muted">{props.description}</div> : null}
        </div>
        {props.actions ? <div className="flex flex-wrap items-center gap-2">{props.actions}</div> : null}
      </div>
    </div>
  );
}
