/**
 * The soak scenario of `npm run bench` (issue 13): a steady stream of small batches through the
 * local runtime with the SIMULATED engine, compressed in time, that watches every openbatch
 * process's resident memory. A batch of SOAK_LINES lines (default 50) is uploaded and created
 * every SOAK_MIN_INTERVAL_MS–SOAK_MAX_INTERVAL_MS (default 200–500 ms, seeded by SOAK_SEED) for
 * SOAK_SECONDS (default 300), without waiting for earlier ones; then the last ones are let end.
 *
 * Memory: each process's RSS is sampled every SOAK_SAMPLE_MS (default 2 s). The baseline is the
 * median of the samples in the first SOAK_WINDOW_SECONDS after the warm-up (SOAK_WARMUP_SECONDS,
 * default a fifth of the run, 10–60 s), the end the median of the last SOAK_WINDOW_SECONDS of
 * the stream (default 30 s each): medians, so a garbage collection just before one sample does
 * not read as growth or shrinkage. Target: each openbatch process (functions, workers, the
 * runtime) grows by at most 20 %. Latency: batch create → `completed` as the client sees it (one
 * list call every 200 ms for every batch in flight), p50/p95/max. Writes its record as JSON to
 * argv[3].
 */
import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type OpenAI from 'openai';
import { toFile } from 'openai';
import type { Batch } from 'openai/resources/batches';
import { startLocalRuntime } from '../../localstack/runtime/runtime.js';
import { sdk } from '../support/sdk.js';
import { r2 } from './figures.js';
import { rssOf, runtimeProcesses, sampleLoad, since, snapshot, treeRssOf } from './proc-stats.js';

const root = process.cwd();
const ENDED = ['completed', 'failed', 'expired', 'cancelled'];

const num = (name: string, fallback: number): number => {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isFinite(n) || n < 0) throw new Error(`${name} must be a non-negative number, not '${raw}'`);
  return n;
};

export interface SoakSettings {
  seconds: number;
  lines: number;
  minIntervalMs: number;
  maxIntervalMs: number;
  warmupSeconds: number;
  windowSeconds: number;
  sampleMs: number;
  engineLatencyMs: number;
  spotWorkers: number;
  seed: number;
}

export function soakSettings(): SoakSettings {
  const seconds = num('SOAK_SECONDS', 300);
  const s: SoakSettings = {
    seconds,
    lines: num('SOAK_LINES', 50),
    minIntervalMs: num('SOAK_MIN_INTERVAL_MS', 200),
    maxIntervalMs: num('SOAK_MAX_INTERVAL_MS', 500),
    warmupSeconds: num('SOAK_WARMUP_SECONDS', Math.min(60, Math.max(10, seconds / 5))),
    windowSeconds: num('SOAK_WINDOW_SECONDS', 30),
    sampleMs: num('SOAK_SAMPLE_MS', 2000),
    engineLatencyMs: num('SOAK_ENGINE_LATENCY_MS', 5),
    spotWorkers: num('SOAK_SPOT_WORKERS', 2),
    seed: num('SOAK_SEED', 1),
  };
  const problems: string[] = [];
  if (s.maxIntervalMs < s.minIntervalMs) problems.push('SOAK_MAX_INTERVAL_MS is below SOAK_MIN_INTERVAL_MS');
  if (s.lines < 1) problems.push('SOAK_LINES must be at least 1');
  // The baseline window must end before the end window starts, or growth compares a window with itself.
  if (s.warmupSeconds + 2 * s.windowSeconds > s.seconds)
    problems.push(
      `SOAK_SECONDS (${s.seconds}) must cover the warm-up (${s.warmupSeconds} s) and two windows of ${s.windowSeconds} s`,
    );
  if (problems.length > 0) throw new Error(`soak settings:\n  - ${problems.join('\n  - ')}`);
  return s;
}

/** A small seeded generator (mulberry32): the same seed, the same arrival times. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The q-quantile (0–1) of `xs`, nearest rank; NaN when empty. */
export function quantile(xs: readonly number[], q: number): number {
  if (xs.length === 0) return Number.NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1))] as number;
}

export interface RssSample {
  /** Seconds since the stream started. */
  at: number;
  pid: number;
  bytes: number;
}

/**
 * A process's RSS growth: the median of its samples in [from, from + window) against the median
 * in [to - window, to), in per cent; undefined when a window has no sample of the same process
 * (it was restarted, or had not started yet: a new pid is a new process, compared with itself only).
 */
export function rssGrowth(
  samples: readonly RssSample[],
  from: number,
  to: number,
  window: number,
): { baseMb: number; endMb: number; percent: number } | undefined {
  const last = samples.at(-1);
  if (!last) return undefined;
  const same = samples.filter((s) => s.pid === last.pid);
  const base = same.filter((s) => s.at >= from && s.at < from + window).map((s) => s.bytes);
  const end = same.filter((s) => s.at >= to - window && s.at < to).map((s) => s.bytes);
  if (base.length === 0 || end.length === 0) return undefined;
  const b = quantile(base, 0.5);
  const e = quantile(end, 0.5);
  const mb = (x: number) => Number((x / 1024 / 1024).toFixed(1));
  return { baseMb: mb(b), endMb: mb(e), percent: Number((((e - b) / b) * 100).toFixed(1)) };
}

const linesOf = (n: number, prefix: string): string =>
  `${Array.from({ length: n }, (_, i) =>
    JSON.stringify({
      custom_id: `${prefix}-${i}`,
      method: 'POST',
      url: '/v1/chat/completions',
      body: { model: 'bench-model', messages: [{ role: 'user', content: `Question ${i} of ${prefix}` }] },
    }),
  ).join('\n')}\n`;

async function submit(client: OpenAI, lines: number, prefix: string): Promise<{ id: string; at: number }> {
  const file = await client.files.create({
    file: await toFile(Buffer.from(linesOf(lines, prefix)), `${prefix}.jsonl`),
    purpose: 'batch',
  });
  const at = performance.now();
  const batch = await client.batches.create({
    input_file_id: file.id,
    endpoint: '/v1/chat/completions',
    completion_window: '24h',
  });
  return { id: batch.id, at };
}

export async function runSoak(s: SoakSettings) {
  const load = sampleLoad();
  const rt = await startLocalRuntime({
    port: 0,
    apiKeys: { 'sk-bench': 'bench' },
    workers: { spot: s.spotWorkers, dedicated: 1 },
    workerLog: resolve(root, '.openbatch/bench/soak-workers.log'),
    env: {
      OPENBATCH_METRICS: 'off',
      LOG_LEVEL: process.env.BENCH_WORKER_LOG_LEVEL ?? 'warn',
      SIM_ENGINE_LATENCY_MS: String(s.engineLatencyMs),
    },
  });
  try {
    const client = sdk(rt.url, 'sk-bench');
    const processes = () => ({
      'runtime (gateway, event sources, timers) and the client': process.pid,
      ...Object.fromEntries(Object.entries(rt.functionPids()).map(([fn, pid]) => [`function ${fn}`, pid])),
      ...Object.fromEntries(rt.fleet.workers.map((w, i) => [`worker-${w.pool}-${i}`, w.child.pid])),
    });
    const samples = new Map<string, RssSample[]>();
    const emulatorMb: { moto: number[]; dynamoDbLocal: number[] } = { moto: [], dynamoDbLocal: [] };
    const t0 = performance.now();
    const now = () => (performance.now() - t0) / 1000;
    const sample = () => {
      const at = now();
      for (const [label, pid] of Object.entries(processes())) {
        const bytes = pid === process.pid ? process.memoryUsage().rss : rssOf(pid);
        if (pid === undefined || bytes === undefined) continue;
        samples.set(label, [...(samples.get(label) ?? []), { at, pid, bytes }]);
      }
      const moto = treeRssOf(rt.emulator.pid);
      const ddb = treeRssOf(rt.dynamoDbLocal?.pid);
      if (moto !== undefined) emulatorMb.moto.push(moto / 1024 / 1024);
      if (ddb !== undefined) emulatorMb.dynamoDbLocal.push(ddb / 1024 / 1024);
    };
    const sampler = setInterval(sample, s.sampleMs);

    const cpu = () => snapshot(runtimeProcesses(rt));
    const cpuBefore = cpu();

    // The stream: one batch every min–max interval, each tracked until it ends.
    const pending = new Map<string, number>();
    const latencies: { at: number; seconds: number }[] = [];
    const ended: Record<string, number> = {};
    let submitFailures = 0;
    let submitted = 0;
    const inFlight = new Set<Promise<void>>();
    const rand = random(s.seed);
    const streamEnds = s.seconds;
    const done = (b: Pick<Batch, 'id' | 'status'>) => {
      const createdAt = pending.get(b.id);
      if (createdAt === undefined || !ENDED.includes(b.status)) return;
      pending.delete(b.id);
      ended[b.status] = (ended[b.status] ?? 0) + 1;
      if (b.status === 'completed')
        latencies.push({ at: now(), seconds: (performance.now() - createdAt) / 1000 });
    };
    let polling = true;
    const poller = (async () => {
      while (polling || pending.size > 0) {
        if (pending.size > 0) {
          try {
            const page = await client.batches.list({ limit: 100 });
            for (const b of page.data) done(b);
            // A batch older than the newest hundred is asked after on its own.
            const seen = new Set(page.data.map((b) => b.id));
            for (const id of [...pending.keys()].filter((id) => !seen.has(id)))
              done(await client.batches.retrieve(id));
          } catch (err) {
            console.error('soak: status poll failed', err);
          }
        }
        await new Promise((r) => setTimeout(r, 200));
      }
    })();

    let i = 0;
    while (now() < streamEnds) {
      const prefix = `soak-${i++}`;
      const p = submit(client, s.lines, prefix)
        .then(({ id, at }) => {
          pending.set(id, at);
          submitted += 1;
        })
        .catch((err) => {
          submitFailures += 1;
          console.error('soak: submit failed', err);
        });
      inFlight.add(p);
      void p.finally(() => inFlight.delete(p));
      await new Promise((r) => setTimeout(r, s.minIntervalMs + rand() * (s.maxIntervalMs - s.minIntervalMs)));
    }
    await Promise.all([...inFlight]);
    sample();
    const endAt = now();
    // The last batches end (or the drain gives up after two minutes).
    const drainDeadline = performance.now() + 120_000;
    while (pending.size > 0 && performance.now() < drainDeadline)
      await new Promise((r) => setTimeout(r, 200));
    const stuck = pending.size;
    polling = false;
    pending.clear();
    await poller;
    clearInterval(sampler);
    const cpuSeconds = since(cpuBefore, cpu());

    const from = s.warmupSeconds;
    const growth: Record<string, { baseMb: number; endMb: number; percent: number; restarted: boolean }> = {};
    for (const [label, list] of samples) {
      const g = rssGrowth(list, from, endAt, s.windowSeconds);
      if (g) growth[label] = { ...g, restarted: new Set(list.map((x) => x.pid)).size > 1 };
    }
    const measured = latencies.filter((l) => l.at >= from).map((l) => l.seconds);
    const all = latencies.map((l) => l.seconds);
    const completed = ended.completed ?? 0;
    const notCompleted = submitted - completed + submitFailures;
    const rssFigures = Object.fromEntries(
      Object.entries(growth).map(([label, g]) => [`RSS growth, ${label}, %`, g.percent]),
    );
    const percents = Object.values(growth).map((g) => g.percent);
    if (percents.length === 0) throw new Error('soak: no process was sampled in both windows');
    const largest = Math.max(...percents);
    return {
      scenario: 'soak',
      description: `a ${s.lines}-line batch every ${s.minIntervalMs}–${s.maxIntervalMs} ms for ${s.seconds} s (RSS after a ${s.warmupSeconds} s warm-up against the last ${s.windowSeconds} s, medians of samples every ${s.sampleMs} ms)`,
      engine: `SIMULATED, ${s.engineLatencyMs} ms a request`,
      figures: {
        'batches created': submitted,
        'batches not completed (failed, expired, stuck or not created)': notCompleted,
        'requests completed': completed * s.lines,
        'batch create → completed, p50, s': r2(quantile(measured, 0.5)),
        'batch create → completed, p95, s': r2(quantile(measured, 0.95)),
        'batch create → completed, max, s': r2(measured.length > 0 ? Math.max(...measured) : Number.NaN),
        'batch create → completed, p95 during the warm-up, s': r2(
          quantile(
            latencies.filter((l) => l.at < from).map((l) => l.seconds),
            0.95,
          ),
        ),
        'largest RSS growth, openbatch process, %': largest,
        ...rssFigures,
      },
      targets: {
        'batches not completed (failed, expired, stuck or not created)': { atMost: 0 },
        'largest RSS growth, openbatch process, %': { atMost: 20 },
        ...Object.fromEntries(Object.keys(rssFigures).map((k) => [k, { atMost: 20 }])),
      },
      cpuSeconds,
      loadAverage: load.stop(),
      settings: s,
      streamSeconds: r2(endAt),
      batchesEnded: ended,
      stuckAfterDrain: stuck,
      submitFailures,
      latencySeconds: { all: { p50: r2(quantile(all, 0.5)), p95: r2(quantile(all, 0.95)), n: all.length } },
      rssMb: growth,
      // The emulators keep every object and item the stream writes: they grow by design; not ours.
      emulatorRssMb: {
        'moto emulator, S3 and SQS (not ours)': {
          first: r2(emulatorMb.moto[0] ?? Number.NaN),
          last: r2(emulatorMb.moto.at(-1) ?? Number.NaN),
        },
        'DynamoDB Local (not ours)': {
          first: r2(emulatorMb.dynamoDbLocal[0] ?? Number.NaN),
          last: r2(emulatorMb.dynamoDbLocal.at(-1) ?? Number.NaN),
        },
      },
      perRequestLatency:
        'not measured: the simulated engine answers after a set latency, and a batch reports no per-request times; every request of a batch ends within its create → completed time',
    };
  } finally {
    await rt.close();
  }
}

if (process.argv[1] && resolve(process.argv[1]) === resolve(root, 'test/bench/soak-scenario.ts')) {
  const result = await runSoak(soakSettings());
  writeFileSync(process.argv[3] as string, JSON.stringify(result));
  process.exit(0);
}
