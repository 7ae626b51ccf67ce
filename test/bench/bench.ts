/**
 * `npm run bench`: a 100,000-request batch through the local runtime with an instant SIMULATED
 * engine, measuring wall time, requests/s, AWS calls per 1,000 requests (all processes) and
 * peak RSS per process. Prints the figures and writes bench/results.json and bench/results.md.
 */
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { join, resolve } from 'node:path';
import { awsCalls } from '../../core/adapters/aws-clients.js';
import { keys } from '../../core/adapters/blob-store.js';
import { createDeps } from '../../core/app/deps.js';
import { toUnixSeconds } from '../../core/clock.js';
import { startLocalRuntime } from '../../localstack/runtime/runtime.js';
import { sdk, waitUntilEnded } from '../support/sdk.js';
import { chatLines } from '../support/test-aws.js';

const REQUESTS = Number(process.env.BENCH_REQUESTS ?? 100_000);
const root = process.cwd();
const reportDir = resolve(root, '.openbatch/bench');
rmSync(reportDir, { recursive: true, force: true });
mkdirSync(reportDir, { recursive: true });

const rt = await startLocalRuntime({
  port: 0,
  apiKeys: { 'sk-bench': 'bench' },
  // One spot worker per core: a fleet is mostly spot; the dedicated one stands by for escalations.
  workers: { spot: Number(process.env.BENCH_SPOT_WORKERS ?? 2), dedicated: 1 },
  // OpenAI's limit is 50,000 requests a batch; the bench raises it through configuration.
  env: {
    OPENBATCH_REPORT_DIR: reportDir,
    OPENBATCH_METRICS: 'off',
    LOG_LEVEL: process.env.BENCH_WORKER_LOG_LEVEL ?? 'warn',
    ENGINE_CONCURRENCY: '64',
    MAX_REQUESTS_PER_BATCH: String(Math.max(REQUESTS, 50_000)),
    ...(process.env.BENCH_WORKER_NODE_ARGS
      ? { OPENBATCH_WORKER_NODE_ARGS: process.env.BENCH_WORKER_NODE_ARGS }
      : {}),
  },
});
try {
  const client = sdk(rt.url, 'sk-bench');
  const deps = createDeps('filesApi', rt.functionEnv('filesApi'), rt.aws);

  // 100,000 lines (~14 MB) is more than a direct upload through API Gateway can carry, and the
  // Uploads API is not built yet, so the bench registers the input the way the upload path
  // will: one S3 object and one file record. Its two calls are counted below.
  const content = Buffer.from(chatLines(REQUESTS, { prefix: 'bench' }));
  const before = awsCalls.total();
  const fileId = deps.ids.fileId();
  const s3Key = keys.file('bench', fileId);
  await deps.blobs.put(s3Key, content);
  const now = Date.now();
  await deps.files.put({
    tenant: 'bench',
    id: fileId,
    filename: 'bench.jsonl',
    purpose: 'batch',
    bytes: content.length,
    created_at: toUnixSeconds(now),
    expires_at: null,
    s3_key: s3Key,
  });

  const started = performance.now();
  const created = await client.batches.create({
    input_file_id: fileId,
    endpoint: '/v1/chat/completions',
    completion_window: '24h',
  });
  let polls = 0;
  let batch = created;
  let inProgressAt = 0;
  let finalizingAt = 0;
  while (!['completed', 'failed', 'expired', 'cancelled'].includes(batch.status)) {
    await new Promise((r) => setTimeout(r, 100));
    batch = await client.batches.retrieve(created.id);
    polls += 1;
    if (!inProgressAt && batch.status !== 'validating') inProgressAt = performance.now();
    if (!finalizingAt && ['finalizing', 'completed'].includes(batch.status)) finalizingAt = performance.now();
  }
  const wallS = (performance.now() - started) / 1000;
  if (batch.status !== 'completed' || batch.request_counts?.completed !== REQUESTS) {
    throw new Error(`bench batch ended ${batch.status} with ${JSON.stringify(batch.request_counts)}`);
  }
  await waitUntilEnded(client, created.id);
  await new Promise((r) => setTimeout(r, 1200)); // let workers write their last report

  const runtimeCalls = awsCalls.snapshot();
  // Each status poll is one GetItem made for the client; it is the client's choice, not per request.
  const pipelineCallsInRuntime = awsCalls.total() - before - polls;
  const workers = readdirSync(reportDir).map(
    (f) =>
      JSON.parse(readFileSync(join(reportDir, f), 'utf8')) as {
        pid: number;
        label: string;
        calls: Record<string, number>;
        maxRssBytes: number;
      },
  );
  const workerCalls = workers.reduce(
    (n, w) => n + Object.entries(w.calls).reduce((a, [k, v]) => a + (k.endsWith('(empty)') ? 0 : v), 0),
    0,
  );
  const totalCalls = pipelineCallsInRuntime + workerCalls;
  const emulatorRss = rt.emulator.pid ? peakRssOf(rt.emulator.pid) : undefined;
  const dynamoRss = rt.dynamoDbLocal?.pid ? peakRssOf(rt.dynamoDbLocal.pid) : undefined;
  const mb = (b: number) => Math.round(b / 1024 / 1024);

  const results = {
    date: new Date().toISOString(),
    machine: `${cpus().length} cores, ${Math.round(totalmem() / 1024 ** 3)} GiB, Node ${process.version}`,
    requests: REQUESTS,
    inputBytes: content.length,
    engine: 'SIMULATED, instant (0 ms latency)',
    workers: workers.map((w) => w.label).sort(),
    wallSeconds: Number(wallS.toFixed(2)),
    phases: {
      validationAndFanOutSeconds: Number(((inProgressAt - started) / 1000).toFixed(2)),
      workersSeconds: Number(((finalizingAt - inProgressAt) / 1000).toFixed(2)),
      finalizationSeconds: Number((wallS - (finalizingAt - started) / 1000).toFixed(2)),
    },
    requestsPerSecond: Math.round(REQUESTS / wallS),
    awsCalls: {
      total: totalCalls,
      per1000Requests: Number(((totalCalls / REQUESTS) * 1000).toFixed(2)),
      clientStatusPollsExcluded: polls,
      note: 'Empty long polls (ReceiveMessage(empty)) are excluded: they cost per second of idling, not per request.',
      runtimeProcess: runtimeCalls,
      workers: Object.fromEntries(workers.map((w) => [`${w.label} (${w.pid})`, w.calls])),
    },
    peakRssMb: {
      'runtime (API + scheduler + finalizer + SLA monitor)': mb(process.resourceUsage().maxRSS * 1024),
      ...Object.fromEntries(workers.map((w) => [`${w.label} (${w.pid})`, mb(w.maxRssBytes)])),
      ...(emulatorRss ? { 'moto emulator, S3 and SQS (not ours)': mb(emulatorRss) } : {}),
      ...(dynamoRss ? { 'DynamoDB Local (not ours)': mb(dynamoRss) } : {}),
    },
  };
  console.log(JSON.stringify(results, null, 2));
  mkdirSync(resolve(root, 'bench'), { recursive: true });
  writeFileSync(resolve(root, 'bench/results.json'), `${JSON.stringify(results, null, 2)}\n`);
  writeFileSync(resolve(root, 'bench/results.md'), markdown(results));
} finally {
  await rt.close();
}

function peakRssOf(pid: number): number | undefined {
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : undefined;
  } catch {
    return undefined;
  }
}

function markdown(
  r: Record<string, unknown> & {
    awsCalls: { total: number; per1000Requests: number; clientStatusPollsExcluded: number };
    peakRssMb: Record<string, number>;
  },
): string {
  return `# Benchmark results

Produced by \`npm run bench\` on ${r.date} (${r.machine}).

| figure | value |
| --- | --- |
| requests | ${r.requests} (${Math.round(Number(r.inputBytes) / 1024 / 1024)} MB input) |
| engine | ${r.engine} |
| workers | ${(r.workers as string[]).join(', ')} |
| wall time, batch create → completed | ${r.wallSeconds} s |
| of which: validation and fan-out, workers, finalization | ${Object.values(
    r.phases as Record<string, number>,
  )
    .map((v) => `${v} s`)
    .join(', ')} |
| throughput | ${r.requestsPerSecond} requests/s |
| AWS calls, all processes | ${r.awsCalls.total} (${r.awsCalls.clientStatusPollsExcluded} client status polls excluded) |
| AWS calls per 1,000 requests | ${r.awsCalls.per1000Requests} |
${Object.entries(r.peakRssMb)
  .map(([k, v]) => `| peak RSS, ${k} | ${v} MB |`)
  .join('\n')}

Per-command call counts are in \`bench/results.json\`.
`;
}
