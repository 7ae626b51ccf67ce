/**
 * `npm run bench`: runs each scenario (BENCH_RUNS, comma-separated; default every scenario)
 * BENCH_REPEAT times (default 3), each run in a process of its own, prints the figures and
 * writes bench/results.json and bench/results.md with every run and, per figure, the median and
 * the min–max. Each run records the machine's load average and the CPU-seconds of every process
 * (openbatch's and the emulators'), since the machine may be shared.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { join, resolve } from 'node:path';
import { dedupScenarios, scenarios } from './batch-scenario.js';
import { median } from './figures.js';
import { saturationScenarios } from './saturation-scenario.js';

const root = process.cwd();
const scripts: Record<string, string> = {
  ...Object.fromEntries(Object.keys(scenarios).map((n) => [n, 'test/bench/batch-scenario.ts'])),
  ...Object.fromEntries(Object.keys(dedupScenarios).map((n) => [n, 'test/bench/batch-scenario.ts'])),
  ...Object.fromEntries(
    Object.keys(saturationScenarios).map((n) => [n, 'test/bench/saturation-scenario.ts']),
  ),
  // 20 small batches of one tenant while another's 100,000-request batch runs (issue 11).
  fairness: 'test/bench/fairness-scenario.ts',
  // A steady stream of small batches for SOAK_SECONDS (default 300): RSS growth per process.
  soak: 'test/bench/soak-scenario.ts',
};
const runs = (process.env.BENCH_RUNS ?? Object.keys(scripts).join(',')).split(',').filter(Boolean);
const repeat = Math.max(1, Number(process.env.BENCH_REPEAT ?? 3));
for (const name of runs)
  if (!scripts[name]) throw new Error(`unknown scenario ${name}; one of ${Object.keys(scripts).join(', ')}`);
const out = resolve(root, '.openbatch/bench');
mkdirSync(out, { recursive: true });

type Target = { atLeast: number } | { atMost: number };
interface RunRecord {
  scenario: string;
  description?: string;
  engine?: string;
  figures: Record<string, number>;
  targets?: Record<string, Target>;
  cpuSeconds?: Record<string, number>;
  loadAverage?: { before: number[]; after: number[]; meanDuring: number };
  [key: string]: unknown;
}
interface Summary {
  median: number;
  min: number;
  max: number;
  target?: Target;
  met?: boolean;
}
interface ScenarioResult {
  description?: string;
  engine?: string;
  repeats: number;
  summary: Record<string, Summary>;
  loadAverageMeanDuring: Summary;
  runs: RunRecord[];
}

const stat = (xs: number[]): Summary => ({
  median: Number(median(xs).toFixed(3)),
  min: Math.min(...xs),
  max: Math.max(...xs),
});
const meets = (value: number, t: Target): boolean =>
  'atLeast' in t ? value >= t.atLeast : value <= t.atMost;

const results: Record<string, ScenarioResult> = {};
for (const name of runs) {
  const records: RunRecord[] = [];
  for (let i = 1; i <= repeat; i++) {
    const file = join(out, `${name}-${i}.json`);
    console.log(
      `bench: ${name}, run ${i} of ${repeat} (load average ${loadavg()
        .map((l) => l.toFixed(2))
        .join(', ')}) …`,
    );
    const run = spawnSync(process.execPath, ['--import', 'tsx', scripts[name] as string, name, file], {
      stdio: 'inherit',
      cwd: root,
    });
    if (run.status !== 0) throw new Error(`bench scenario ${name} failed (${run.status})`);
    const record = JSON.parse(readFileSync(file, 'utf8')) as RunRecord;
    records.push({ ...record, loadAverageAfter: loadavg().map((l) => Number(l.toFixed(2))) });
    console.log(JSON.stringify(record.figures, null, 2));
  }
  const first = records[0] as RunRecord;
  const summary: Record<string, Summary> = {};
  for (const key of Object.keys(first.figures)) {
    const values = records.map((r) => r.figures[key]).filter((v): v is number => typeof v === 'number');
    if (values.length !== records.length) continue;
    const target = first.targets?.[key];
    const s = stat(values);
    summary[key] = target ? { ...s, target, met: meets(s.median, target) } : s;
  }
  results[name] = {
    ...(first.description ? { description: first.description } : {}),
    ...(first.engine ? { engine: first.engine } : {}),
    repeats: records.length,
    summary,
    loadAverageMeanDuring: stat(records.map((r) => r.loadAverage?.meanDuring ?? Number.NaN)),
    runs: records,
  };
}

const report = {
  date: new Date().toISOString(),
  machine: `${cpus().length} cores, ${Math.round(totalmem() / 1024 ** 3)} GiB, Node ${process.version}`,
  scenarios: results,
};
// Scenarios not run this time keep their last figures (with the date they were taken).
const previous = (() => {
  try {
    return JSON.parse(readFileSync(resolve(root, 'bench/results.json'), 'utf8')) as {
      date?: string;
      scenarios?: Record<string, unknown>;
    };
  } catch {
    return undefined;
  }
})();
const kept = Object.fromEntries(
  Object.entries(previous?.scenarios ?? {})
    .filter(([name, s]) => !(name in results) && typeof s === 'object' && s !== null && 'summary' in s)
    .map(([name, s]) => [name, { date: previous?.date, ...(s as object) }]),
);
const merged = { ...report, scenarios: { ...kept, ...results } };
// Against the same 1 KB requests at a tenth of the count (scale alone), and against the
// headline 160-byte run (scale and six times the bytes per request).
relateThroughput(merged.scenarios as Record<string, ScenarioResult>, 'batch-1m-presigned', 'batch-100k-1kb');
relateThroughput(merged.scenarios as Record<string, ScenarioResult>, 'batch-1m-presigned', 'batch-100k');
mkdirSync(resolve(root, 'bench'), { recursive: true });
writeFileSync(resolve(root, 'bench/results.json'), `${JSON.stringify(merged, null, 2)}\n`);
writeFileSync(resolve(root, 'bench/results.md'), markdown(merged));

/**
 * Issue 8's target for the big batch: its throughput within 20 % of the 100,000-request
 * figure, both as medians (whichever run of the other scenario is in results.json).
 */
function relateThroughput(all: Record<string, ScenarioResult>, big: string, base: string): void {
  const key = 'throughput, requests/s';
  const b = all[big]?.summary[key];
  const a = all[base]?.summary[key];
  if (!a || !b || !all[big]) return;
  const ratio = Number((b.median / a.median).toFixed(3));
  const target: Target = { atLeast: 0.8 };
  all[big].summary[`throughput relative to ${base} (median / median)`] = {
    median: ratio,
    min: ratio,
    max: ratio,
    target,
    met: meets(ratio, target),
  };
}

function fmt(x: number): string {
  return Math.abs(x) >= 100 ? Math.round(x).toLocaleString('en-US') : String(Number(x.toFixed(3)));
}

function markdown(r: { date: string; machine: string; scenarios: Record<string, unknown> }): string {
  const sections = Object.entries(r.scenarios as Record<string, ScenarioResult & { date?: string }>).map(
    ([name, s]) => {
      const rows = Object.entries(s.summary).map(([figure, v]) => {
        const target = v.target
          ? 'atLeast' in v.target
            ? `≥ ${fmt(v.target.atLeast)}`
            : `≤ ${fmt(v.target.atMost)}`
          : '';
        const met = v.met === undefined ? '' : v.met ? 'met' : '**not met**';
        return `| ${figure} | ${fmt(v.median)} | ${fmt(v.min)} – ${fmt(v.max)} | ${target} | ${met} |`;
      });
      const cpu = medianCpu(s.runs);
      return `## ${name}

${s.description ?? ''}${s.engine ? `. Engine: ${s.engine}` : ''}. ${s.repeats} runs${s.date ? ` (taken ${s.date})` : ''}; load average (1 min) during the runs: median ${fmt(s.loadAverageMeanDuring.median)}, ${fmt(s.loadAverageMeanDuring.min)} – ${fmt(s.loadAverageMeanDuring.max)}.

| figure | median | min – max | target | |
| --- | --- | --- | --- | --- |
${rows.join('\n')}

CPU-seconds per process during the measured runs (median):
${Object.entries(cpu)
  .map(([p, v]) => `${p} ${fmt(v)}`)
  .join('; ')}.
`;
    },
  );
  return `# Benchmark results

Produced by \`npm run bench\` on ${r.date} (${r.machine}). Every figure is the median of the
runs with their min – max; each run's full record (load average, CPU-seconds of every process,
AWS calls) is in \`bench/results.json\`. The machine may be shared: the load average says how busy
it was.

${sections.join('\n')}`;
}

/** Each process's median CPU-seconds over the runs (processes keyed without their pid). */
function medianCpu(records: readonly RunRecord[]): Record<string, number> {
  const by = new Map<string, number[]>();
  for (const r of records)
    for (const [k, v] of Object.entries(r.cpuSeconds ?? {})) by.set(k, [...(by.get(k) ?? []), v]);
  return Object.fromEntries([...by].map(([k, vs]) => [k, Number(median(vs).toFixed(2))]));
}
