import { clsx } from 'clsx';
import { FileUp } from 'lucide-react';
import { type DragEvent, useId, useRef, useState } from 'react';

/**
 * Drop a file here or pick one. The native file input stays in the tab order (visually hidden),
 * so keyboard and screen-reader users get the browser's own picker.
 */
export function FileDropzone(props: {
  accept?: string;
  onFile(file: File): void;
  label: string;
  hint?: string;
  compact?: boolean;
}) {
  const inputId = useId();
  const input = useRef<HTMLInputElement>(null);
  const [over, setOver] = useState(false);
  const onDrop = (e: DragEvent) => {
    e.preventDefault();
    setOver(false);
    const file = e.dataTransfer.files[0];
    if (file) props.onFile(file);
  };
  return (
    <label
      htmlFor={inputId}
      onDragOver={(e) => {
        e.preventDefault();
        e.dataTransfer.dropEffect = 'copy';
        setOver(true);
      }}
      onDragLeave={() => setOver(false)}
      onDrop={onDrop}
      data-testid="dropzone"
      className={clsx(
        'flex cursor-pointer flex-col items-center justify-center rounded-xl border-2 border-dashed text-center transition-colors has-[:focus-visible]:border-accent has-[:focus-visible]:bg-accent-soft',
        props.compact ? 'px-4 py-4' : 'px-6 py-10',
        over ? 'border-accent bg-accent-soft' : 'border-line bg-surface-2/40 hover:border-muted/50',
      )}
    >
      <FileUp aria-hidden className={clsx('text-accent', props.compact ? 'size-5' : 'size-8')} />
      <span className="mt-2 text-sm font-medium text-ink">
        {props.label} <span className="text-accent underline underline-offset-2">browse</span>
      </span>
      {props.hint ? <span className="mt-1 text-xs text-muted">{props.hint}</span> : null}
      <input
        ref={input}
        id={inputId}
        type="file"
        accept={props.accept}
        className="sr-only"
        onChange={(e) => {
          const file = e.target.files?.[0];
          if (file) props.onFile(file);
          // Picking the same file again still fires a change.
          e.target.value = '';
        }}
      />
    </label>
  );
}
