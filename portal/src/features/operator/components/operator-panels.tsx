import { Activity, AlertTriangle, Gauge, Timer } from 'lucide-react';
import { Badge } from '../../../components/ui/badge';
import { Card, CardBody, CardHeader } from '../../../components/ui/card';
import { ScrollArea } from '../../../components/ui/scroll-area';
import { Stat } from '../../../components/ui/stat';
import { formatCount, formatLatency, formatRate, NONE } from '../utils/format-metrics';
import type { OperatorFigures, PoolFigures } from '../utils/operator-figures';
import type { Exposition } from '../utils/prometheus';

const sum = (values: (number | undefined)[]) =>
  values.every((v) => v === undefined) ? undefined : values.reduce<number>((n, v) => n + (v ?? 0), 0);

/** The headline figures: throughput, tokens, API traffic and batches at risk. */
export function OperatorStats({ f }: { f: OperatorFigures }) {
  const rateHint = f.intervalSeconds
    ? `over the last ${Math.round(f.intervalSeconds)} s`
    : 'from the next reading';
  return (
    <div className="grid grid-cols-2 gap-4 lg:grid-cols-4">
      <Stat
        label="Requests run"
        icon={Activity}
        value={
          <span data-testid="op-requests-rate">
            {formatRate(sum(f.pools.map((p) => p.requestsPerSecond)), 'req')}
          </span>
        }
        hint={rateHint}
      />
      <Stat
        label="Tokens generated"
        icon={Gauge}
        value={formatRate(sum(f.pools.map((p) => p.tokensPerSecond)), 'tok')}
        hint={rateHint}
      />
      <Stat
        label="API requests"
        icon={Timer}
        value={formatRate(f.api.perSecond, 'req')}
        hint={
          f.api.requests === undefined
            ? 'none reported yet'
            : `${formatCount(f.api.requests)} since start, ${formatCount(f.api.serverErrors)} with a 5xx`
        }
      />
      <Stat
        label="Batches at risk"
        icon={AlertTriangle}
        tone={(f.slaStates.get('at_risk') ?? 0) > 0 ? 'text-warn' : undefined}
        value={<span data-testid="op-at-risk">{formatCount(f.slaStates.get('at_risk'))}</span>}
        hint={f.slaStates.size === 0 ? 'no SLA sweep reported yet' : 'at the last SLA sweep'}
      />
    </div>
  );
}

/** Per pool: what ran, how fast, and how long the engine took. */
export function PoolThroughput({ f }: { f: OperatorFigures }) {
  return (
    <Card aria-labelledby="op-pools">
      <CardHeader
        id="op-pools"
        title="Throughput and engine latency"
        description="Per worker pool; totals since the local runtime started, rates since the previous reading."
      />
      <ScrollArea label="Throughput and engine latency per pool" className="overflow-x-auto">
        <table className="w-full min-w-[40rem] text-left text-[13px]">
          <thead className="text-xs text-muted">
            <tr className="border-b border-line">
              <th scope="col" className="px-5 py-2 font-medium">
                Pool
              </th>
              <th scope="col" className="px-3 py-2 text-right font-medium">
                Requests run
              </th>
              <th scope="col" className="px-3 py-2 text-right font-medium">
                Failed
              </th>
              <th scope="col" className="px-3 py-2 text-right font-medium">
                Requests/s
              </th>
              <th scope="col" className="px-3 py-2 text-right font-medium">
                Tokens/s
              </th>
              <th scope="col" className="px-3 py-2 text-right font-medium">
                Latency p50
              </th>
              <th scope="col" className="px-3 py-2 text-right font-medium">
                p99
              </th>
              <th scope="col" className="px-5 py-2 text-right font-medium">
                Recent mean
              </th>
            </tr>
          </thead>
          <tbody className="divide-y divide-line tabular-nums">
            {f.pools.map((p) => (
              <PoolRow key={p.pool} p={p} />
            ))}
          </tbody>
        </table>
      </ScrollArea>
    </Card>
  );
}

function PoolRow({ p }: { p: PoolFigures }) {
  return (
    <tr data-testid={`op-pool-${p.pool}`}>
      <th scope="row" className="px-5 py-2.5 font-medium">
        <Badge tone={p.pool}>{p.pool}</Badge>
      </th>
      <td className="px-3 py-2.5 text-right">{formatCount(p.requestsRun)}</td>
      <td className="px-3 py-2.5 text-right">{formatCount(p.requestsFailed)}</td>
      <td className="px-3 py-2.5 text-right">{formatRate(p.requestsPerSecond, 'req')}</td>
      <td className="px-3 py-2.5 text-right">{formatRate(p.tokensPerSecond, 'tok')}</td>
      <td className="px-3 py-2.5 text-right">{formatLatency(p.latencyP50)}</td>
      <td className="px-3 py-2.5 text-right">{formatLatency(p.latencyP99)}</td>
      <td className="px-5 py-2.5 text-right">{formatLatency(p.latencyMeanRecent)}</td>
    </tr>
  );
}

/** Work waiting: SQS queue depths when reported, and the engines' own queues. */
export function Queues({ f }: { f: OperatorFigures }) {
  return (
    <Card aria-labelledby="op-queues">
      <CardHeader id="op-queues" title="Queues" description="Work waiting to run" />
      <CardBody className="space-y-4">
        {f.queueDepths.size > 0 ? (
          <Pairs
            label="Messages in each queue"
            rows={[...f.queueDepths].map(([queue, n]) => [queue, formatCount(n)])}
            testId="op-queue-depth"
          />
        ) : (
          <p className="text-[13px] text-muted" data-testid="op-no-queue-depth">
            The runtime reports no SQS queue depths in /metrics; on AWS the CloudWatch dashboard shows them
            (depth and age of the oldest message).
          </p>
        )}
        <Pairs
          label="Inside the engine (last worker report)"
          rows={f.pools.map((p) => [
            p.pool,
            p.engineWaiting === undefined && p.engineRunning === undefined
              ? NONE
              : `${formatCount(p.engineWaiting)} waiting · ${formatCount(p.engineRunning)} running`,
          ])}
          testId="op-engine-queue"
        />
      </CardBody>
    </Card>
  );
}

/** What the scheduling policy decided at its last sweep: tasks per pool and batches by SLA state. */
export function PolicyDecisions({ f }: { f: OperatorFigures }) {
  const states = ['on_track', 'at_risk'] as const;
  return (
    <Card aria-labelledby="op-policy">
      <CardHeader
        id="op-policy"
        title="Scheduling policy"
        description="Its decisions at the last SLA sweep (every minute)"
      />
      <CardBody className="space-y-4">
        <Pairs
          label="Desired tasks per pool"
          rows={f.pools.map((p) => [p.pool, formatCount(p.desiredTasks)])}
          testId="op-desired"
        />
        <Pairs
          label="Running batches by SLA state"
          rows={states.map((s) => [
            s === 'on_track' ? 'On track' : 'At risk',
            formatCount(f.slaStates.get(s)),
          ])}
          testId="op-sla"
        />
        {f.activeByStatus.size > 0 ? (
          <Pairs
            label="Running batches by status"
            rows={[...f.activeByStatus].map(([status, n]) => [status.replace('_', ' '), formatCount(n)])}
            testId="op-active"
          />
        ) : null}
      </CardBody>
    </Card>
  );
}

function Pairs(props: { label: string; rows: [string, string][]; testId: string }) {
  return (
    <div>
      <p className="mb-1.5 text-xs font-medium text-muted">{props.label}</p>
      <dl className="grid grid-cols-2 gap-2">
        {props.rows.map(([k, v]) => (
          <div
            key={k}
            data-testid={props.testId}
            className="flex min-w-0 flex-wrap items-baseline justify-between gap-x-2 rounded-lg bg-surface-2/60 px-3 py-2"
          >
            <dt className="text-[13px] text-muted">{k}</dt>
            <dd className="text-sm font-semibold text-ink tabular-nums">{v}</dd>
          </div>
        ))}
      </dl>
    </div>
  );
}

/** Every family the runtime reported, for what the cards above do not show. */
export function AllSeries({ exp }: { exp: Exposition }) {
  const families = [...exp.values()].sort((a, b) => a.name.localeCompare(b.name));
  return (
    <Card aria-labelledby="op-all">
      <CardHeader
        id="op-all"
        title="All series"
        description={`${families.length} metric families reported`}
      />
      <details className="px-5 py-3">
        <summary className="cursor-pointer text-[13px] font-medium text-accent">Show every family</summary>
        <ul className="mt-2 divide-y divide-line text-[13px]">
          {families.map((f) => (
            <li key={f.name} className="flex flex-wrap items-baseline justify-between gap-x-3 py-1.5">
              <span className="min-w-0 font-mono text-xs break-all text-ink">{f.name}</span>
              <span className="text-xs text-muted">
                {f.type} · {f.samples.length} {f.samples.length === 1 ? 'sample' : 'samples'}
              </span>
            </li>
          ))}
        </ul>
      </details>
    </Card>
  );
}
