import type { ReactElement } from 'react';
import {
  Bar,
  BarChart,
  CartesianGrid,
  Cell,
  Legend,
  Pie,
  PieChart,
  ResponsiveContainer,
  Tooltip,
  XAxis,
  YAxis,
} from 'recharts';
import { statusLabel } from '../../../lib/batch-status';
import { formatDuration, formatNumber } from '../../../lib/format';
import type { BatchStatus } from '../../../types/api';
import type { DashboardSummary } from '../utils/summarize';

const statusColour: Record<BatchStatus, string> = {
  validating: 'var(--info)',
  in_progress: 'var(--accent)',
  finalizing: 'var(--dedicated)',
  completed: 'var(--ok)',
  failed: 'var(--bad)',
  expired: 'var(--warn)',
  cancelling: 'var(--muted)',
  cancelled: 'var(--idle)',
};

const axis = { fontSize: 11, fill: 'var(--muted)' };
const tooltipStyle = {
  contentStyle: {
    background: 'var(--surface)',
    border: '1px solid var(--line)',
    borderRadius: 8,
    fontSize: 12,
    color: 'var(--ink)',
  },
  labelStyle: { color: 'var(--ink)', fontWeight: 600 },
  cursor: { fill: 'var(--surface-2)' },
};

function ChartFrame(props: { label: string; children: ReactElement; height?: number }) {
  return (
    <figure aria-label={props.label} className="w-full" style={{ height: props.height ?? 220 }}>
      <ResponsiveContainer width="100%" height="100%">
        {props.children}
      </ResponsiveContainer>
    </figure>
  );
}

export function StatusDistributionChart({ data }: { data: DashboardSummary['byStatus'] }) {
  const rows = data.map((d) => ({ ...d, name: statusLabel(d.status) }));
  return (
    <ChartFrame label={`Batches by status: ${rows.map((r) => `${r.name} ${r.count}`).join(', ')}`}>
      <PieChart>
        <Pie
          data={rows}
          dataKey="count"
          nameKey="name"
          innerRadius="58%"
          outerRadius="85%"
          paddingAngle={2}
          stroke="var(--surface)"
        >
          {rows.map((r) => (
            <Cell key={r.status} fill={statusColour[r.status]} />
          ))}
        </Pie>
        <Tooltip {...tooltipStyle} />
        <Legend iconType="circle" iconSize={8} wrapperStyle={{ fontSize: 12, color: 'var(--muted)' }} />
      </PieChart>
    </ChartFrame>
  );
}

export function OutcomesChart({ data }: { data: DashboardSummary['recentOutcomes'] }) {
  return (
    <ChartFrame label="Succeeded and failed requests of recent batches">
      <BarChart data={data} margin={{ top: 8, right: 8, bottom: 0, left: -12 }}>
        <CartesianGrid vertical={false} stroke="var(--line)" />
        <XAxis dataKey="label" tick={axis} tickLine={false} axisLine={{ stroke: 'var(--line)' }} />
        <YAxis
          tick={axis}
          tickLine={false}
          axisLine={false}
          allowDecimals={false}
          tickFormatter={formatNumber}
        />
        <Tooltip {...tooltipStyle} formatter={(v) => formatNumber(Number(v))} />
        <Legend iconType="circle" iconSize={8} wrapperStyle={{ fontSize: 12 }} />
        <Bar dataKey="completed" name="Succeeded" stackId="r" fill="var(--ok)" maxBarSize={56} />
        <Bar
          dataKey="failed"
          name="Failed"
          stackId="r"
          fill="var(--bad)"
          radius={[3, 3, 0, 0]}
          maxBarSize={56}
        />
      </BarChart>
    </ChartFrame>
  );
}

/** Axis ticks: tenths of a second for short batches, so ticks never repeat. */
const secondsTick = (v: number) => (v < 60 ? `${Number(v.toFixed(1))}s` : formatDuration(v));

export function ProcessingTimeChart({ data }: { data: DashboardSummary['processing'] }) {
  return (
    <ChartFrame label="Processing time of recent completed batches">
      <BarChart data={data} margin={{ top: 8, right: 8, bottom: 0, left: -4 }}>
        <CartesianGrid vertical={false} stroke="var(--line)" />
        <XAxis dataKey="label" tick={axis} tickLine={false} axisLine={{ stroke: 'var(--line)' }} />
        <YAxis tick={axis} tickLine={false} axisLine={false} tickFormatter={(v) => secondsTick(Number(v))} />
        <Tooltip {...tooltipStyle} formatter={(v) => [formatDuration(Number(v)), 'Processing time']} />
        <Bar
          dataKey="seconds"
          name="Processing time"
          fill="var(--accent)"
          radius={[3, 3, 0, 0]}
          maxBarSize={56}
        />
      </BarChart>
    </ChartFrame>
  );
}
