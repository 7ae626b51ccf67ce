/**
 * FAKE ENGINE for benchmarks and tests: a real HTTP server on 127.0.0.1 that answers
 * OpenAI-shaped responses after a fixed latency and runs at most `capacity` requests at once,
 * as an inference server with a fixed batch size would. Beyond that it queues requests
 * (`overflow: 'queue'`, what vLLM does) or refuses them with 429 (`'refuse'`). It performs no
 * inference. It records what a benchmark checks: the most requests outstanding at once (received
 * and not yet answered), the most running at once, connections opened, and when the first
 * request came and the last answer left.
 *
 * In a process of its own: `node --import tsx test/support/fake-engine-server.ts --latency 200
 * --capacity 64 [--overflow queue|refuse]` prints `{"url": …}` on its first stdout line; the
 * statistics are at GET /__fake/stats and reset by POST /__fake/reset. It exits when stdin closes.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { resolve } from 'node:path';

export interface FakeEngineOptions {
  latencyMs: number;
  capacity: number;
  overflow?: 'queue' | 'refuse';
  port?: number;
}

export interface FakeEngineStats {
  received: number;
  answered: number;
  refused: number;
  /** Requests received and not yet answered, at most, at any moment. */
  maxOutstanding: number;
  /** Requests running (past the queue), at most, at any moment. */
  maxRunning: number;
  /** TCP connections accepted. */
  connections: number;
  /** Epoch milliseconds (fractional) of the first request received and the last answer sent. */
  firstRequestAt: number | null;
  lastAnswerAt: number | null;
  /** Requests outstanding on average between the first request and the last answer. */
  meanOutstanding: number;
  /** Requests outstanding every 250 ms from the first request on (the last 400 samples). */
  timeline: number[];
}

export interface FakeEngine {
  url: string;
  stats(): FakeEngineStats;
  reset(): void;
  close(): Promise<void>;
}

/** Epoch milliseconds with sub-millisecond precision, comparable across processes. */
export const preciseNow = (): number => performance.timeOrigin + performance.now();

const fresh = (): FakeEngineStats => ({
  received: 0,
  answered: 0,
  refused: 0,
  maxOutstanding: 0,
  maxRunning: 0,
  connections: 0,
  firstRequestAt: null,
  lastAnswerAt: null,
  meanOutstanding: 0,
  timeline: [],
});

export async function startFakeEngine(opts: FakeEngineOptions): Promise<FakeEngine> {
  let stats = fresh();
  let outstanding = 0;
  /** The integral of `outstanding` over time (request-milliseconds) since the first request. */
  let area = 0;
  let changedAt = 0;
  const change = (by: number) => {
    const now = preciseNow();
    if (stats.firstRequestAt !== null) area += outstanding * (now - changedAt);
    changedAt = now;
    outstanding += by;
  };
  let running = 0;
  const waiting: (() => void)[] = [];
  let waitingHead = 0;

  const meanOf = () => {
    const span = (stats.lastAnswerAt ?? 0) - (stats.firstRequestAt ?? 0);
    return span > 0 ? Number((area / span).toFixed(1)) : 0;
  };

  const json = (res: ServerResponse, status: number, body: unknown) => {
    const text = JSON.stringify(body);
    res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
    res.end(text);
  };

  const answer = (res: ServerResponse, body: string) => {
    let model = 'fake-engine';
    try {
      const parsed = JSON.parse(body) as { model?: unknown };
      if (typeof parsed.model === 'string') model = parsed.model;
    } catch {
      return json(res, 400, {
        error: { message: 'invalid JSON body', type: 'invalid_request_error', param: null, code: null },
      });
    }
    stats.answered += 1;
    json(res, 200, {
      id: `chatcmpl-fake${stats.answered}`,
      object: 'chat.completion',
      created: 1_700_000_000,
      model,
      choices: [
        {
          index: 0,
          message: { role: 'assistant', content: 'FAKE ENGINE reply', refusal: null },
          logprobs: null,
          finish_reason: 'stop',
        },
      ],
      usage: { prompt_tokens: 8, completion_tokens: 3, total_tokens: 11 },
    });
  };

  const run = (res: ServerResponse, body: string) => {
    running += 1;
    if (running > stats.maxRunning) stats.maxRunning = running;
    setTimeout(() => {
      answer(res, body);
      stats.lastAnswerAt = preciseNow();
      running -= 1;
      change(-1);
      if (waitingHead < waiting.length) {
        const next = waiting[waitingHead] as () => void;
        waiting[waitingHead] = () => {};
        waitingHead += 1;
        if (waitingHead > 1024 && waitingHead * 2 > waiting.length) {
          waiting.splice(0, waitingHead);
          waitingHead = 0;
        }
        next();
      }
    }, opts.latencyMs);
  };

  const engineRequest = (req: IncomingMessage, res: ServerResponse, body: string) => {
    stats.received += 1;
    if (stats.firstRequestAt === null) {
      stats.firstRequestAt = preciseNow();
      const sampled = stats;
      const sampler = setInterval(() => {
        if (stats !== sampled || (outstanding === 0 && sampled.timeline.length > 0))
          return clearInterval(sampler);
        sampled.timeline.push(outstanding);
        if (sampled.timeline.length > 400) sampled.timeline.shift();
      }, 250);
      sampler.unref();
      area = 0;
      changedAt = stats.firstRequestAt;
    }
    if (running >= opts.capacity && opts.overflow === 'refuse') {
      stats.refused += 1;
      return json(res, 429, {
        error: { message: 'The engine is at capacity', type: 'rate_limit_error', param: null, code: null },
      });
    }
    change(1);
    if (outstanding > stats.maxOutstanding) stats.maxOutstanding = outstanding;
    if (running < opts.capacity) run(res, body);
    else waiting.push(() => run(res, body));
    void req;
  };

  const server = createServer((req, res) => {
    const parts: Buffer[] = [];
    req.on('data', (d: Buffer) => parts.push(d));
    req.on('end', () => {
      const body = Buffer.concat(parts).toString('utf8');
      if (req.url === '/__fake/stats') return json(res, 200, { ...stats, meanOutstanding: meanOf() });
      if (req.url === '/__fake/reset') {
        stats = fresh();
        return json(res, 200, { ok: true });
      }
      if (req.method !== 'POST' || !req.url?.startsWith('/v1/'))
        return json(res, 404, {
          error: { message: `no route ${req.url}`, type: 'invalid_request_error', param: null, code: null },
        });
      engineRequest(req, res, body);
    });
  });
  // Clients keep connections open between requests; the server must not close them first.
  server.keepAliveTimeout = 120_000;
  server.headersTimeout = 125_000;
  server.on('connection', () => {
    stats.connections += 1;
  });
  await new Promise<void>((r) => server.listen(opts.port ?? 0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    stats: () => ({ ...stats, meanOutstanding: meanOf() }),
    reset: () => {
      stats = fresh();
    },
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

if (process.argv[1] && resolve(process.argv[1]) === resolve(import.meta.dirname, 'fake-engine-server.ts')) {
  const arg = (name: string, fallback: string) => {
    const i = process.argv.indexOf(`--${name}`);
    return i > 0 ? (process.argv[i + 1] ?? fallback) : fallback;
  };
  const engine = await startFakeEngine({
    latencyMs: Number(arg('latency', '200')),
    capacity: Number(arg('capacity', '64')),
    overflow: arg('overflow', 'queue') === 'refuse' ? 'refuse' : 'queue',
    port: Number(arg('port', '0')),
  });
  process.stdout.write(`${JSON.stringify({ url: engine.url, pid: process.pid })}\n`);
  const bye = () => void engine.close().then(() => process.exit(0));
  process.stdin.on('end', bye);
  process.stdin.on('close', bye);
  process.stdin.resume();
  process.on('SIGTERM', bye);
}
