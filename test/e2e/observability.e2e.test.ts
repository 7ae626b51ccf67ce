import { randomUUID } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type OpenAI from 'openai';
import type { Batch } from 'openai/resources/batches';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type MainProcess, startMain, stopMain } from '../support/processes.js';
import { resultLines, sdk, upload, waitUntilEnded } from '../support/sdk.js';

/**
 * Issue 13, points 1, 2 and 6 over a full run of `npm start`'s program (its own process, as a
 * developer runs it): upload → batch → output, then
 * - no log line, of the functions (the runtime's output) or of the workers (their log file),
 *   holds the API key, a request's content or a model's output, while the lines do carry the
 *   context (function, AWS request id, cold start, tenant, batch, chunk);
 * - `GET /metrics` shows the API, scheduler, worker and finalizer series with the values the
 *   run implies, and the engine's own figures read from its Prometheus endpoint.
 *
 * The workers talk over HTTP to a small vLLM look-alike: it answers chat completions with a
 * unique text and known usage, fails each request's first try once (a 500, which the worker
 * retries), and publishes vLLM's gauges at /metrics and a /health.
 */
const root = fileURLToPath(new URL('../..', import.meta.url));
const workerLog = join(root, '.openbatch/workers.log');
const dataDir = mkdtempSync(join(tmpdir(), 'openbatch-observability-'));
// Unique strings: none can appear in a log by chance, or from another run.
const apiKey = `sk-obs-${randomUUID()}`;
const marker = `private-words-${randomUUID()}`;
const modelSaid = `model-said-${randomUUID()}`;
const TOKENS_PER_ANSWER = 5;
const LINES = 12;
const input = Array.from({ length: LINES }, (_, i) =>
  JSON.stringify({
    custom_id: `obs-${i}`,
    method: 'POST',
    url: '/v1/chat/completions',
    body: { model: 'test-model', messages: [{ role: 'user', content: `${marker} question ${i}` }] },
  }),
).join('\n');

/** vLLM's gauges as its /metrics publishes them: KV-cache usage 0.42, 3 running, 7 waiting. */
const vllmMetrics = [
  '# TYPE vllm:gpu_cache_usage_perc gauge',
  'vllm:gpu_cache_usage_perc{model_name="test-model"} 0.42',
  '# TYPE vllm:num_requests_running gauge',
  'vllm:num_requests_running{model_name="test-model"} 3.0',
  '# TYPE vllm:num_requests_waiting gauge',
  'vllm:num_requests_waiting{model_name="test-model"} 7.0',
  '',
].join('\n');

function startEngine(): Promise<Server> {
  const tried = new Set<string>();
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      if (req.url === '/health') return void res.writeHead(200).end();
      if (req.url === '/metrics')
        return void res.writeHead(200, { 'content-type': 'text/plain' }).end(vllmMetrics);
      const body = Buffer.concat(chunks).toString();
      if (!tried.has(body)) {
        tried.add(body);
        res.writeHead(500, { 'content-type': 'application/json' });
        return void res.end(JSON.stringify({ error: { message: 'warming up', type: 'server_error' } }));
      }
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(
        JSON.stringify({
          id: `chatcmpl-${randomUUID()}`,
          object: 'chat.completion',
          created: 1_700_000_000,
          model: 'test-model',
          choices: [
            { index: 0, message: { role: 'assistant', content: `${modelSaid} here` }, finish_reason: 'stop' },
          ],
          usage: {
            prompt_tokens: 4,
            completion_tokens: TOKENS_PER_ANSWER,
            total_tokens: 4 + TOKENS_PER_ANSWER,
          },
        }),
      );
    });
  });
  return new Promise((r) => server.listen(0, '127.0.0.1', () => r(server)));
}

let engine: Server | undefined;
let main: MainProcess | undefined;
let client: OpenAI;
let output = '';
let workerLogFrom = 0;
let batch: Batch;
let failed: Batch;
let outputText = '';
let metrics = '';

beforeAll(async () => {
  // Other local runtimes on this machine append to the same worker log: read only what follows.
  workerLogFrom = existsSync(workerLog) ? statSync(workerLog).size : 0;
  engine = await startEngine();
  main = await startMain(
    {
      OPENBATCH_DATA_DIR: dataDir,
      OPENBATCH_API_KEY: apiKey,
      OPENBATCH_METRICS: 'on',
      LOG_LEVEL: 'debug',
      CHUNK_MAX_LINES: '4',
      ENGINE_URL: `http://127.0.0.1:${(engine.address() as AddressInfo).port}/v1`,
      METRICS_INTERVAL_SECONDS: '1',
    },
    ['--fresh'],
  );
  output = main.output();
  const keep = (d: Buffer) => {
    output += d.toString();
  };
  main.child.stdout?.on('data', keep);
  main.child.stderr?.on('data', keep);

  client = sdk(main.url, apiKey);
  const file = await upload(client, input);
  const created = await client.batches.create({
    input_file_id: file.id,
    endpoint: '/v1/chat/completions',
    completion_window: '24h',
  });
  batch = await waitUntilEnded(client, created.id, 90_000);
  const text = await (await client.files.content(batch.output_file_id as string)).text();
  outputText = text;

  const bad = await upload(client, `${input.split('\n')[0]}\n{"custom_id": "broken", `);
  failed = await waitUntilEnded(
    client,
    (
      await client.batches.create({
        input_file_id: bad.id,
        endpoint: '/v1/chat/completions',
        completion_window: '24h',
      })
    ).id,
    90_000,
  );
  // The finalizer's flush reaches the runtime right after its work; the engine's gauges with the
  // workers' next probe and flush (every second here).
  for (let i = 0; i < 100; i++) {
    metrics = await (await fetch(`${main.url}/metrics`)).text();
    if (
      /openbatch_bytes_written_total\{function="finalizer"\}/.test(metrics) &&
      /openbatch_engine_kv_cache_usage_percent\{pool="spot"\}/.test(metrics) &&
      // The failed batch's validation flush too: it may reach the runtime after the good one's.
      sample('openbatch_lines_validated_total', { function: 'scheduler' }) === 2
    )
      break;
    await new Promise((r) => setTimeout(r, 100));
  }
}, 240_000);

afterAll(async () => {
  await stopMain(main);
  engine?.close();
  rmSync(dataDir, { recursive: true, force: true });
});

/** Every JSON line (log lines and EMF records) of the functions and workers during the run. */
function logLines(): { text: string; json: Record<string, unknown> | undefined }[] {
  const workers = existsSync(workerLog) ? readFileSync(workerLog).subarray(workerLogFrom).toString() : '';
  return `${output}\n${workers}`
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((text) => {
      try {
        return { text, json: JSON.parse(text) as Record<string, unknown> };
      } catch {
        return { text, json: undefined };
      }
    });
}

/** The value of the one sample whose name and labels are exactly these. */
function sample(name: string, labels: Record<string, string>): number | undefined {
  const want = Object.entries(labels)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([k, v]) => `${k}="${v}"`)
    .join(',');
  const prefix = `${name}{${want}} `;
  const line = metrics.split('\n').find((l) => l.startsWith(prefix));
  return line === undefined ? undefined : Number(line.slice(prefix.length));
}

/** The sum of a metric's samples over every label set matching `labels`. */
function total(name: string, labels: Record<string, string> = {}): number {
  let sum = 0;
  for (const line of metrics.split('\n')) {
    const m = /^([a-z_]+)(\{(.*)\})? (\S+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    const has = Object.entries(labels).every(([k, v]) => (m[3] ?? '').includes(`${k}="${v}"`));
    if (has) sum += Number(m[4]);
  }
  return sum;
}

describe('a full run through npm start', () => {
  it('ran the batch and failed the malformed one', async () => {
    expect(batch.status).toBe('completed');
    expect(batch.request_counts).toMatchObject({ total: LINES, completed: LINES, failed: 0 });
    expect(failed.status).toBe('failed');
    const lines = await resultLines(client, batch.output_file_id);
    expect(lines).toHaveLength(LINES);
  });

  it('logs no API key, request content or model output, in any function or worker line', () => {
    const lines = logLines();
    // The model's output is in the output file, and nowhere in the logs.
    expect(outputText).toContain(modelSaid);
    const secrets = [apiKey, marker, modelSaid];
    const leaks = lines
      .filter((l) => secrets.some((s) => l.text.includes(s)))
      .map((l) => l.text.slice(0, 300));
    expect(leaks).toEqual([]);
  });

  it('logs JSON lines with the context: function, AWS request id, cold start, tenant, batch, chunk', () => {
    const json = lines().filter((l) => typeof l.level === 'string');
    const api = json.find((l) => l.msg === 'request' && l.route === 'POST /v1/batches');
    expect(api).toMatchObject({
      level: 'info',
      function: expect.stringMatching(/batches-?api/i),
      awsRequestId: expect.any(String),
      coldStart: expect.any(Boolean),
      tenant: 'local',
      status: 200,
    });
    const scheduled = json.find((l) => l.msg === 'scheduler handled' && l.batchId === batch.id);
    expect(scheduled).toMatchObject({
      function: expect.stringMatching(/scheduler/),
      awsRequestId: expect.any(String),
      tenant: 'local',
      messageId: expect.any(String),
      outcome: 'scheduled',
    });
    const chunks = json.filter((l) => l.msg === 'chunk handled' && l.batchId === batch.id);
    expect(chunks.map((l) => l.chunk).sort()).toEqual([0, 1, 2]);
    expect(chunks[0]).toMatchObject({ function: expect.stringMatching(/^worker-/), tenant: 'local' });
    // Two workers may both see the last chunk done: one finalizer finalizes, the other finds it claimed.
    const finalized = json.filter((l) => l.msg === 'finalizer handled' && l.batchId === batch.id);
    expect(finalized.map((l) => l.outcome)).toContain('finalized');
    expect(finalized[0]).toMatchObject({ function: expect.stringMatching(/finalizer/), tenant: 'local' });
  });

  it('shows every queue and dead-letter queue’s depth, as SQS publishes it on AWS', () => {
    for (const queue of ['scheduling', 'spot', 'dedicated', 'finalizing']) {
      for (const name of [queue, `${queue}-dlq`]) {
        expect(sample('openbatch_queue_depth', { queue: name }), name).toBeGreaterThanOrEqual(0);
        expect(sample('openbatch_queue_in_flight', { queue: name }), name).toBeGreaterThanOrEqual(0);
      }
    }
    // The batch ended: nothing waits on its worker queue or went to a dead-letter queue.
    expect(sample('openbatch_queue_depth', { queue: 'spot-dlq' })).toBe(0);
  });

  it('serves the metrics of every stage at GET /metrics, in Prometheus text format', async () => {
    const res = await fetch(`${main?.url}/metrics`);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    // API: requests by route and status, latency as a summary.
    expect(
      sample('openbatch_api_requests_total', { function: 'api', route: 'POST /v1/batches', status: '200' }),
    ).toBe(2);
    expect(
      sample('openbatch_api_requests_total', { function: 'api', route: 'POST /v1/files', status: '200' }),
    ).toBe(2);
    expect(total('openbatch_api_requests_total', { route: 'GET /v1/batches/{batch_id}' })).toBeGreaterThan(0);
    expect(total('openbatch_api_latency_seconds_count', { route: 'POST /v1/batches' })).toBe(2);
    expect(total('openbatch_api_latency_seconds_sum', { route: 'POST /v1/batches' })).toBeGreaterThan(0);
    // Both files' lines validated at upload; the scheduler reads only the bad file (it got no
    // plan at upload, core/chunks/file-plan.ts) and plans the good batch's chunks from its
    // plan; the bad one's failure by code.
    expect(sample('openbatch_lines_validated_at_upload_total', { function: 'api' })).toBe(LINES + 2);
    expect(sample('openbatch_lines_validated_total', { function: 'scheduler' })).toBe(2);
    expect(sample('openbatch_chunks_planned_total', { function: 'scheduler' })).toBe(LINES / 4);
    const code = failed.errors?.data?.[0]?.code as string;
    expect(sample('openbatch_validation_failures_total', { function: 'scheduler', code })).toBeGreaterThan(0);
    // Workers: every request once; each first try failed with a 500 and was retried, so two
    // engine calls per request, each timed; the tokens the engine reported.
    expect(total('openbatch_requests_run_total')).toBe(LINES);
    expect(total('openbatch_chunks_completed_total')).toBe(LINES / 4);
    expect(total('openbatch_chunk_duration_seconds_count')).toBe(LINES / 4);
    expect(total('openbatch_engine_latency_seconds_count')).toBe(2 * LINES);
    expect(total('openbatch_worker_errors_total', { code: '500' })).toBe(LINES);
    expect(total('openbatch_engine_retries_total')).toBe(LINES);
    expect(total('openbatch_tokens_generated_total')).toBe(TOKENS_PER_ANSWER * LINES);
    // The engine's own figures, from its Prometheus endpoint, and its health.
    expect(sample('openbatch_engine_kv_cache_usage_percent', { pool: 'spot' })).toBeCloseTo(42, 6);
    expect(sample('openbatch_engine_requests_running', { pool: 'spot' })).toBe(3);
    expect(sample('openbatch_engine_requests_waiting', { pool: 'spot' })).toBe(7);
    expect(sample('openbatch_engine_unhealthy_total', { pool: 'spot' })).toBe(0);
    // Finalizer: one finalization, and the bytes it wrote are the output file's.
    expect(sample('openbatch_finalize_duration_seconds_count', { function: 'finalizer' })).toBe(1);
    expect(sample('openbatch_bytes_written_total', { function: 'finalizer' })).toBe(
      Buffer.byteLength(outputText),
    );
  });
});

function lines(): Record<string, unknown>[] {
  return logLines().flatMap((l) => (l.json ? [l.json] : []));
}
