import { Activity, CircleCheck, CircleX, Layers } from 'lucide-react';
import { Stat } from '../../../components/ui/stat';
import { formatNumber } from '../../../lib/format';
import type { DashboardSummary } from '../utils/summarize';

export function SummaryStats({ s }: { s: DashboardSummary }) {
  return (
    <div className="grid grid-cols-2 gap-4 lg:grid-cols-4">
      <Stat
        label="Batches"
        value={formatNumber(s.batches)}
        hint={`${formatNumber(s.requests.total)} requests`}
        icon={Layers}
      />
      <Stat
        label="In progress"
        value={formatNumber(s.active)}
        hint={`${formatNumber(s.requests.pending)} requests pending`}
        icon={Activity}
        tone="text-info"
      />
      <Stat
        label="Completed · 24 h"
        value={formatNumber(s.completed24h)}
        hint="batches finished"
        icon={CircleCheck}
        tone="text-ok"
      />
      <Stat
        label="Failed · 24 h"
        value={formatNumber(s.failed24h)}
        hint="failed or expired"
        icon={CircleX}
        tone="text-bad"
      />
    </div>
  );
}
