import { Ban, CircleCheck, CircleDashed, CircleX, Clock, LoaderCircle, type LucideIcon } from 'lucide-react';
import { Badge, type Tone } from '../../../components/ui/badge';
import type { RequestStatus } from '../types';

const look: Record<RequestStatus, { tone: Tone; icon: LucideIcon }> = {
  pending: { tone: 'idle', icon: CircleDashed },
  running: { tone: 'info', icon: LoaderCircle },
  succeeded: { tone: 'ok', icon: CircleCheck },
  failed: { tone: 'bad', icon: CircleX },
  expired: { tone: 'warn', icon: Clock },
  cancelled: { tone: 'idle', icon: Ban },
};

/** A request's status in words with an icon, never by colour alone. */
export function RequestStatusBadge({ status }: { status: RequestStatus }) {
  const { tone, icon: Icon } = look[status];
  return (
    <Badge tone={tone}>
      <Icon aria-hidden className="size-3" />
      {status}
    </Badge>
  );
}
