/**
 * `npm run bench`: runs each scenario in a process of its own (BENCH_RUNS, comma-separated;
 * default every scenario), prints the figures and writes bench/results.json and
 * bench/results.md, which the README quotes.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { join, resolve } from 'node:path';
import { scenarios } from './batch-scenario.js';

const root = process.cwd();
const runs = (process.env.BENCH_RUNS ?? Object.keys(scenarios).join(',')).split(',').filter(Boolean);
const out = resolve(root, '.openbatch/bench');
mkdirSync(out, { recursive: true });

const results: Record<string, unknown> = {};
for (const name of runs) {
  const file = join(out, `${name}.json`);
  console.log(`bench: ${name} …`);
  const run = spawnSync(process.execPath, ['--import', 'tsx', 'test/bench/batch-scenario.ts', name, file], {
    stdio: 'inherit',
    cwd: root,
  });
  if (run.status !== 0) throw new Error(`bench scenario ${name} failed (${run.status})`);
  results[name] = {
    ...JSON.parse(readFileSync(file, 'utf8')),
    loadAverageAfter: loadavg().map((l) => Number(l.toFixed(2))),
  };
  console.log(JSON.stringify(results[name], null, 2));
}

const report = {
  date: new Date().toISOString(),
  machine: `${cpus().length} cores, ${Math.round(totalmem() / 1024 ** 3)} GiB, Node ${process.version}`,
  scenarios: results,
};
// Scenarios not run this time keep their last figures.
const previous = (() => {
  try {
    return JSON.parse(readFileSync(resolve(root, 'bench/results.json'), 'utf8')) as typeof report;
  } catch {
    return undefined;
  }
})();
const merged = { ...report, scenarios: { ...(previous?.scenarios ?? {}), ...results } };
mkdirSync(resolve(root, 'bench'), { recursive: true });
writeFileSync(resolve(root, 'bench/results.json'), `${JSON.stringify(merged, null, 2)}\n`);
writeFileSync(resolve(root, 'bench/results.md'), markdown(merged));

type Scenario = {
  requests: number;
  inputBytes: number;
  engine: string;
  workers: string[];
  uploadSeconds: number;
  wallSeconds: number;
  phases: Record<string, number>;
  requestsPerSecond: number;
  awsCalls: { total: number; per1000Requests: number; clientStatusPollsExcluded: number };
  peakRssMb: Record<string, number | undefined>;
  loadAverageAfter: number[];
};

function markdown(r: { date: string; machine: string; scenarios: Record<string, unknown> }): string {
  const sections = Object.entries(r.scenarios as Record<string, Scenario>).map(
    ([name, s]) => `## ${name}

| figure | value |
| --- | --- |
| requests | ${s.requests.toLocaleString('en-US')} (${Math.round(s.inputBytes / 1024 / 1024)} MB input) |
| engine | ${s.engine} |
| workers | ${s.workers.join(', ')} |
| upload, \`openbatch upload\` (pre-signed parts) | ${s.uploadSeconds} s |
| wall time, batch create → completed | ${s.wallSeconds} s |
| of which: validation and fan-out, workers, finalization | ${Object.values(s.phases)
      .map((v) => `${v} s`)
      .join(', ')} |
| throughput | ${s.requestsPerSecond} requests/s |
| AWS calls, all processes | ${s.awsCalls.total} (${s.awsCalls.clientStatusPollsExcluded} client status polls excluded) |
| AWS calls per 1,000 requests | ${s.awsCalls.per1000Requests} |
${Object.entries(s.peakRssMb)
  .filter(([, v]) => v !== undefined)
  .map(([k, v]) => `| peak RSS, ${k} | ${v} MB |`)
  .join('\n')}
| load average after (1, 5, 15 min) | ${s.loadAverageAfter.join(', ')} |
`,
  );
  return `# Benchmark results

Produced by \`npm run bench\` on ${r.date} (${r.machine}). Per-command call counts are in
\`bench/results.json\`.

${sections.join('\n')}`;
}
