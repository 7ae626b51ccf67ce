import {
  Ban,
  CircleCheck,
  CircleDashed,
  CircleX,
  Clock,
  Hourglass,
  LoaderCircle,
  type LucideIcon,
  ShieldAlert,
  ShieldCheck,
  ShieldX,
} from 'lucide-react';
import { statusLabel } from '../../lib/batch-status';
import type { BatchStatus, SlaState } from '../../types/api';
import { Badge, type Tone } from './badge';

const statusLook: Record<BatchStatus, { tone: Tone; icon: LucideIcon; spin?: boolean }> = {
  validating: { tone: 'info', icon: CircleDashed },
  in_progress: { tone: 'info', icon: LoaderCircle, spin: true },
  finalizing: { tone: 'info', icon: Hourglass },
  completed: { tone: 'ok', icon: CircleCheck },
  failed: { tone: 'bad', icon: CircleX },
  expired: { tone: 'warn', icon: Clock },
  cancelling: { tone: 'idle', icon: Ban },
  cancelled: { tone: 'idle', icon: Ban },
};

/** A batch's status: colour, icon and word, so it reads without colour too. */
export function StatusBadge({ status }: { status: BatchStatus }) {
  const look = statusLook[status];
  const Icon = look.icon;
  return (
    <Badge tone={look.tone}>
      <Icon
        aria-hidden
        className={look.spin ? 'size-3.5 animate-spin [animation-duration:2s]' : 'size-3.5'}
      />
      <span data-testid="batch-status">{statusLabel(status)}</span>
    </Badge>
  );
}

const slaLook: Record<SlaState, { tone: Tone; icon: LucideIcon; label: string }> = {
  on_track: { tone: 'ok', icon: ShieldCheck, label: 'On track' },
  at_risk: { tone: 'warn', icon: ShieldAlert, label: 'At risk' },
  met: { tone: 'ok', icon: ShieldCheck, label: 'Met' },
  breached: { tone: 'bad', icon: ShieldX, label: 'Breached' },
};

export const slaLabel = (s: SlaState) => slaLook[s].label;

export function SlaBadge({ state }: { state: SlaState | null | undefined }) {
  if (!state) return <span className="text-xs text-muted">No SLA</span>;
  const look = slaLook[state];
  const Icon = look.icon;
  return (
    <Badge tone={look.tone} title="SLA: finish before the completion window ends">
      <Icon aria-hidden className="size-3.5" />
      {look.label}
    </Badge>
  );
}
