/**
 * `npm run chaos`: every scenario of scenarios.ts, a few runs each, with larger batches than the
 * short version in `npm test` (chaos.test.ts). Prints one line per run and the table, writes
 * bench/chaos.json and bench/chaos.md, and exits 1 when any run lost, duplicated or left
 * something behind.
 *
 *   CHAOS_RUNS=3             runs per scenario
 *   CHAOS_SCENARIOS=a,b      only these scenarios
 *   CHAOS_SIZE=full|short    batch sizes (short: those of `npm test`)
 *   CHAOS_OUT=bench          where the report goes (empty: nowhere)
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { resolve } from 'node:path';
import { type RunRecord, summarize, table } from './check.js';
import { RestartTarget, runRestart, runShared, SharedRuntime, type Sizes } from './harness.js';
import { BASE_ENV, scenarios, VISIBILITY_TIMEOUT_SECONDS } from './scenarios.js';

process.env.LOG_LEVEL ??= 'warn';
process.env.OPENBATCH_METRICS ??= 'off';

const runs = Number(process.env.CHAOS_RUNS ?? 3);
const only = (process.env.CHAOS_SCENARIOS ?? '').split(',').filter(Boolean);
const size = process.env.CHAOS_SIZE === 'short' ? 'short' : 'full';
const out = process.env.CHAOS_OUT ?? 'bench';
const selected = scenarios.filter((s) => only.length === 0 || only.includes(s.name));
const sizes: Sizes = {
  size,
  workers: { spot: 2, dedicated: 1 },
  terminalTimeoutMs: 300_000,
  settleTimeoutMs: 30_000,
};

const records: RunRecord[] = [];
const settingsText = (env: Record<string, string>) =>
  Object.entries(env)
    .map(([k, v]) => `\`${k}=${v}\``)
    .join(', ');
const report = (r: RunRecord) => {
  records.push(r);
  const time = r.secondsToTerminal === null ? 'not terminal' : `${r.secondsToTerminal.toFixed(1)} s`;
  const faults = Object.entries(r.faults)
    .map(([k, v]) => `${k} ${v}`)
    .join(', ');
  const timings = Object.entries(r.timings ?? {})
    .map(([k, v]) => `${k} at ${v.toFixed(1)} s`)
    .join(', ');
  console.log(
    `chaos: ${r.scenario} #${r.run + 1}: ${r.status} in ${time}, lost ${r.lost}, duplicated ${r.duplicated}` +
      `, leftovers ${r.leftovers}; faults: ${faults || 'none'}${timings ? ` (${timings})` : ''}${r.problems.length ? `\n  PROBLEMS: ${r.problems.join('\n  ')}` : ''}`,
  );
};

const startedAt = Date.now();
const shared = selected.filter((s) => s.kind === 'shared');
if (shared.length > 0) {
  console.log('chaos: starting the shared local runtime …');
  const rt = await SharedRuntime.start(sizes.workers);
  try {
    for (const scenario of shared)
      for (let run = 0; run < runs; run++) report(await runShared(rt, scenario, run, sizes));
  } finally {
    await rt.close();
  }
}
for (const scenario of selected.filter((s) => s.kind === 'restart')) {
  console.log(`chaos: ${scenario.name}: starting main.ts on a data directory …`);
  const target = new RestartTarget(scenario.env, sizes.workers);
  try {
    for (let run = 0; run < runs; run++) report(await runRestart(target, scenario, run, sizes));
  } finally {
    await target.close();
  }
}

const summaries = summarize(records);
const text = table(summaries);
console.log(`\n${text}\n`);

if (out) {
  const command = `CHAOS_RUNS=${runs}${only.length ? ` CHAOS_SCENARIOS=${only.join(',')}` : ''}${size === 'short' ? ' CHAOS_SIZE=short' : ''} npm run chaos`;
  const machine = `${cpus().length} cores, ${Math.round(totalmem() / 1024 ** 3)} GiB, Node ${process.version}`;
  const date = new Date().toISOString();
  // What ran: the commit, and how many files differed from it (other work in progress included).
  const git = (...args: string[]) => spawnSync('git', args, { encoding: 'utf8' }).stdout.trim();
  const changed = git('status', '--porcelain', '--', '.', `:!${out}/chaos.json`, `:!${out}/chaos.md`)
    .split('\n')
    .filter(Boolean).length;
  const revision = `${git('rev-parse', '--short', 'HEAD')}${changed ? ` + ${changed} uncommitted files` : ''}`;
  const setup = {
    workers: sizes.workers,
    visibilityTimeoutSeconds: VISIBILITY_TIMEOUT_SECONDS,
    slaMonitorEverySeconds: 5,
    env: BASE_ENV,
  };
  mkdirSync(resolve(out), { recursive: true });
  writeFileSync(
    resolve(out, 'chaos.json'),
    `${JSON.stringify(
      {
        date,
        machine,
        command,
        revision,
        wallSeconds: Math.round((Date.now() - startedAt) / 1000),
        setup,
        scenarios: selected.map((s) => ({
          name: s.name,
          fault: s.fault,
          env: s.env,
          requests: s.requests[size],
        })),
        summary: summaries,
        runs: records,
      },
      null,
      2,
    )}\n`,
  );
  const md = [
    '# Chaos suite',
    '',
    `\`${command}\` on ${machine}, ${date.slice(0, 10)}, at ${revision} (${Math.round((Date.now() - startedAt) / 60_000)} min).`,
    '',
    'For every run: the batch reaches a terminal state; every input `custom_id` is in exactly one line of',
    'the output and error files; `request_counts` match the files; no queue or DLQ holds a message after',
    'a settle of at most 30 s. Target: 0 lost, 0 duplicated, every run terminal.',
    '',
    text,
    '',
    '## Scenarios',
    '',
    `Every runtime: ${settingsText(BASE_ENV)}; workers ${sizes.workers.spot} spot + ${sizes.workers.dedicated} dedicated.`,
    `The shared runtime (every scenario but the restart): chunk visibility ${VISIBILITY_TIMEOUT_SECONDS} s, SLA monitor every 5 s.`,
    'The restart scenario runs main.ts as `npm start` does (chunk visibility 30 s, SLA monitor every minute).',
    '',
    ...selected.map((s) => {
      const env = Object.keys(s.env).length ? `; ${settingsText(s.env)}` : '';
      return `- **${s.name}** (${s.requests[size]} requests${env}): ${s.fault}.`;
    }),
    '',
    ...(records.some((r) => r.problems.length)
      ? [
          '## Problems',
          '',
          ...records.flatMap((r) =>
            r.problems.map((p) => `- ${r.scenario} #${r.run + 1} (${r.batchId}): ${p}`),
          ),
          '',
        ]
      : []),
  ].join('\n');
  writeFileSync(resolve(out, 'chaos.md'), md);
}

process.exit(records.every((r) => r.problems.length === 0) ? 0 : 1);
