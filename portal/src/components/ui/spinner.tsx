import { LoaderCircle } from 'lucide-react';

export function Spinner(props: { label?: string; className?: string }) {
  return (
    <span
      role="status"
      className={`inline-flex items-center gap-2 text-sm text-muted ${props.className ?? ''}`}
    >
      <LoaderCircle aria-hidden className="size-4 animate-spin" />
      {props.label ?? 'Loading…'}
    </span>
  );
}

export function Skeleton(props: { className?: string }) {
  return (
    <div aria-hidden className={`animate-pulse rounded-md bg-surface-2 ${props.className ?? 'h-4 w-full'}`} />
  );
}
