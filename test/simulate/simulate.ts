/**
 * `npm run simulate`: the policies of docs/policy.md over a day of batches and Spot
 * interruption traces, in simulated time. Prints a table and writes bench/simulate.json and
 * bench/simulate.md. Options: --seeds N (default 5), --spot-price USD, --on-demand-price USD,
 * --env dev|staging|prod (default prod).
 */
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { defaultPolicySettings } from '../../core/policy/index.js';
import { type SimPolicy, type SimResult, type SimSettings, simulate } from './engine.js';
import { type Summary, summarize } from './metrics.js';
import {
  allDedicated,
  allSpot,
  corePolicy,
  dedicatedWithPolicy,
  escalateAfterInterruption,
  oracle,
  todaysRule,
} from './policies.js';
import { deployment, instancePrices } from './prices.js';
import { burstyTrace, constantTrace, type InterruptionTrace } from './traces.js';
import { workloads } from './workload.js';

const { values } = parseArgs({
  options: {
    seeds: { type: 'string', default: '5' },
    'spot-price': { type: 'string' },
    'on-demand-price': { type: 'string' },
    env: { type: 'string', default: 'prod' },
  },
});

const envName = values.env as 'dev' | 'staging' | 'prod';
const dep = deployment(envName);
const listed = instancePrices[dep.instanceType];
if (!listed && (!values['spot-price'] || !values['on-demand-price'])) {
  throw new Error(`No prices recorded for ${dep.instanceType}: pass --spot-price and --on-demand-price`);
}
const prices = {
  spotPerTaskHour: Number(values['spot-price'] ?? listed?.spot),
  onDemandPerTaskHour: Number(values['on-demand-price'] ?? listed?.onDemand),
};
const HOUR = 3600;
const settings: SimSettings = {
  capacity: { spot: { min: 0, max: dep.spotMax }, dedicated: { min: 0, max: dep.dedicatedMax } },
  prices,
  requestsPerSecondPerTask: 10,
  startupSeconds: { spot: dep.startupSeconds, dedicated: dep.startupSeconds },
  tickSeconds: 60,
  idleGraceSeconds: 300,
  horizonSeconds: 72 * HOUR,
  model: dep.model,
};
const seeds = Array.from({ length: Number(values.seeds) }, (_, i) => i + 1);
const newPolicySettings = { taskStartupSeconds: dep.startupSeconds };

const policies = (): SimPolicy[] => [
  allDedicated,
  dedicatedWithPolicy(newPolicySettings),
  allSpot,
  escalateAfterInterruption,
  todaysRule(),
  corePolicy('new policy', newPolicySettings),
  oracle(newPolicySettings),
];
const traceNames = ['spot-5%/h', 'spot-10%/h', 'spot-20%/h', 'bursty'];
const traceFor = (name: string, seed: number): InterruptionTrace => {
  if (name === 'bursty') return burstyTrace(seed, 36 * HOUR);
  return constantTrace(Number(name.replace(/\D/g, '')) / 100);
};

const started = performance.now();
const summaries: (Summary & { workload: string })[] = [];
/** Per trace: the cost floor (every request on Spot at its price: no start-up, idle or loss) and its runs' dedicated cost. */
const floors = new Map<string, number>();
for (const [workloadName, makeWorkload] of Object.entries(workloads)) {
  for (const traceName of traceNames) {
    const runs = new Map<string, SimResult[]>();
    for (const seed of seeds) {
      const workload = makeWorkload(seed);
      const trace = traceFor(traceName, seed);
      for (const policy of policies()) {
        const result = simulate(policy, workload, trace, settings, seed);
        runs.set(policy.name, [...(runs.get(policy.name) ?? []), result]);
      }
    }
    const dedicatedCost = (runs.get('all-dedicated') ?? []).reduce((n, r) => n + r.cost, 0);
    const workHours = seeds
      .map(
        (seed) =>
          makeWorkload(seed).reduce((n, b) => n + b.requests, 0) / settings.requestsPerSecondPerTask / HOUR,
      )
      .reduce((a, b) => a + b, 0);
    floors.set(`${workloadName}/${traceName}`, (workHours * prices.spotPerTaskHour) / dedicatedCost);
    for (const list of runs.values())
      summaries.push({ workload: workloadName, ...summarize(list, dedicatedCost) });
  }
}
const elapsedS = (performance.now() - started) / 1000;

const pct = (x: number) => (Number.isFinite(x) ? `${(x * 100).toFixed(1)} %` : '∞');
const frac = (x: number) => (Number.isNaN(x) ? '–' : Number.isFinite(x) ? x.toFixed(2) : '∞');
const mins = (x: number) => (Number.isNaN(x) ? '–' : Number.isFinite(x) ? x.toFixed(1) : '∞');

const header = [
  'workload',
  'trace',
  'policy',
  'cost vs all-dedicated',
  'met window',
  'refused',
  'finish/window p50',
  'p99',
  'small-batch wait p50 (min)',
  'p99',
  'interruptions',
  'work lost (task-h)',
];
const rows = summaries.map((s) => [
  s.workload,
  s.trace,
  s.policy,
  pct(s.costVsDedicated),
  pct(s.metShare),
  String(s.rejected),
  frac(s.finishP50),
  frac(s.finishP99),
  mins(s.smallWaitP50Min),
  mins(s.smallWaitP99Min),
  String(s.interruptions),
  s.lostTaskHours.toFixed(1),
]);

const targets = Object.keys(workloads).flatMap((workload) =>
  traceNames.map((trace) => {
    const find = (policy: string) => {
      const found = summaries.find(
        (s) => s.workload === workload && s.trace === trace && s.policy === policy,
      );
      if (!found) throw new Error(`missing ${policy} on ${workload}/${trace}`);
      return found;
    };
    const mine = find('new policy');
    const best = find('oracle');
    const scaled = find('dedicated, policy scaling');
    return {
      workload,
      trace,
      everyBatchMet: mine.metShare === 1,
      costVsDedicated: mine.costVsDedicated,
      costAtMost40Percent: mine.costVsDedicated <= 0.4,
      costVsOracle: mine.cost / best.cost,
      within10PercentOfOracle: mine.cost <= 1.1 * best.cost,
      costVsDedicatedWithPolicyScaling: mine.cost / scaled.cost,
      costFloorVsDedicated: floors.get(`${workload}/${trace}`) ?? Number.NaN,
    };
  }),
);

const assumptions = {
  environment: envName,
  instanceType: dep.instanceType,
  region: 'us-east-1',
  prices,
  priceSource: values['spot-price']
    ? 'given on the command line'
    : `On-Demand: AWS's published list price for ${dep.instanceType}, Linux, us-east-1 (2025); Spot: ${listed?.spotNote}`,
  capacity: settings.capacity,
  taskStartupSeconds: dep.startupSeconds,
  requestsPerSecondPerTask: settings.requestsPerSecondPerTask,
  assumedRequestsPerSecondPerTask: defaultPolicySettings.assumedRequestsPerSecondPerTask,
  idleGraceSeconds: settings.idleGraceSeconds,
  seeds: seeds.join(', '),
  workloads: {
    daily: '3 x 400k/24h, 8 x 60k/4h, 4 x 20k/1h high, 2 x 150k/24h low, ~72 small (200-3,000)/1h, over 24 h',
    surge: '1M/24h low, 10 tenants x 30k/4h at once, 2 x 140k/1h high, ~72 small (100-2,000)/1h over 12 h',
  },
  interruption:
    'the chunk in flight is lost and queued again; the task is gone (a new one pays its start-up)',
};

const table = [header, ...rows];
const widths = header.map((_, i) => Math.max(...table.map((r) => (r[i] ?? '').length)));
const line = (r: string[]) => r.map((c, i) => c.padEnd(widths[i] ?? 0)).join('  ');
console.log(
  `openbatch policy simulation: ${dep.instanceType} On-Demand $${prices.onDemandPerTaskHour}/h, Spot $${prices.spotPerTaskHour}/h; ` +
    `${settings.capacity.spot.max} Spot + ${settings.capacity.dedicated.max} dedicated tasks max (${envName}); ` +
    `start-up ${dep.startupSeconds} s; ${seeds.length} seed(s); ${elapsedS.toFixed(1)} s`,
);
console.log(`prices: ${assumptions.priceSource}`);
console.log(line(header));
for (const r of rows) console.log(line(r));
console.log('\nnew policy against its targets:');
for (const t of targets) {
  console.log(
    `  ${t.workload.padEnd(6)} ${t.trace.padEnd(11)} every batch in its window: ${t.everyBatchMet ? 'yes' : 'NO'}; ` +
      `cost ${pct(t.costVsDedicated)} of all-dedicated (≤ 40 %: ${t.costAtMost40Percent ? 'yes' : 'NO'}); ` +
      `${(t.costVsOracle * 100).toFixed(1)} % of the oracle's cost (≤ 110 %: ${t.within10PercentOfOracle ? 'yes' : 'NO'}); ` +
      `${pct(t.costVsDedicatedWithPolicyScaling)} of dedicated with the policy's scaling; floor ${pct(t.costFloorVsDedicated)}`,
  );
}

writeFileSync('bench/simulate.json', `${JSON.stringify({ assumptions, summaries, targets }, null, 2)}\n`);
const md = [
  '# Policy simulation (`npm run simulate`)',
  '',
  `${dep.instanceType} in us-east-1: On-Demand $${prices.onDemandPerTaskHour} per task-hour, Spot $${prices.spotPerTaskHour}. ${assumptions.priceSource}.`,
  `Capacity: up to ${settings.capacity.spot.max} Spot and ${settings.capacity.dedicated.max} dedicated tasks (the ${envName} environment of cdk/config.ts), ` +
    `${dep.startupSeconds} s start-up per task, ${settings.requestsPerSecondPerTask} requests/s per busy task. ` +
    `Workloads (test/simulate/workload.ts): daily: ${assumptions.workloads.daily}; surge: ${assumptions.workloads.surge}; seeds ${seeds.join(', ')}. Interruption: ${assumptions.interruption}.`,
  '',
  ...markdownTable(header, rows),
  '',
  '## New policy against its targets',
  '',
  ...markdownTable(
    [
      'workload',
      'trace',
      'every batch in its window',
      'cost vs all-dedicated (≤ 40 %)',
      'cost vs oracle (≤ 110 %)',
      "cost vs dedicated with the policy's scaling",
      'cost floor vs all-dedicated',
    ],
    targets.map((t) => [
      t.workload,
      t.trace,
      t.everyBatchMet ? 'yes' : 'no',
      `${pct(t.costVsDedicated)} ${t.costAtMost40Percent ? '(met)' : '(not met)'}`,
      `${(t.costVsOracle * 100).toFixed(1)} % ${t.within10PercentOfOracle ? '(met)' : '(not met)'}`,
      pct(t.costVsDedicatedWithPolicyScaling),
      pct(t.costFloorVsDedicated),
    ]),
  ),
  '',
  'Cost floor: every request on Spot at its price, with no start-up, idle time or lost work. ' +
    '"dedicated, policy scaling": every chunk on On-Demand, scaled and ordered by core/policy (it is shown a Spot price above On-Demand\'s).',
  '',
];
writeFileSync('bench/simulate.md', md.join('\n'));

/** A Markdown table with padded columns, as the repository's formatter writes them. */
function markdownTable(head: readonly string[], body: readonly (readonly string[])[]): string[] {
  const all = [head, ...body];
  const widths = head.map((_, i) => Math.max(3, ...all.map((r) => (r[i] ?? '').length)));
  const row = (r: readonly string[]) => `| ${widths.map((w, i) => (r[i] ?? '').padEnd(w)).join(' | ')} |`;
  return [row(head), `| ${widths.map((w) => '-'.repeat(w)).join(' | ')} |`, ...body.map(row)];
}
