import { createServer, type IncomingHttpHeaders, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { HttpEngine } from '../../../../../gpu-worker/src/engine/http-engine.js';

interface Seen {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  body: string;
}

let server: Server;
let base: string;
let connections = 0;
const seen: Seen[] = [];
/** Responses still open (hanging routes), closed when the suite ends. */
const open = new Set<ServerResponse>();

const routes: Record<string, (res: ServerResponse, body: string) => void> = {
  '/v1/chat/completions': (res, body) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ id: 'chatcmpl-1', object: 'chat.completion', echo: JSON.parse(body) }));
  },
  '/prefix/v1/chat/completions': (res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end('{"routed":"prefix"}');
  },
  '/v1/overloaded': (res) => {
    res.writeHead(503, { 'content-type': 'application/json' });
    res.end('{"error":{"message":"overloaded","type":"server_error","param":null,"code":null}}');
  },
  '/v1/bad-request': (res) => {
    res.writeHead(400, { 'content-type': 'application/json' });
    res.end('{"error":{"message":"bad model","type":"invalid_request_error","param":"model","code":null}}');
  },
  '/v1/html': (res) => {
    res.writeHead(502, { 'content-type': 'text/html' });
    res.end('<html><body>Bad Gateway</body></html>');
  },
  '/v1/huge-text': (res) => {
    res.writeHead(500, { 'content-type': 'text/plain' });
    res.end('x'.repeat(5_000));
  },
  '/v1/empty': (res) => {
    res.writeHead(200);
    res.end();
  },
  '/v1/hang': (res) => {
    open.add(res);
  },
  '/v1/hang-body': (res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.write('{"partial":');
    open.add(res);
  },
};

beforeAll(async () => {
  server = createServer((req, res) => {
    const parts: Buffer[] = [];
    req.on('data', (d: Buffer) => parts.push(d));
    req.on('end', () => {
      const body = Buffer.concat(parts).toString('utf8');
      seen.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body });
      const route = routes[req.url ?? ''];
      if (route) return route(res, body);
      res.writeHead(404, { 'content-type': 'application/json' });
      res.end('{"error":{"message":"no route","type":"invalid_request_error","param":null,"code":null}}');
    });
  });
  server.on('connection', () => {
    connections += 1;
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  for (const res of open) res.destroy();
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

beforeEach(() => {
  seen.length = 0;
});

const engine = (url = base, options: { apiKey?: string; timeoutMs?: number } = {}) =>
  new HttpEngine(url, { timeoutMs: 5_000, ...options });

describe('HttpEngine', () => {
  it('POSTs the body as JSON to base URL + path and passes status and body through', async () => {
    const body = { model: 'llama-3', messages: [{ role: 'user', content: 'héllo €' }] };
    const res = await engine().send('/v1/chat/completions', body);
    expect(res).toEqual({ status: 200, body: { id: 'chatcmpl-1', object: 'chat.completion', echo: body } });
    expect(seen).toHaveLength(1);
    expect(seen[0]?.method).toBe('POST');
    expect(seen[0]?.url).toBe('/v1/chat/completions');
    expect(seen[0]?.headers['content-type']).toBe('application/json');
    expect(JSON.parse(seen[0]?.body ?? '')).toEqual(body);
  });

  it.each(['', '/', '/v1', '/v1/', '//', '/v1//'])(
    'treats the base URL with suffix %j as the same server root',
    async (suffix) => {
      const res = await engine(`${base}${suffix}`).send('/v1/chat/completions', { model: 'm' });
      expect(res.status).toBe(200);
      expect(seen.map((s) => s.url)).toEqual(['/v1/chat/completions']);
    },
  );

  it('keeps a path prefix in the base URL', async () => {
    const res = await engine(`${base}/prefix/v1`).send('/v1/chat/completions', { model: 'm' });
    expect(res).toEqual({ status: 200, body: { routed: 'prefix' } });
    expect(seen[0]?.url).toBe('/prefix/v1/chat/completions');
  });

  it('sends Authorization: Bearer when an API key is set', async () => {
    await engine(base, { apiKey: 'engine-secret' }).send('/v1/chat/completions', { model: 'm' });
    expect(seen[0]?.headers.authorization).toBe('Bearer engine-secret');
  });

  it('sends no Authorization header without an API key', async () => {
    await engine().send('/v1/chat/completions', { model: 'm' });
    await engine(base, { apiKey: '' }).send('/v1/chat/completions', { model: 'm' });
    expect(seen.map((s) => s.headers.authorization)).toEqual([undefined, undefined]);
  });

  it.each([
    [
      '/v1/overloaded',
      503,
      { error: { message: 'overloaded', type: 'server_error', param: null, code: null } },
    ],
    [
      '/v1/bad-request',
      400,
      { error: { message: 'bad model', type: 'invalid_request_error', param: 'model', code: null } },
    ],
    [
      '/v1/unknown',
      404,
      { error: { message: 'no route', type: 'invalid_request_error', param: null, code: null } },
    ],
  ])('passes an error status and JSON body through unchanged (%s)', async (path, status, body) => {
    expect(await engine().send(path, { model: 'm' })).toEqual({ status, body });
  });

  it('wraps a non-JSON body in an OpenAI-shaped engine_error, keeping the status', async () => {
    expect(await engine().send('/v1/html', { model: 'm' })).toEqual({
      status: 502,
      body: {
        error: {
          message: '<html><body>Bad Gateway</body></html>',
          type: 'engine_error',
          param: null,
          code: null,
        },
      },
    });
  });

  it('truncates a long non-JSON body to 2,000 characters', async () => {
    const res = await engine().send('/v1/huge-text', { model: 'm' });
    expect(res.status).toBe(500);
    expect((res.body as { error: { message: string } }).error.message).toBe('x'.repeat(2_000));
  });

  it('returns a null body for an empty response', async () => {
    expect(await engine().send('/v1/empty', { model: 'm' })).toEqual({ status: 200, body: null });
  });

  it('aborts with a TimeoutError when the engine does not answer within timeoutMs', async () => {
    const started = Date.now();
    const error = await engine(base, { timeoutMs: 150 })
      .send('/v1/hang', { model: 'm' })
      .then(
        () => undefined,
        (err: unknown) => err as Error,
      );
    expect(error?.name).toBe('TimeoutError');
    expect(Date.now() - started).toBeLessThan(3_000);
  });

  it('aborts with a TimeoutError when the body stops arriving', async () => {
    await expect(
      engine(base, { timeoutMs: 150 }).send('/v1/hang-body', { model: 'm' }),
    ).rejects.toMatchObject({
      name: 'TimeoutError',
    });
  });

  it("aborts when the caller's signal aborts, before the timeout", async () => {
    const controller = new AbortController();
    const pending = engine(base, { timeoutMs: 60_000 }).send('/v1/hang', { model: 'm' }, controller.signal);
    setTimeout(() => controller.abort(new Error('spot interruption')), 50);
    await expect(pending).rejects.toThrow('spot interruption');
  });

  it('does not send at all when the signal is already aborted', async () => {
    const controller = new AbortController();
    controller.abort(new Error('stopped'));
    await expect(engine().send('/v1/chat/completions', { model: 'm' }, controller.signal)).rejects.toThrow(
      'stopped',
    );
    expect(seen).toHaveLength(0);
  });

  it('rejects when nothing listens at the base URL', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    await expect(engine(`http://127.0.0.1:${port}`).send('/v1/chat/completions', {})).rejects.toThrow();
  });

  it('keeps connections alive: requests one after another reuse a few connections, not one each', async () => {
    const e = engine();
    const before = connections;
    for (let i = 0; i < 100; i++)
      expect((await e.send('/v1/chat/completions', { model: 'm' })).status).toBe(200);
    // The pool may open another connection while the last one is still marked busy; never one a request.
    expect(connections - before).toBeLessThanOrEqual(4);
    await e.close();
  });

  it('opens at most `connections` connections, however many requests are in flight', async () => {
    const e = new HttpEngine(base, { timeoutMs: 5_000, connections: 3 });
    const before = connections;
    const answers = await Promise.all(
      Array.from({ length: 30 }, () => e.send('/v1/chat/completions', { model: 'm' })),
    );
    expect(answers.every((a) => a.status === 200)).toBe(true);
    expect(connections - before).toBeLessThanOrEqual(3);
    await e.close();
  });
});
