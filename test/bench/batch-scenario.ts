/**
 * One batch scenario of `npm run bench`, in a process of its own so that its peak RSS is its
 * own: the input file is written to disk, uploaded with `openbatch upload` (pre-signed parts
 * straight to S3, the CLI in a child process), run as one batch through the local runtime with
 * an instant SIMULATED engine, and measured. Writes its figures as JSON to argv[3].
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import {
  createWriteStream,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { join, resolve } from 'node:path';
import { awsCalls } from '../../core/adapters/aws-clients.js';
import { startLocalRuntime } from '../../localstack/runtime/runtime.js';
import { sdk } from '../support/sdk.js';
import { runtimeProcesses, sampleLoad, since, snapshot } from './proc-stats.js';
import { callsMade, readWorkerReports } from './worker-reports.js';

export interface BatchScenario {
  name: string;
  requests: number;
  /** Approximate bytes per input line (the prompt is padded to reach it). */
  lineBytes: number;
  spotWorkers: number;
}

export const scenarios: Record<string, BatchScenario> = {
  'batch-100k': { name: 'batch-100k', requests: 100_000, lineBytes: 160, spotWorkers: 2 },
  // The 1,000,000-request run's lines at a tenth of the count: its scaling baseline.
  'batch-100k-1kb': { name: 'batch-100k-1kb', requests: 100_000, lineBytes: 1_000, spotWorkers: 2 },
  'batch-1m-presigned': { name: 'batch-1m-presigned', requests: 1_000_000, lineBytes: 1_000, spotWorkers: 2 },
};

const root = process.cwd();

/** Writes `n` chat requests of about `lineBytes` each, streaming: the file is never in memory. */
async function writeInput(path: string, n: number, lineBytes: number): Promise<number> {
  const out = createWriteStream(path);
  const pad = 'x'.repeat(Math.max(0, lineBytes - 150));
  for (let i = 0; i < n; i++) {
    const line = `${JSON.stringify({
      custom_id: `bench-${i}`,
      method: 'POST',
      url: '/v1/chat/completions',
      body: { model: 'bench-model', messages: [{ role: 'user', content: `Question ${i} ${pad}` }] },
    })}\n`;
    if (!out.write(line)) await once(out, 'drain');
  }
  out.end();
  await once(out, 'finish');
  return statSync(path).size;
}

/** Peak resident memory of a live process, from /proc. */
export function peakRssOf(pid: number): number | undefined {
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : undefined;
  } catch {
    return undefined;
  }
}

/** The largest peak RSS in a process and its descendants (an emulator runs under a watchdog). */
export function peakRssOfTree(pid: number): number | undefined {
  const children = new Map<number, number[]>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      // `pid (comm) state ppid …`: the command may hold spaces, so read after its closing parenthesis.
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      children.set(ppid, [...(children.get(ppid) ?? []), Number(entry)]);
    } catch {
      // gone meanwhile
    }
  }
  const peaks: number[] = [];
  const visit = (p: number) => {
    const rss = peakRssOf(p);
    if (rss !== undefined) peaks.push(rss);
    for (const c of children.get(p) ?? []) visit(c);
  };
  visit(pid);
  return peaks.length > 0 ? Math.max(...peaks) : undefined;
}

/** Runs `openbatch upload` as a user would, watching its peak RSS until it exits. */
async function uploadWithCli(file: string, baseUrl: string, apiKey: string, stateDir: string) {
  const started = performance.now();
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', resolve(root, 'cli/openbatch.ts'), 'upload', file, '--json', '--part-size', '16'],
    {
      env: {
        ...process.env,
        OPENAI_BASE_URL: baseUrl,
        OPENAI_API_KEY: apiKey,
        OPENBATCH_STATE_DIR: stateDir,
      },
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  let peak = 0;
  const watch = setInterval(() => {
    peak = Math.max(peak, child.pid ? (peakRssOf(child.pid) ?? 0) : 0);
  }, 100);
  let stdout = '';
  child.stdout.on('data', (d) => {
    stdout += d;
  });
  const [code] = (await once(child, 'exit')) as [number];
  clearInterval(watch);
  if (code !== 0) throw new Error(`openbatch upload exited ${code}`);
  const fileObject = JSON.parse(stdout) as { id: string; bytes: number };
  return { fileId: fileObject.id, seconds: (performance.now() - started) / 1000, peakRss: peak };
}

/**
 * The local runtime a batch scenario runs on: `spotWorkers` spot workers and one dedicated, an
 * instant SIMULATED engine, workers' call reports in `reportDir`, limits raised to `requests`.
 */
function benchRuntime(
  reportDir: string,
  spotWorkers: number,
  requests: number,
  env: Record<string, string> = {},
) {
  return startLocalRuntime({
    port: 0,
    apiKeys: { 'sk-bench': 'bench' },
    workers: { spot: spotWorkers, dedicated: 1 },
    env: {
      OPENBATCH_REPORT_DIR: reportDir,
      OPENBATCH_METRICS: 'off',
      LOG_LEVEL: process.env.BENCH_WORKER_LOG_LEVEL ?? 'warn',
      ENGINE_CONCURRENCY: '64',
      MAX_REQUESTS_PER_BATCH: String(Math.max(requests, 50_000)),
      // The SLA policy's assumed rate (default 5 requests/s) would call any batch above ~216,000
      // requests at risk on arrival and send it all to dedicated capacity; with an instant engine
      // the fleet does thousands a second, so the bench tells the policy so.
      SLA_ASSUMED_REQUESTS_PER_SECOND: '2000',
      ...(process.env.BENCH_WORKER_NODE_ARGS
        ? { OPENBATCH_WORKER_NODE_ARGS: process.env.BENCH_WORKER_NODE_ARGS }
        : {}),
      ...env,
    },
  });
}

export async function runBatchScenario(s: BatchScenario) {
  const load = sampleLoad();
  const work = resolve(root, '.openbatch/bench', s.name);
  const reportDir = join(work, 'reports');
  rmSync(work, { recursive: true, force: true });
  mkdirSync(reportDir, { recursive: true });
  const inputPath = join(work, 'input.jsonl');
  const inputBytes = await writeInput(inputPath, s.requests, s.lineBytes);

  // OpenAI's limits are 50,000 requests and 200 MB a batch; deployments raise them by configuration.
  const rt = await benchRuntime(reportDir, s.spotWorkers, s.requests, {
    MAX_BATCH_FILE_BYTES: String(Math.max(inputBytes, 200 * 1024 * 1024)),
  });
  try {
    const client = sdk(rt.url, 'sk-bench');
    const upload = await uploadWithCli(inputPath, `${rt.url}/v1`, 'sk-bench', join(work, 'state'));
    const callsBefore = awsCalls.total();
    const cpu = () => snapshot(runtimeProcesses(rt));
    const cpuBefore = cpu();

    const started = performance.now();
    const created = await client.batches.create({
      input_file_id: upload.fileId,
      endpoint: '/v1/chat/completions',
      completion_window: '24h',
    });
    let polls = 0;
    let batch = created;
    let inProgressAt = 0;
    let finalizingAt = 0;
    while (!['completed', 'failed', 'expired', 'cancelled'].includes(batch.status)) {
      await new Promise((r) => setTimeout(r, 200));
      batch = await client.batches.retrieve(created.id);
      polls += 1;
      if (!inProgressAt && batch.status !== 'validating') inProgressAt = performance.now();
      if (!finalizingAt && ['finalizing', 'completed'].includes(batch.status))
        finalizingAt = performance.now();
    }
    const wallS = (performance.now() - started) / 1000;
    const cpuSeconds = since(cpuBefore, cpu());
    if (batch.status !== 'completed' || batch.request_counts?.completed !== s.requests) {
      throw new Error(`${s.name}: batch ended ${batch.status} with ${JSON.stringify(batch.request_counts)}`);
    }
    await new Promise((r) => setTimeout(r, 1200)); // let workers write their last report

    // Each status poll is one GetItem made for the client: its choice, not a per-request cost.
    const runtimeCalls = awsCalls.total() - callsBefore - polls;
    const workers = readWorkerReports(reportDir);
    const workerCalls = workers.reduce((n, w) => n + callsMade(w.calls), 0);
    const total = runtimeCalls + workerCalls;
    const mb = (b: number | undefined) => (b === undefined ? undefined : Math.round(b / 1024 / 1024));
    const workerCpu = Object.entries(cpuSeconds)
      .filter(([k]) => k.startsWith('worker-'))
      .reduce((a, [, v]) => a + v, 0);
    // Every process's peak, openbatch's own first: the target is on the largest of those.
    const ours: Record<string, number | undefined> = {
      'runtime (gateway, event sources, timers)': mb(process.resourceUsage().maxRSS * 1024),
      ...Object.fromEntries(
        Object.entries(rt.functionPids()).map(([fn, pid]) => [
          `function ${fn}`,
          mb(pid ? peakRssOf(pid) : undefined),
        ]),
      ),
      'openbatch upload (CLI)': mb(upload.peakRss),
      ...Object.fromEntries(workers.map((w) => [`${w.label} (${w.pid})`, mb(w.maxRssBytes)])),
    };
    const peakRssMb = {
      ...ours,
      'moto emulator, S3 and SQS (not ours)': mb(
        rt.emulator.pid ? peakRssOfTree(rt.emulator.pid) : undefined,
      ),
      'DynamoDB Local (not ours)': mb(
        rt.dynamoDbLocal?.pid ? peakRssOfTree(rt.dynamoDbLocal.pid) : undefined,
      ),
    };
    const phases = {
      validationAndFanOutSeconds: Number(((inProgressAt - started) / 1000).toFixed(2)),
      workersSeconds: Number(((finalizingAt - inProgressAt) / 1000).toFixed(2)),
      finalizationSeconds: Number((wallS - (finalizingAt - started) / 1000).toFixed(2)),
    };
    const per1000 = Number(((total / s.requests) * 1000).toFixed(2));
    return {
      scenario: s.name,
      description: `one batch of ${s.requests.toLocaleString('en-US')} requests, uploaded with openbatch upload`,
      figures: {
        'wall time, batch create → completed, s': Number(wallS.toFixed(2)),
        'validation and fan-out, s': phases.validationAndFanOutSeconds,
        'workers, s': phases.workersSeconds,
        'finalization, s': phases.finalizationSeconds,
        'throughput, requests/s': Math.round(s.requests / wallS),
        'AWS calls per 1,000 requests': per1000,
        'worker CPU per request, ms (all workers)': Number(((workerCpu * 1000) / s.requests).toFixed(3)),
        'upload (openbatch upload, pre-signed parts), s': Number(upload.seconds.toFixed(2)),
        'peak RSS, largest worker, MB': mb(Math.max(...workers.map((w) => w.maxRssBytes))) ?? 0,
        'peak RSS, largest openbatch process (functions, workers, CLI, runtime), MB': Math.max(
          ...Object.values(ours).map((v) => v ?? 0),
        ),
        'peak RSS, bench process (runtime: gateway, event sources, timers), MB':
          mb(process.resourceUsage().maxRSS * 1024) ?? 0,
      },
      targets: {
        // The 1,000,000-request run's throughput is judged against batch-100k's (bench.ts).
        ...(s.name === 'batch-100k' ? { 'throughput, requests/s': { atLeast: 5_000 } } : {}),
        'AWS calls per 1,000 requests': { atMost: 5 },
        'peak RSS, largest openbatch process (functions, workers, CLI, runtime), MB': { atMost: 512 },
      },
      cpuSeconds,
      loadAverage: load.stop(),
      requests: s.requests,
      inputBytes,
      engine: 'SIMULATED, instant (0 ms latency)',
      workers: workers.map((w) => w.label).sort(),
      uploadSeconds: Number(upload.seconds.toFixed(2)),
      wallSeconds: Number(wallS.toFixed(2)),
      phases: {
        validationAndFanOutSeconds: Number(((inProgressAt - started) / 1000).toFixed(2)),
        workersSeconds: Number(((finalizingAt - inProgressAt) / 1000).toFixed(2)),
        finalizationSeconds: Number((wallS - (finalizingAt - started) / 1000).toFixed(2)),
      },
      requestsPerSecond: Math.round(s.requests / wallS),
      awsCalls: {
        total,
        per1000Requests: Number(((total / s.requests) * 1000).toFixed(2)),
        clientStatusPollsExcluded: polls,
        runtimeProcess: awsCalls.snapshot(),
        workers: Object.fromEntries(workers.map((w) => [`${w.label} (${w.pid})`, w.calls])),
      },
      peakRssMb,
    };
  } finally {
    await rt.close();
    rmSync(inputPath, { force: true });
  }
}

/**
 * The dedup variant (docs/dedup.md): one batch of `requests` deterministic requests (temperature
 * 0) with deduplication on and an empty index (no hits), then a second batch whose even lines
 * repeat the first's and odd lines are new (50 % hits). AWS calls per 1,000 requests are counted
 * for each batch alone (functions and workers, status polls excluded), with the reuse rate.
 */
export interface DedupScenario {
  name: string;
  requests: number;
  spotWorkers: number;
}

export const dedupScenarios: Record<string, DedupScenario> = {
  'batch-100k-dedup': { name: 'batch-100k-dedup', requests: 100_000, spotWorkers: 2 },
};

async function writeDedupInput(path: string, n: number, second: boolean): Promise<void> {
  const out = createWriteStream(path);
  for (let i = 0; i < n; i++) {
    const content = second && i % 2 === 1 ? `New question ${i}` : `Question ${i}`;
    const line = `${JSON.stringify({
      custom_id: `${second ? 'b' : 'a'}-${i}`,
      method: 'POST',
      url: '/v1/chat/completions',
      body: { model: 'bench-model', temperature: 0, messages: [{ role: 'user', content }] },
    })}\n`;
    if (!out.write(line)) await once(out, 'drain');
  }
  out.end();
  await once(out, 'finish');
}

/** Every worker's AWS calls so far by command (their reports are cumulative), empty receives left out. */
function workerCallsIn(reportDir: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const w of readWorkerReports(reportDir))
    for (const [k, v] of Object.entries(w.calls)) if (!k.endsWith('(empty)')) out[k] = (out[k] ?? 0) + v;
  return out;
}

const minus = (after: Record<string, number>, before: Record<string, number>) =>
  Object.fromEntries(
    Object.entries(after)
      .map(([k, v]) => [k, v - (before[k] ?? 0)] as const)
      .filter(([, v]) => v !== 0),
  );

export async function runDedupScenario(s: DedupScenario) {
  const load = sampleLoad();
  const work = resolve(root, '.openbatch/bench', s.name);
  const reportDir = join(work, 'reports');
  rmSync(work, { recursive: true, force: true });
  mkdirSync(reportDir, { recursive: true });
  const inputs = [join(work, 'first.jsonl'), join(work, 'second.jsonl')] as const;
  await writeDedupInput(inputs[0], s.requests, false);
  await writeDedupInput(inputs[1], s.requests, true);
  const rt = await benchRuntime(reportDir, s.spotWorkers, s.requests);
  try {
    const client = sdk(rt.url, 'sk-bench');
    const files = [];
    for (const [i, path] of inputs.entries())
      files.push(await uploadWithCli(path, `${rt.url}/v1`, 'sk-bench', join(work, `state-${i}`)));
    const runs = [];
    for (const file of files) {
      const runtimeBefore = awsCalls.snapshot();
      const workersBefore = workerCallsIn(reportDir);
      const started = performance.now();
      const created = await client.batches.create({
        input_file_id: file.fileId,
        endpoint: '/v1/chat/completions',
        completion_window: '24h',
      });
      let batch = created;
      let polls = 0;
      while (!['completed', 'failed', 'expired', 'cancelled'].includes(batch.status)) {
        await new Promise((r) => setTimeout(r, 200));
        batch = await client.batches.retrieve(created.id);
        polls += 1;
      }
      const wallS = (performance.now() - started) / 1000;
      if (batch.status !== 'completed' || batch.request_counts?.completed !== s.requests)
        throw new Error(
          `${s.name}: batch ended ${batch.status} with ${JSON.stringify(batch.request_counts)}`,
        );
      await new Promise((r) => setTimeout(r, 1200)); // the workers' next reports
      // Per command: the workers' own, and the runtime's (functions, event sources) with the polls.
      const workers = minus(workerCallsIn(reportDir), workersBefore);
      const runtime = minus(awsCalls.snapshot(), runtimeBefore);
      const calls = callsMade(runtime) - polls + callsMade(workers);
      const reused = (batch as unknown as { openbatch: { reused: number } }).openbatch.reused;
      runs.push({ wallS, calls, polls, reused, workers, runtime });
    }
    const [first, second] = runs as [(typeof runs)[number], (typeof runs)[number]];
    const per1000 = (calls: number) => Number(((calls / s.requests) * 1000).toFixed(2));
    return {
      scenario: s.name,
      description: `two batches of ${s.requests.toLocaleString('en-US')} requests (temperature 0) with deduplication on: the first against an empty index, the second repeating every other request of the first`,
      figures: {
        'AWS calls per 1,000 requests, dedup on, no hits': per1000(first.calls),
        'AWS calls per 1,000 requests, dedup on, 50 % hits': per1000(second.calls),
        'reuse rate, second batch': Number((second.reused / s.requests).toFixed(4)),
        'reused requests, first batch': first.reused,
        'wall time, first batch, s': Number(first.wallS.toFixed(2)),
        'wall time, second batch, s': Number(second.wallS.toFixed(2)),
      },
      targets: {
        'AWS calls per 1,000 requests, dedup on, no hits': { atMost: 10 },
        'reuse rate, second batch': { atLeast: 0.5 },
      },
      loadAverage: load.stop(),
      requests: s.requests,
      engine: 'SIMULATED, instant (0 ms latency)',
      awsCalls: { first, second },
    };
  } finally {
    await rt.close();
    for (const path of inputs) rmSync(path, { force: true });
  }
}

if (process.argv[1] && resolve(process.argv[1]) === resolve(root, 'test/bench/batch-scenario.ts')) {
  const name = process.argv[2] ?? '';
  const scenario = scenarios[name];
  const dedup = dedupScenarios[name];
  if (!scenario && !dedup)
    throw new Error(
      `unknown scenario ${name}; one of ${[...Object.keys(scenarios), ...Object.keys(dedupScenarios)].join(', ')}`,
    );
  const result = dedup ? await runDedupScenario(dedup) : await runBatchScenario(scenario as BatchScenario);
  writeFileSync(process.argv[3] as string, JSON.stringify(result));
}
