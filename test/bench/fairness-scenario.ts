/**
 * The fairness scenario of `npm run bench` (issue 11): while a 100,000-request batch of tenant A
 * runs, 20 batches of 50 requests from tenant B are created one after another; each should end
 * within 3× the time the same batch takes on an idle system. The local runtime runs as
 * `npm start` does (one spot and one dedicated worker) with the SIMULATED engine answering after
 * a fixed latency. The same run is made twice: with the windowed dispatch (DISPATCH_WINDOW_CHUNKS,
 * core/chunks/dispatch.ts, as deployed) and with every chunk queued at once (window 0), the
 * behaviour before it. Writes its record as JSON to argv[3].
 */
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type OpenAI from 'openai';
import { toFile } from 'openai';
import type { Batch } from 'openai/resources/batches';
import { startLocalRuntime } from '../../localstack/runtime/runtime.js';
import { sdk } from '../support/sdk.js';
import { median, r2 } from './figures.js';
import { runtimeProcesses, sampleLoad, since, snapshot } from './proc-stats.js';
import { linesOf as chatRequestLines, type ScenarioRecord } from './saturation-scenario.js';

const root = process.cwd();
const ENDED = ['completed', 'failed', 'expired', 'cancelled'];
const BIG = 100_000;
const SMALL = 50;
const SMALL_BATCHES = 20;
const IDLE_RUNS = 5;
// 50 ms: the engine, not this 2-core machine's CPU, sets the pace, as a GPU engine does.
const LATENCY_MS = Number(process.env.BENCH_FAIRNESS_LATENCY_MS ?? 50);
const CREATE_EVERY_MS = 250;
const POLL_MS = 50;

const linesOf = (n: number, prefix: string): string => chatRequestLines(n, prefix).join('\n');

/** Through OpenAI's Uploads API in 3 MiB parts: a file above the API's direct limit, as a client sends it. */
async function uploadInParts(client: OpenAI, text: string, name: string): Promise<string> {
  const bytes = Buffer.from(`${text}\n`);
  const up = await client.uploads.create({
    filename: `${name}.jsonl`,
    purpose: 'batch',
    bytes: bytes.length,
    mime_type: 'application/jsonl',
  });
  const partIds: string[] = [];
  for (let at = 0; at < bytes.length; at += 3 * 1024 * 1024) {
    const data = await toFile(bytes.subarray(at, at + 3 * 1024 * 1024), 'part');
    partIds.push((await client.uploads.parts.create(up.id, { data })).id);
  }
  const done = await client.uploads.complete(up.id, { part_ids: partIds });
  if (!done.file) throw new Error(`upload ${up.id} completed without a file`);
  return done.file.id;
}

async function upload(client: OpenAI, text: string, name: string): Promise<string> {
  const f = await client.files.create({
    file: await toFile(Buffer.from(`${text}\n`), `${name}.jsonl`),
    purpose: 'batch',
  });
  return f.id;
}

/** Creates a batch and polls it until it ends: seconds from the create call to the end seen. */
async function timed(client: OpenAI, fileId: string, n: number): Promise<{ seconds: number; batch: Batch }> {
  const started = performance.now();
  const created = await client.batches.create({
    input_file_id: fileId,
    endpoint: '/v1/chat/completions',
    completion_window: '24h',
  });
  for (;;) {
    const batch = await client.batches.retrieve(created.id);
    if (ENDED.includes(batch.status)) {
      if (batch.status !== 'completed' || batch.request_counts?.completed !== n)
        throw new Error(
          `batch ${batch.id} ended ${batch.status} with ${JSON.stringify(batch.request_counts)}`,
        );
      return { seconds: (performance.now() - started) / 1000, batch };
    }
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
}

interface PhaseResult {
  idle: number[];
  behind: number[];
  bigSeconds: number;
  /** Small batches that ended while the big one was still running. */
  endedWhileBigRan: number;
  cpu: Record<string, number>;
}

async function phase(window: number): Promise<PhaseResult> {
  const work = resolve(root, '.openbatch/bench', `fairness-w${window}`);
  rmSync(work, { recursive: true, force: true });
  mkdirSync(work, { recursive: true });
  const rt = await startLocalRuntime({
    port: 0,
    apiKeys: { 'sk-a': 'tenant-a', 'sk-b': 'tenant-b' },
    workers: { spot: 1, dedicated: 1 },
    workerLog: join(work, 'workers.log'),
    env: {
      OPENBATCH_METRICS: 'off',
      LOG_LEVEL: process.env.BENCH_WORKER_LOG_LEVEL ?? 'warn',
      SIM_ENGINE_LATENCY_MS: String(LATENCY_MS),
      MAX_REQUESTS_PER_BATCH: String(BIG),
      // The policy's assumed rate (5 requests/s) would call the big batch at risk and send it to
      // dedicated capacity; the simulated fleet does thousands a second.
      SLA_ASSUMED_REQUESTS_PER_SECOND: '2000',
      ...(window >= 0 ? { DISPATCH_WINDOW_CHUNKS: String(window) } : {}),
    },
  });
  const a = sdk(rt.url, 'sk-a');
  const b = sdk(rt.url, 'sk-b');
  const cpu = () => snapshot(runtimeProcesses(rt));
  try {
    // Warm-up (module loading, JIT, connections): not measured.
    await timed(b, await upload(b, linesOf(SMALL, 'warm'), 'warm'), SMALL);
    const idle: number[] = [];
    for (let i = 0; i < IDLE_RUNS; i++)
      idle.push((await timed(b, await upload(b, linesOf(SMALL, `idle-${i}`), `idle-${i}`), SMALL)).seconds);

    const smallFiles: string[] = [];
    for (let i = 0; i < SMALL_BATCHES; i++)
      smallFiles.push(await upload(b, linesOf(SMALL, `behind-${i}`), `behind-${i}`));
    const bigFile = await uploadInParts(a, linesOf(BIG, 'big'), 'big');

    const before = cpu();
    const bigStarted = performance.now();
    const big = await a.batches.create({
      input_file_id: bigFile,
      endpoint: '/v1/chat/completions',
      completion_window: '24h',
    });
    // Behind it: its chunks are queued and its requests running.
    for (;;) {
      const now = await a.batches.retrieve(big.id);
      if (now.status === 'in_progress' && (now.request_counts?.completed ?? 0) > 0) break;
      if (ENDED.includes(now.status))
        throw new Error(`the big batch ended ${now.status} before the small ones`);
      await new Promise((r) => setTimeout(r, 20));
    }
    const smallRuns: Promise<{ seconds: number; endedAt: number }>[] = [];
    for (const f of smallFiles) {
      smallRuns.push(timed(b, f, SMALL).then((r) => ({ seconds: r.seconds, endedAt: performance.now() })));
      await new Promise((r) => setTimeout(r, CREATE_EVERY_MS));
    }
    const small = await Promise.all(smallRuns);
    let bigDone: Batch;
    for (;;) {
      bigDone = await a.batches.retrieve(big.id);
      if (ENDED.includes(bigDone.status)) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    const bigEndedAt = performance.now();
    if (bigDone.status !== 'completed' || bigDone.request_counts?.completed !== BIG)
      throw new Error(`the big batch ended ${bigDone.status} with ${JSON.stringify(bigDone.request_counts)}`);
    return {
      idle,
      behind: small.map((s) => s.seconds),
      bigSeconds: (bigEndedAt - bigStarted) / 1000,
      endedWhileBigRan: small.filter((s) => s.endedAt < bigEndedAt).length,
      cpu: since(before, cpu()),
    };
  } finally {
    await rt.close();
  }
}

export async function runFairnessScenario(): Promise<ScenarioRecord> {
  const load = sampleLoad();
  // -1: the runtime's own window (its workers × CHUNKS_IN_PARALLEL), as `npm start` runs it.
  const windowed = await phase(-1);
  const unwindowed = await phase(0);
  const idle = median(windowed.idle);
  const worst = Math.max(...windowed.behind);
  const idle0 = median(unwindowed.idle);
  return {
    scenario: 'fairness',
    description: `${SMALL_BATCHES} batches of ${SMALL} requests (tenant B) created ${CREATE_EVERY_MS} ms apart while a ${BIG.toLocaleString('en-US')}-request batch (tenant A) runs; one spot and one dedicated worker, as npm start`,
    engine: `SIMULATED engine, ${LATENCY_MS} ms a request, 256 at once per worker`,
    figures: {
      'small batch on an idle system, create → completed seen, s (median of 5)': r2(idle),
      'small batches behind the big one, median, s': r2(median(windowed.behind)),
      'small batches behind the big one, slowest, s': r2(worst),
      'slowest small batch / idle time': r2(worst / idle),
      'small batches that ended while the big one still ran': windowed.endedWhileBigRan,
      'big batch (100,000), create → completed seen, s': r2(windowed.bigSeconds),
      'every chunk queued at once (window 0): slowest small batch / idle time': r2(
        Math.max(...unwindowed.behind) / idle0,
      ),
      'every chunk queued at once (window 0): small batches behind, median, s': r2(median(unwindowed.behind)),
      'every chunk queued at once (window 0): big batch, s': r2(unwindowed.bigSeconds),
    },
    targets: {
      'slowest small batch / idle time': { atMost: 3 },
    },
    cpuSeconds: windowed.cpu,
    loadAverage: load.stop(),
    details: {
      windowed: { idle: windowed.idle.map(r2), behind: windowed.behind.map(r2) },
      unwindowed: { idle: unwindowed.idle.map(r2), behind: unwindowed.behind.map(r2) },
    },
  };
}

if (process.argv[1] && resolve(process.argv[1]) === resolve(root, 'test/bench/fairness-scenario.ts')) {
  const result = await runFairnessScenario();
  writeFileSync(process.argv[3] as string, JSON.stringify(result));
  process.exit(0);
}
