/**
 * The saturation scenarios of `npm run bench`: does openbatch keep an engine as busy as a
 * client that talks to it directly? A FAKE ENGINE (test/support/fake-engine-server.ts, a process
 * of its own) answers after a fixed latency and runs at most C requests at once, queueing the
 * rest. The same requests go once through a keep-alive direct client (C connections, C in
 * flight) and once through openbatch (the local runtime, one spot worker pointed at the engine
 * with ENGINE_URL and ENGINE_CONCURRENCY = C). T_direct is the direct client's first request to
 * its last answer; T_openbatch is batch create to `completed` as a client polling the API sees it.
 *
 * Scenarios: `saturation-c64` and `saturation-c256` (N = 10,000 and N = 200 each),
 * `small-batches-c64` (200 batches of 50 lines at once), `head-of-line-c64` (a 50-line batch
 * created behind a 10,000-line one, against the same batch alone). Writes its record as JSON to
 * argv[3].
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import type OpenAI from 'openai';
import { toFile } from 'openai';
import type { Batch } from 'openai/resources/batches';
import { Pool } from 'undici';
import { awsCalls } from '../../core/adapters/aws-clients.js';
import { type LocalRuntime, startLocalRuntime } from '../../localstack/runtime/runtime.js';
import { type FakeEngineStats, preciseNow } from '../support/fake-engine-server.js';
import { sdk } from '../support/sdk.js';
import { r2, r3 } from './figures.js';
import { type CpuSnapshot, runtimeProcesses, sampleLoad, since, snapshot } from './proc-stats.js';
import { callsMade, readWorkerReports } from './worker-reports.js';

const root = process.cwd();
const LATENCY_MS = Number(process.env.BENCH_ENGINE_LATENCY_MS ?? 200);
const ENDED = ['completed', 'failed', 'expired', 'cancelled'];

export type Target = { atLeast: number } | { atMost: number };

export interface ScenarioRecord {
  scenario: string;
  description: string;
  engine: string;
  /** Headline figures, each a number: the bench reports their median and spread over repeats. */
  figures: Record<string, number>;
  targets: Record<string, Target>;
  /** CPU-seconds of each process over the openbatch runs of the scenario. */
  cpuSeconds: Record<string, number>;
  loadAverage: { before: number[]; after: number[]; meanDuring: number };
  awsCalls?: { total: number; per1000Requests: number };
  details?: Record<string, unknown>;
}

type SaturationName = 'saturation-c64' | 'saturation-c256' | 'small-batches-c64' | 'head-of-line-c64';
export const saturationScenarios: Record<SaturationName, { capacity: number; description: string }> = {
  'saturation-c64': {
    capacity: 64,
    description: 'N = 10,000 and N = 200, one batch each, engine capacity C = 64',
  },
  'saturation-c256': {
    capacity: 256,
    description: 'N = 10,000 and N = 200, one batch each, engine capacity C = 256',
  },
  'small-batches-c64': { capacity: 64, description: '200 batches of 50 lines created at once, C = 64' },
  'head-of-line-c64': {
    capacity: 64,
    description: 'a 50-line batch created behind a 10,000-line batch, against the same batch alone, C = 64',
  },
};

/** `n` chat request lines, `prefix` keeping custom ids unique across files. */
export const linesOf = (n: number, prefix: string): string[] =>
  Array.from({ length: n }, (_, i) =>
    JSON.stringify({
      custom_id: `${prefix}-${i}`,
      method: 'POST',
      url: '/v1/chat/completions',
      body: { model: 'bench-model', messages: [{ role: 'user', content: `Question ${i} of ${prefix}` }] },
    }),
  );

interface EngineProcess {
  url: string;
  pid: number;
  child: ChildProcess;
  stats(): Promise<FakeEngineStats>;
  reset(): Promise<void>;
  stop(): Promise<void>;
}

async function startEngineProcess(capacity: number): Promise<EngineProcess> {
  const child = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      resolve(root, 'test/support/fake-engine-server.ts'),
      '--latency',
      String(LATENCY_MS),
      '--capacity',
      String(capacity),
      '--overflow',
      'queue',
    ],
    { stdio: ['pipe', 'pipe', 'inherit'] },
  );
  const first = (await once(createInterface({ input: child.stdout as NodeJS.ReadableStream }), 'line')) as [
    string,
  ];
  const { url, pid } = JSON.parse(first[0]) as { url: string; pid: number };
  const control = new Pool(url, { connections: 1 });
  const call = async (path: string, method: 'GET' | 'POST') => {
    const res = await control.request({ path, method });
    return (await res.body.json()) as unknown;
  };
  return {
    url,
    pid,
    child,
    stats: async () => (await call('/__fake/stats', 'GET')) as FakeEngineStats,
    reset: async () => {
      await call('/__fake/reset', 'POST');
    },
    stop: async () => {
      await control.close();
      child.stdin?.end();
      if (child.exitCode === null) await once(child, 'exit');
    },
  };
}

/** Sends every line's body straight to the engine: C keep-alive connections, C requests in flight. */
async function runDirect(url: string, lines: readonly string[], concurrency: number) {
  const pool = new Pool(url, { connections: concurrency, pipelining: 1 });
  let next = 0;
  let ok = 0;
  const cpu = process.cpuUsage();
  const started = preciseNow();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < lines.length) {
        const line = JSON.parse(lines[next++] as string) as { url: string; body: unknown };
        const res = await pool.request({
          path: line.url,
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify(line.body),
        });
        JSON.parse(await res.body.text());
        if (res.statusCode === 200) ok += 1;
      }
    }),
  );
  const seconds = (preciseNow() - started) / 1000;
  const used = process.cpuUsage(cpu);
  await pool.close();
  if (ok !== lines.length) throw new Error(`direct client: ${ok} of ${lines.length} answered 200`);
  return { seconds, cpuMsPerRequest: (used.user + used.system) / 1000 / lines.length };
}

async function uploadLines(client: OpenAI, lines: readonly string[], name: string): Promise<string> {
  const file = await client.files.create({
    file: await toFile(Buffer.from(`${lines.join('\n')}\n`), `${name}.jsonl`),
    purpose: 'batch',
  });
  return file.id;
}

const create = (client: OpenAI, fileId: string) =>
  client.batches.create({
    input_file_id: fileId,
    endpoint: '/v1/chat/completions',
    completion_window: '24h',
  });

/**
 * Polls one batch until it ends; the time (epoch ms) the client saw it end. Every `everyMs`, or,
 * given `nearlyDone`, every 500 ms until it says the end is near and every 25 ms after: status
 * polls cost the API function and DynamoDB Local CPU that the run itself needs.
 */
async function untilEnded(
  client: OpenAI,
  id: string,
  everyMs: number,
  nearlyDone?: () => Promise<boolean>,
): Promise<{ batch: Batch; at: number; polls: number }> {
  let polls = 0;
  let near = !nearlyDone;
  let lastPoll = 0;
  for (;;) {
    if (near || preciseNow() - lastPoll >= 500) {
      const batch = await client.batches.retrieve(id);
      polls += 1;
      lastPoll = preciseNow();
      if (ENDED.includes(batch.status)) return { batch, at: lastPoll, polls };
    }
    if (!near && nearlyDone) near = await nearlyDone();
    await new Promise((r) => setTimeout(r, near ? (nearlyDone ? 25 : everyMs) : 100));
  }
}

function expectCompleted(batch: Batch, n: number, what: string): void {
  if (batch.status !== 'completed' || batch.request_counts?.completed !== n)
    throw new Error(`${what}: batch ended ${batch.status} with ${JSON.stringify(batch.request_counts)}`);
}

interface Harness {
  rt: LocalRuntime;
  client: OpenAI;
  engine: EngineProcess;
  reportDir: string;
  cpu(): CpuSnapshot;
}

async function harness(name: string, capacity: number): Promise<Harness> {
  const work = resolve(root, '.openbatch/bench', name);
  const reportDir = join(work, 'reports');
  rmSync(work, { recursive: true, force: true });
  mkdirSync(reportDir, { recursive: true });
  const engine = await startEngineProcess(capacity);
  const rt = await startLocalRuntime({
    port: 0,
    apiKeys: { 'sk-bench': 'bench' },
    // One spot worker per engine, as on AWS (a GPU task runs its engine beside its worker).
    workers: { spot: 1, dedicated: 0 },
    workerLog: join(work, 'workers.log'),
    env: {
      OPENBATCH_REPORT_DIR: reportDir,
      OPENBATCH_METRICS: 'off',
      LOG_LEVEL: process.env.BENCH_WORKER_LOG_LEVEL ?? 'warn',
      ENGINE_URL: engine.url,
      ENGINE_CONCURRENCY: String(capacity),
      ...(process.env.BENCH_CHUNKS_IN_PARALLEL
        ? { CHUNKS_IN_PARALLEL: process.env.BENCH_CHUNKS_IN_PARALLEL }
        : {}),
      ...(process.env.BENCH_WORKER_NODE_ARGS
        ? { OPENBATCH_WORKER_NODE_ARGS: process.env.BENCH_WORKER_NODE_ARGS }
        : {}),
    },
  });
  const client = sdk(rt.url, 'sk-bench');
  // A first batch warms every process up (module loading, JIT, connections): not measured.
  const warm = await untilEnded(
    client,
    (await create(client, await uploadLines(client, linesOf(20, 'warm-up'), 'warm-up'))).id,
    100,
  );
  expectCompleted(warm.batch, 20, 'warm-up batch');
  const cpu = () =>
    snapshot({
      ...runtimeProcesses(rt),
      'FAKE ENGINE (not ours)': { pid: engine.pid },
    });
  return { rt, client, engine, reportDir, cpu };
}

/** Worker AWS calls from the report files, without empty long polls. */
function workerCalls(reportDir: string): number {
  return readWorkerReports(reportDir).reduce((n, w) => n + callsMade(w.calls), 0);
}

const add = (into: Record<string, number>, more: Record<string, number>) => {
  for (const [k, v] of Object.entries(more)) into[k] = r2((into[k] ?? 0) + v);
};

/** One batch of `lines` through openbatch, timed against the engine's own clock. */
async function oneBatch(h: Harness, fileId: string, n: number, cpuTotals: Record<string, number>) {
  await h.engine.reset();
  const before = h.cpu();
  const started = preciseNow();
  const created = await create(h.client, fileId);
  const { batch, at, polls } = await untilEnded(
    h.client,
    created.id,
    25,
    async () => (await h.engine.stats()).answered >= n,
  );
  const after = h.cpu();
  expectCompleted(batch, n, `openbatch N=${n}`);
  const stats = await h.engine.stats();
  const used = since(before, after);
  add(cpuTotals, used);
  const workerCpu = Object.entries(used)
    .filter(([k]) => k.startsWith('worker-'))
    .reduce((a, [, v]) => a + v, 0);
  return {
    seconds: (at - started) / 1000,
    createToFirstRequest: ((stats.firstRequestAt ?? at) - started) / 1000,
    lastAnswerToCompleted: (at - (stats.lastAnswerAt ?? at)) / 1000,
    maxOutstanding: stats.maxOutstanding,
    meanOutstanding: stats.meanOutstanding,
    timeline: stats.timeline,
    connections: stats.connections,
    workerCpuMsPerRequest: (workerCpu * 1000) / n,
    polls,
  };
}

async function saturation(name: SaturationName, capacity: number): Promise<ScenarioRecord> {
  const load = sampleLoad();
  const h = await harness(name, capacity);
  const figures: Record<string, number> = {};
  const targets: Record<string, Target> = {};
  const cpuTotals: Record<string, number> = {};
  const timelines: Record<string, number[]> = {};
  try {
    const callsBefore = awsCalls.total();
    let polls = 0;
    let requests = 0;
    for (const n of [10_000, 200]) {
      const lines = linesOf(n, `n${n}`);
      const fileId = await uploadLines(h.client, lines, `n${n}`);
      await h.engine.reset();
      const direct = await runDirect(h.engine.url, lines, capacity);
      const directStats = await h.engine.stats();
      const ob = await oneBatch(h, fileId, n, cpuTotals);
      polls += ob.polls;
      requests += n;
      timelines[`N=${n}, direct`] = directStats.timeline;
      timelines[`N=${n}, openbatch`] = ob.timeline;
      const k = `N=${n}`;
      Object.assign(figures, {
        [`${k}: T_direct, s`]: r2(direct.seconds),
        [`${k}: T_openbatch (create → completed), s`]: r2(ob.seconds),
        [`${k}: T_direct / T_openbatch`]: r3(direct.seconds / ob.seconds),
        [`${k}: create → first engine request, s`]: r3(ob.createToFirstRequest),
        [`${k}: last engine answer → completed seen, s`]: r3(ob.lastAnswerToCompleted),
        [`${k}: most requests outstanding at the engine, openbatch`]: ob.maxOutstanding,
        [`${k}: most requests outstanding at the engine, direct`]: directStats.maxOutstanding,
        [`${k}: mean requests outstanding, first request → last answer, openbatch`]: ob.meanOutstanding,
        [`${k}: mean requests outstanding, first request → last answer, direct`]: directStats.meanOutstanding,
        [`${k}: connections opened by the worker`]: ob.connections,
        [`${k}: worker CPU per request, ms`]: r3(ob.workerCpuMsPerRequest),
        [`${k}: direct client CPU per request, ms`]: r3(direct.cpuMsPerRequest),
      });
      targets[`${k}: most requests outstanding at the engine, openbatch`] = { atMost: capacity };
      targets[`${k}: create → first engine request, s`] = { atMost: 0.3 };
      targets[`${k}: last engine answer → completed seen, s`] = { atMost: 0.3 };
    }
    targets['N=10000: T_direct / T_openbatch'] = { atLeast: capacity === 64 ? 0.95 : 0.85 };
    await new Promise((r) => setTimeout(r, 1200)); // the worker's last call report
    const total = awsCalls.total() - callsBefore - polls + workerCalls(h.reportDir);
    return {
      scenario: name,
      description: saturationScenarios[name].description,
      engine: `FAKE ENGINE, ${LATENCY_MS} ms a request, at most ${capacity} at once (the rest queued)`,
      figures,
      targets,
      cpuSeconds: cpuTotals,
      loadAverage: load.stop(),
      awsCalls: { total, per1000Requests: r2((total / requests) * 1000) },
      details: { 'requests outstanding at the engine every 250 ms': timelines },
    };
  } finally {
    await h.rt.close();
    await h.engine.stop();
  }
}

async function smallBatches(name: SaturationName, capacity: number): Promise<ScenarioRecord> {
  const batches = 200;
  const size = 50;
  const load = sampleLoad();
  const h = await harness(name, capacity);
  const cpuTotals: Record<string, number> = {};
  try {
    const files = Array.from({ length: batches }, (_, b) => linesOf(size, `b${b}`));
    const fileIds: string[] = [];
    for (let i = 0; i < files.length; i += 10)
      fileIds.push(
        ...(await Promise.all(files.slice(i, i + 10).map((l, j) => uploadLines(h.client, l, `b${i + j}`)))),
      );
    await h.engine.reset();
    const direct = await runDirect(h.engine.url, files.flat(), capacity);
    const directMax = (await h.engine.stats()).maxOutstanding;

    await h.engine.reset();
    const before = h.cpu();
    const callsBefore = awsCalls.total();
    const started = preciseNow();
    const createdAt = new Map<string, number>();
    // Clients create them as fast as the API answers, 16 at a time.
    let next = 0;
    await Promise.all(
      Array.from({ length: 16 }, async () => {
        while (next < fileIds.length) {
          const fileId = fileIds[next++] as string;
          const t = preciseNow();
          const b = await create(h.client, fileId);
          createdAt.set(b.id, t);
        }
      }),
    );
    const endedAt = new Map<string, number>();
    let polls = 0;
    while (endedAt.size < batches) {
      for await (const b of h.client.batches.list({ limit: 100 })) {
        if (!createdAt.has(b.id) || endedAt.has(b.id) || !ENDED.includes(b.status)) continue;
        expectCompleted(b, size, `small batch ${b.id}`);
        endedAt.set(b.id, preciseNow());
      }
      polls += Math.ceil(batches / 100) + 1;
      // Listing 200 batches costs DynamoDB Local and the API function CPU the run needs: once a
      // second while the engine still has work, then every 100 ms.
      const near = (await h.engine.stats()).answered >= batches * size;
      if (endedAt.size < batches) await new Promise((r) => setTimeout(r, near ? 100 : 1000));
    }
    const seconds = (Math.max(...endedAt.values()) - started) / 1000;
    const after = h.cpu();
    const stats = await h.engine.stats();
    add(cpuTotals, since(before, after));
    const latencies = [...endedAt]
      .map(([id, t]) => (t - (createdAt.get(id) ?? t)) / 1000)
      .sort((a, b) => a - b);
    const q = (p: number) => latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))] ?? 0;
    await new Promise((r) => setTimeout(r, 1200));
    const total = awsCalls.total() - callsBefore - polls + workerCalls(h.reportDir);
    const workerCpu = Object.entries(cpuTotals)
      .filter(([k]) => k.startsWith('worker-'))
      .reduce((a, [, v]) => a + v, 0);
    return {
      scenario: name,
      description: saturationScenarios[name].description,
      engine: `FAKE ENGINE, ${LATENCY_MS} ms a request, at most ${capacity} at once (the rest queued)`,
      figures: {
        'T_direct (all 10,000 requests), s': r2(direct.seconds),
        'T_openbatch (first create → last completed seen), s': r2(seconds),
        'T_direct / T_openbatch': r3(direct.seconds / seconds),
        'one batch, create → completed seen, median, s': r2(q(0.5)),
        'one batch, create → completed seen, p95, s': r2(q(0.95)),
        'most requests outstanding at the engine, openbatch': stats.maxOutstanding,
        'most requests outstanding at the engine, direct': directMax,
        'mean requests outstanding, first request → last answer, openbatch': stats.meanOutstanding,
        'engine first request → last answer, openbatch, s': r2(
          ((stats.lastAnswerAt ?? 0) - (stats.firstRequestAt ?? 0)) / 1000,
        ),
        'worker CPU per request, ms': r3((workerCpu * 1000) / (batches * size)),
      },
      targets: {
        'T_direct / T_openbatch': { atLeast: 0.8 },
        'most requests outstanding at the engine, openbatch': { atMost: capacity },
      },
      cpuSeconds: cpuTotals,
      loadAverage: load.stop(),
      awsCalls: { total, per1000Requests: r2((total / (batches * size)) * 1000) },
    };
  } finally {
    await h.rt.close();
    await h.engine.stop();
  }
}

async function headOfLine(name: SaturationName, capacity: number): Promise<ScenarioRecord> {
  const load = sampleLoad();
  const h = await harness(name, capacity);
  const cpuTotals: Record<string, number> = {};
  try {
    const big = await uploadLines(h.client, linesOf(10_000, 'big'), 'big');
    const smallAlone = await uploadLines(h.client, linesOf(50, 'alone'), 'alone');
    const smallBehind = await uploadLines(h.client, linesOf(50, 'behind'), 'behind');

    const before = h.cpu();
    let t = preciseNow();
    const alone = await untilEnded(h.client, (await create(h.client, smallAlone)).id, 50);
    expectCompleted(alone.batch, 50, 'small batch alone');
    const aloneSeconds = (alone.at - t) / 1000;

    await h.engine.reset();
    const bigStarted = preciseNow();
    const bigBatch = await create(h.client, big);
    // "Behind": the big batch's chunks are queued and its requests are running.
    while (((await h.engine.stats()).firstRequestAt ?? 0) === 0) await new Promise((r) => setTimeout(r, 20));
    t = preciseNow();
    const behind = await untilEnded(h.client, (await create(h.client, smallBehind)).id, 50);
    expectCompleted(behind.batch, 50, 'small batch behind the big one');
    const behindSeconds = (behind.at - t) / 1000;
    const bigDone = await untilEnded(h.client, bigBatch.id, 250);
    expectCompleted(bigDone.batch, 10_000, 'big batch');
    const after = h.cpu();
    const stats = await h.engine.stats();
    add(cpuTotals, since(before, after));
    return {
      scenario: name,
      description: saturationScenarios[name].description,
      engine: `FAKE ENGINE, ${LATENCY_MS} ms a request, at most ${capacity} at once (the rest queued)`,
      figures: {
        'small batch alone, create → completed seen, s': r2(aloneSeconds),
        'small batch behind the big one, create → completed seen, s': r2(behindSeconds),
        'behind / alone': r2(behindSeconds / aloneSeconds),
        'big batch (10,000), create → completed seen, s': r2((bigDone.at - bigStarted) / 1000),
        'most requests outstanding at the engine, openbatch': stats.maxOutstanding,
      },
      targets: {
        'behind / alone': { atMost: 3 },
        'most requests outstanding at the engine, openbatch': { atMost: capacity },
      },
      cpuSeconds: cpuTotals,
      loadAverage: load.stop(),
    };
  } finally {
    await h.rt.close();
    await h.engine.stop();
  }
}

export async function runSaturationScenario(name: string): Promise<ScenarioRecord> {
  const s = saturationScenarios[name as SaturationName];
  if (!s) throw new Error(`unknown saturation scenario ${name}`);
  if (name.startsWith('small-batches')) return smallBatches(name as SaturationName, s.capacity);
  if (name.startsWith('head-of-line')) return headOfLine(name as SaturationName, s.capacity);
  return saturation(name as SaturationName, s.capacity);
}

if (process.argv[1] && resolve(process.argv[1]) === resolve(root, 'test/bench/saturation-scenario.ts')) {
  const result = await runSaturationScenario(process.argv[2] ?? '');
  writeFileSync(process.argv[3] as string, JSON.stringify(result));
  process.exit(0);
}
