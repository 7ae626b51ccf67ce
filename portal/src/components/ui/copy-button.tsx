import { Check, Copy } from 'lucide-react';
import { useEffect, useState } from 'react';
import { toast } from 'sonner';
import { Button } from './button';

export function CopyButton(props: { value: string; label?: string; size?: 'sm' | 'md'; iconOnly?: boolean }) {
  const [copied, setCopied] = useState(false);
  useEffect(() => {
    if (!copied) return;
    const t = setTimeout(() => setCopied(false), 1500);
    return () => clearTimeout(t);
  }, [copied]);
  const label = props.label ?? 'Copy';
  return (
    <Button
      size={props.size ?? 'sm'}
      variant="ghost"
      aria-label={props.iconOnly ? label : undefined}
      title={label}
      onClick={async () => {
        try {
          await navigator.clipboard.writeText(props.value);
          setCopied(true);
        } catch {
          toast.error('Copy failed: the browser denied clipboard access.');
        }
      }}
    >
      {copied ? (
        <Check aria-hidden className="size-3.5 text-ok" />
      ) : (
        <Copy aria-hidden className="size-3.5" />
      )}
      {props.iconOnly ? null : copied ? 'Copied' : label}
    </Button>
  );
}
