import { type ReactNode, useEffect, useRef } from 'react';
import { Button } from './button';

/**
 * A modal confirmation on the native <dialog> element: focus moves into it, Escape closes it and
 * the rest of the page is inert while it is open.
 */
export function ConfirmDialog(props: {
  open: boolean;
  title: string;
  children: ReactNode;
  confirmLabel: string;
  cancelLabel?: string;
  danger?: boolean;
  busy?: boolean;
  onConfirm(): void;
  onClose(): void;
}) {
  const ref = useRef<HTMLDialogElement>(null);
  useEffect(() => {
    const d = ref.current;
    if (!d) return;
    if (props.open && !d.open) {
      if (typeof d.showModal === 'function') d.showModal();
      else d.setAttribute('open', '');
    }
    if (!props.open && d.open) {
      if (typeof d.close === 'function') d.close();
      else d.removeAttribute('open');
    }
  }, [props.open]);
  return (
    <dialog
      ref={ref}
      aria-labelledby="confirm-title"
      onClose={props.onClose}
      onCancel={props.onClose}
      // Clicks inside the dialog must not reach handlers around where it was declared (a table row).
      onClick={(e) => e.stopPropagation()}
      onKeyDown={(e) => e.stopPropagation()}
      className="m-auto w-[min(28rem,calc(100vw-2rem))] rounded-xl border border-line bg-surface p-0 text-ink shadow-2xl"
    >
      <div className="px-5 pt-5">
        <h2 id="confirm-title" className="text-base font-semibold">
          {props.title}
        </h2>
        <div className="mt-2 text-sm text-muted">{props.children}</div>
      </div>
      <div className="mt-5 flex justify-end gap-2 border-t border-line bg-surface-2/50 px-5 py-3">
        <Button onClick={props.onClose} autoFocus>
          {props.cancelLabel ?? 'Keep it'}
        </Button>
        <Button variant={props.danger ? 'danger' : 'primary'} onClick={props.onConfirm} disabled={props.busy}>
          {props.confirmLabel}
        </Button>
      </div>
    </dialog>
  );
}
